"""Finding one past job: its description, its launcher tags, and the record and configs its launch left in S3.

A job launched by this tool carries the ``sm-launcher:*`` tags and keeps ``config/record.json`` under its S3
prefix (see job_plan.py); any other training job can still be found, without a record. Anyone with the
bucket can overwrite a record, so it is parsed here, once, into a mapping or a note on why it is unusable,
and its fields are read through ``record_value``, which tolerates any shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sagemaker_container.sagemaker_contract.names import (
    RECORD_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors, is_not_found
from sagemaker_launcher.aws.training_jobs import SETTLE_SECONDS, TRAINING_JOB, describe_settled
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.spec.layout import OUTPUT_ARCHIVE, TAG_CONFIG, created_recently, split_s3_uri

# A record or resolved config larger than this is not read: a launch writes a few kilobytes (the diff
# in a record is cut at 200,000 characters).
MAX_RECORDED_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class JobInfo:
    """A training job as SageMaker describes it, with the launcher's tags and record when it has them."""

    name: str
    description: dict[str, Any]
    tags: dict[str, str]
    record: dict[str, Any] | None
    # Why the record that is there cannot be used (not JSON, not an object, ...); None otherwise.
    record_problem: str | None = None

    @property
    def status(self) -> str:
        return self.description.get("TrainingJobStatus", "Unknown")

    @property
    def config_uri(self) -> str | None:
        """``s3://.../JOB/config/`` from the launcher's tag; None for jobs this tool did not launch."""
        return self.tags.get(TAG_CONFIG)

    @property
    def model_uri(self) -> str | None:
        return self.description.get("ModelArtifacts", {}).get("S3ModelArtifacts")

    @property
    def output_uri(self) -> str | None:
        """Where SageMaker puts ``output.tar.gz`` (what the training wrote to its output data folder)."""
        base = self.description.get("OutputDataConfig", {}).get("S3OutputPath")
        return f"{base.rstrip('/')}/{self.name}/output/{OUTPUT_ARCHIVE}" if base else None


def describe_job(sagemaker: Any, job: str) -> dict[str, Any]:
    """DescribeTrainingJob, with a clear message for an unknown job or a missing permission."""
    # A job launched a moment ago may be "not found" for a moment; a mistyped old name fails at once.
    settle = SETTLE_SECONDS if created_recently(job) else 0.0
    with aws_errors(f"Describing training job {job}", "sagemaker:DescribeTrainingJob", job):
        description = describe_settled(sagemaker, TRAINING_JOB, job, settle)
    if description is None:
        raise LauncherError(
            f"No training job named '{job}' in region {sagemaker.meta.region_name}. Check the name "
            f"with '{CLI_COMMAND} list --all', or pass --region if the job ran in another region."
        )
    return description


def find_job(job: str, region: str | None, details: bool = True) -> JobInfo:
    """Describe ``job`` and, with ``details``, read its launcher tags and its record."""
    sagemaker = aws_client("sagemaker", region)
    description = describe_job(sagemaker, job)
    if not details:
        return JobInfo(job, description, {}, None)
    with aws_errors(f"Reading the tags of training job {job}", "sagemaker:ListTags", job):
        pages = sagemaker.get_paginator("list_tags").paginate(ResourceArn=description["TrainingJobArn"])
        tags = {tag["Key"]: tag["Value"] for page in pages for tag in page.get("Tags", [])}
    config_uri = tags.get(TAG_CONFIG)
    if not config_uri:
        return JobInfo(job, description, tags, None)
    uri = config_uri + RECORD_FILE
    record, problem = parse_record(read_s3_bytes(aws_client("s3", region), uri), uri)
    return JobInfo(job, description, tags, record, problem)


def s3_body(s3: Any, uri: str) -> Any:
    """The streaming body of one S3 object, or None when it does not exist.

    Call it inside ``aws_errors`` (as ``read_s3_bytes`` does) so other failures read clearly.
    """
    bucket, key = split_s3_uri(uri)
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as error:
        if is_not_found(error):
            return None
        raise


def read_s3_bytes(s3: Any, uri: str) -> bytes | None:
    """At most ``MAX_RECORDED_BYTES + 1`` bytes of one S3 object (one more tells that it was cut), or None
    when it does not exist."""
    with aws_errors(f"Reading {uri}", "s3:GetObject"):
        body = s3_body(s3, uri)
        if body is None:
            return None
        with body:
            return body.read(MAX_RECORDED_BYTES + 1)


def read_s3_text(s3: Any, uri: str) -> str | None:
    """The UTF-8 text of one recorded S3 object, or None when it does not exist.

    Raises ``LauncherError`` when the object is larger than a launch writes or is not UTF-8 text.
    """
    data = read_s3_bytes(s3, uri)
    if data is None:
        return None
    problem = _size_problem(data) or _utf8_problem(data)
    if problem:
        raise LauncherError(f"{uri} {problem}, so it is not a config this tool recorded.")
    return data.decode("utf-8")


def parse_record(data: bytes | None, uri: str) -> tuple[dict[str, Any] | None, str | None]:
    """A record.json as a mapping, or None and a note on why it is unusable (None, None when absent)."""
    if data is None:
        return None, None
    problem = _size_problem(data) or _utf8_problem(data)
    if problem is None:
        try:
            record = json.loads(data.decode("utf-8"))
        except ValueError as error:
            problem = f"is not valid JSON ({error})"
        except RecursionError:
            problem = "is not usable JSON (nested too deeply)"
        else:
            if isinstance(record, dict):
                return record, None
            problem = f"holds a JSON {type(record).__name__}, not an object"
    return None, f"The record {uri} {problem}."


def _size_problem(data: bytes) -> str | None:
    return f"is larger than {MAX_RECORDED_BYTES} bytes" if len(data) > MAX_RECORDED_BYTES else None


def _utf8_problem(data: bytes) -> str | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"is not UTF-8 text (byte {error.start})"
    return None


def record_value(record: dict[str, Any] | None, *keys: str) -> Any:
    """The value at ``keys`` in a record (``"git", "dirty"``), or None where a level is missing or not an
    object: a hand-edited or damaged record may hold anything anywhere."""
    value: Any = record
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def record_text(record: dict[str, Any] | None, *keys: str) -> str:
    """A record field as text: a string, number or boolean as it is, anything else (missing, a list, an
    object) as ``""``."""
    value = record_value(record, *keys)
    return str(value) if isinstance(value, str | int | float) else ""


def no_record_note(info: JobInfo) -> str | None:
    """Why a job has no usable record, or None when it has one."""
    if info.record is not None:
        return None
    if info.record_problem:
        return info.record_problem
    if not info.config_uri:
        return (
            f"Job {info.name} was not launched by this tool (it has no '{TAG_CONFIG}' tag), so it has no "
            "record or resolved configs."
        )
    return f"Job {info.name} names {info.config_uri} as its config location, but no {RECORD_FILE} is there."


def recorded_configs(info: JobInfo, region: str | None) -> dict[str, str | None]:
    """The two resolved YAML texts a launch recorded, by file name (None where missing)."""
    s3 = aws_client("s3", region)
    base = info.config_uri or ""
    return {name: read_s3_text(s3, base + name) for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE)}
