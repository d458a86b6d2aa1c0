"""Past jobs: find, list, describe, stop and fetch them, reading the tags and record a launch left.

boto3 only, imported inside functions: listing must not pay for the SageMaker SDK. A job launched by
this tool carries the ``sm-launcher:*`` tags and keeps ``config/record.json`` under its S3 prefix
(see job_plan.py); any other training job can still be shown, followed and stopped, without a record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.job_plan import (
    RECORD_FILE,
    SAGEMAKER_CONFIG_FILE,
    TAG_CONFIG,
    TAG_EXPERIMENT,
    TAG_GIT_COMMIT,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.storage import split_s3_uri

ENDED_STATUSES = frozenset({"Completed", "Failed", "Stopped"})
OUTPUT_ARCHIVE = "output.tar.gz"
METRICS_FILE = "metrics.json"
# Search returns at most 100 jobs a page; pages come newest first.
_SEARCH_PAGE_SIZE = 100
# Parallel S3 reads of the records of the listed jobs.
_RECORD_READERS = 16
# metrics.json larger than this is not read from output.tar.gz.
_MAX_METRICS_BYTES = 10 * 1024 * 1024
_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    }
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_CLI = "python run_sagemaker_job.py"


# ---------------------------------------------------------------------------------------------- #
# AWS clients and errors
# ---------------------------------------------------------------------------------------------- #
def aws_client(service: str, region: str | None) -> Any:
    """A boto3 client with room for the parallel reads below; honours AWS_ENDPOINT_URL."""
    import boto3
    from botocore.config import Config

    with aws_errors(f"Creating a {service} client", None):
        return boto3.client(
            service, region_name=region or None, config=Config(max_pool_connections=_RECORD_READERS)
        )


@contextmanager
def aws_errors(action: str, permission: str | None, job: str | None = None) -> Iterator[None]:
    """Turn botocore failures inside the block into one-paragraph ``LauncherError`` messages.

    ``action`` says what was being done ("Describing job X"), ``permission`` the IAM action it needs.
    """
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except ClientError as error:
        raise LauncherError(client_error_message(error, action, permission, job)) from None
    except NoRegionError:
        raise LauncherError(
            f"{action}: no AWS region is set. Pass --region (e.g. --region us-east-1), or set "
            "AWS_DEFAULT_REGION or 'region' in your AWS config profile."
        ) from None
    except (NoCredentialsError, PartialCredentialsError):
        raise LauncherError(
            f"{action}: no AWS credentials found. Run 'aws configure' or 'aws sso login', or set "
            "AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        ) from None
    except EndpointConnectionError as error:
        raise LauncherError(
            f"{action}: could not reach the AWS endpoint ({error}). Check the network, the region and "
            "AWS_ENDPOINT_URL if you set one."
        ) from None


def client_error_message(error: Any, action: str, permission: str | None, job: str | None) -> str:
    """One botocore ``ClientError`` in words: a missing permission, a server error, or AWS's message."""
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    message = str(info.get("Message", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # An error body in a protocol botocore did not expect arrives whole in the message.
    inner_code, inner_message = (
        re.search(r"<Code>(.*?)</Code>", message),
        re.search(r"<Message>(.*?)</Message>", message),
    )
    if inner_code:
        code, message = inner_code.group(1), inner_message.group(1) if inner_message else ""
    if code in _CREDENTIAL_CODES:
        return (
            f"{action}: AWS rejected your credentials ({code}: {message}). Refresh them ('aws sso login', "
            "or new keys) or choose another profile with AWS_PROFILE."
        )
    if code in _DENIED_CODES:
        needed = f"the '{permission}' permission" if permission else "a permission"
        if job and permission and permission.startswith("sagemaker:"):
            needed += f" on training job {job}"
        return (
            f"{action} was denied: your AWS identity lacks {needed}. "
            f"Ask an account administrator to grant {permission or 'it'} in your IAM policy, or use a "
            f"profile that has it. AWS said: {message or code}"
        )
    if (isinstance(status, int) and status >= 500) or (code.isdigit() and int(code) >= 500):
        return (
            f"{action} failed: the service answered HTTP {status or code} (an error on its side, not in "
            "your request), so whether it took effect is unknown. Check the job with "
            f"'{_CLI} show {job or 'JOB'}' and try again."
        )
    return f"{action} failed: {code}: {_one_line(message)}"


def _one_line(text: str, limit: int = 400) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------- #
# One job
# ---------------------------------------------------------------------------------------------- #
@dataclass(frozen=True)
class JobInfo:
    """A training job as SageMaker describes it, with the launcher's tags and record when it has them."""

    name: str
    description: dict[str, Any]
    tags: dict[str, str]
    record: dict[str, Any] | None

    @property
    def status(self) -> str:
        return self.description.get("TrainingJobStatus", "Unknown")

    @property
    def config_uri(self) -> str | None:
        """``s3://.../JOB/config/`` from the launcher's tag; None for jobs this tool did not launch."""
        return self.tags.get(TAG_CONFIG)

    @property
    def launched_here(self) -> bool:
        return TAG_EXPERIMENT in self.tags

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
    from botocore.exceptions import ClientError

    with aws_errors(f"Describing training job {job}", "sagemaker:DescribeTrainingJob", job):
        try:
            return sagemaker.describe_training_job(TrainingJobName=job)
        except ClientError as error:
            info = error.response.get("Error", {})
            if (
                info.get("Code") == "ValidationException"
                and "not find" in str(info.get("Message", "")).lower()
            ):
                raise LauncherError(
                    f"No training job named '{job}' in region {sagemaker.meta.region_name}. Check the name "
                    f"with '{_CLI} list --all', or pass --region if the job ran in another region."
                ) from None
            raise


def find_job(job: str, region: str | None, details: bool = True) -> JobInfo:
    """Describe ``job`` and, with ``details``, read its launcher tags and its record."""
    sagemaker = aws_client("sagemaker", region)
    description = describe_job(sagemaker, job)
    if not details:
        return JobInfo(job, description, {}, None)
    with aws_errors(f"Reading the tags of training job {job}", "sagemaker:ListTags", job):
        pages = sagemaker.get_paginator("list_tags").paginate(ResourceArn=description["TrainingJobArn"])
        tags = {tag["Key"]: tag["Value"] for page in pages for tag in page.get("Tags", [])}
    record = None
    config_uri = tags.get(TAG_CONFIG)
    if config_uri:
        record_text = read_s3_text(aws_client("s3", region), config_uri + RECORD_FILE)
        record = json.loads(record_text) if record_text is not None else None
    return JobInfo(job, description, tags, record)


def read_s3_text(s3: Any, uri: str) -> str | None:
    """The text of one S3 object, or None when it does not exist."""
    from botocore.exceptions import ClientError

    bucket, key = split_s3_uri(uri)
    with aws_errors(f"Reading {uri}", "s3:GetObject"):
        try:
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return None
            raise


def no_record_note(info: JobInfo) -> str | None:
    """Why a job has no record, or None when it has one."""
    if info.record is not None:
        return None
    if not info.config_uri:
        return (
            f"Job {info.name} was not launched by this tool (it has no '{TAG_CONFIG}' tag), so it has no "
            "record or resolved configs."
        )
    return f"Job {info.name} names {info.config_uri} as its config location, but no {RECORD_FILE} is there."


# ---------------------------------------------------------------------------------------------- #
# Listing
# ---------------------------------------------------------------------------------------------- #
@dataclass(frozen=True)
class JobRow:
    """One line of ``list``."""

    name: str
    experiment: str
    status: str
    instances: str
    spot_saved: str
    duration: str
    launched_by: str
    commit: str


def list_jobs(
    region: str | None, limit: int, experiment: str | None, status: str | None, include_all: bool
) -> tuple[list[JobRow], list[str]]:
    """The newest ``limit`` jobs matching the filters, and notes on what could not be read.

    One Search call returns a page of 100 jobs with their tags and timings, so the cost is one call per
    100 jobs plus one parallel S3 read per row shown (for who launched it).
    """
    sagemaker = aws_client("sagemaker", region)
    filters = []
    if status:
        filters.append({"Name": "TrainingJobStatus", "Operator": "Equals", "Value": status})
    if experiment:
        filters.append({"Name": f"Tags.{TAG_EXPERIMENT}", "Operator": "Equals", "Value": experiment})
    request: dict[str, Any] = {
        "Resource": "TrainingJob",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": _SEARCH_PAGE_SIZE,
    }
    if filters:
        request["SearchExpression"] = {"Filters": filters}

    def wanted(job: dict[str, Any]) -> bool:
        # The filters are checked again here: some endpoints apply only part of a search expression.
        tags = _tag_map(job)
        return (
            (include_all or TAG_EXPERIMENT in tags or bool(experiment))
            and (not experiment or tags.get(TAG_EXPERIMENT) == experiment)
            and (not status or job.get("TrainingJobStatus") == status)
        )

    jobs: list[dict[str, Any]] = []
    with aws_errors("Listing training jobs", "sagemaker:Search"):
        for page in sagemaker.get_paginator("search").paginate(**request):
            jobs += [
                r["TrainingJob"]
                for r in page.get("Results", [])
                if "TrainingJob" in r and wanted(r["TrainingJob"])
            ]
            if len(jobs) >= limit:
                break
    jobs.sort(key=lambda job: job.get("CreationTime") or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    jobs = jobs[:limit]
    records, notes = _read_records(aws_client("s3", region), [_tag_map(job).get(TAG_CONFIG) for job in jobs])
    return [_row(job, record) for job, record in zip(jobs, records, strict=True)], notes


def _tag_map(job: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in job.get("Tags", [])}


def _read_records(s3: Any, config_uris: list[str | None]) -> tuple[list[dict[str, Any] | None], list[str]]:
    """Read the records of the listed jobs in parallel; a failed read leaves a blank and a note."""
    notes: list[str] = []

    def read(uri: str | None) -> dict[str, Any] | None:
        if not uri:
            return None
        try:
            text = read_s3_text(s3, uri + RECORD_FILE)
        except LauncherError as error:
            notes.append(error.message)
            return None
        return json.loads(text) if text else None

    if not any(config_uris):
        return [None] * len(config_uris), notes
    with ThreadPoolExecutor(max_workers=min(_RECORD_READERS, len(config_uris))) as pool:
        records = list(pool.map(read, config_uris))
    return records, sorted(set(notes))[:3]


def _row(job: dict[str, Any], record: dict[str, Any] | None) -> JobRow:
    tags = _tag_map(job)
    resources = job.get("ResourceConfig", {})
    commit = tags.get(TAG_GIT_COMMIT, "")
    commit = "" if commit == "none" else commit[:8]
    if commit and record and record.get("git", {}).get("dirty"):
        commit += "+dirty"
    who = (record or {}).get("launched_by", {}).get("user") or ""
    return JobRow(
        name=job.get("TrainingJobName", ""),
        experiment=tags.get(TAG_EXPERIMENT, ""),
        status=job.get("TrainingJobStatus", ""),
        instances=f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}",
        spot_saved=spot_savings(job) or "",
        duration=format_seconds(duration_seconds(job)),
        launched_by=who,
        commit=commit,
    )


def format_table(rows: list[JobRow]) -> str:
    """Rows as aligned columns under a header."""
    header = ("JOB", "EXPERIMENT", "STATUS", "INSTANCES", "SPOT SAVED", "DURATION", "LAUNCHED BY", "COMMIT")
    lines = [header, *[tuple(_or_dash(value) for value in vars(row).values()) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _or_dash(value: str) -> str:
    return value or "-"


def spot_savings(job: dict[str, Any]) -> str | None:
    """``"70%"``: how much less was billed than trained, for spot jobs that report both times."""
    billable, trained = job.get("BillableTimeInSeconds"), job.get("TrainingTimeInSeconds")
    if not job.get("EnableManagedSpotTraining") or billable is None or not trained:
        return None
    return f"{max(0.0, 1 - billable / trained):.0%}"


def duration_seconds(job: dict[str, Any]) -> float | None:
    """Seconds trained: the service's count, else end minus start, else (still running) now minus start."""
    if job.get("TrainingTimeInSeconds") is not None:
        return float(job["TrainingTimeInSeconds"])
    start = job.get("TrainingStartTime")
    if start is None:
        return None
    end = job.get("TrainingEndTime")
    if end is None and job.get("TrainingJobStatus") in ("InProgress", "Stopping"):
        end = dt.datetime.now(dt.UTC)
    return (end - start).total_seconds() if end else None


def format_seconds(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``12s``; empty when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


# ---------------------------------------------------------------------------------------------- #
# show
# ---------------------------------------------------------------------------------------------- #
def recorded_configs(info: JobInfo, region: str | None) -> dict[str, str | None]:
    """The two resolved YAML texts a launch recorded, by file name (None where missing)."""
    s3 = aws_client("s3", region)
    base = info.config_uri or ""
    return {name: read_s3_text(s3, base + name) for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE)}


def final_metrics(info: JobInfo, region: str | None) -> tuple[dict[str, float], str]:
    """Final metrics and their source: describe's FinalMetricDataList, else metrics.json in output.tar.gz."""
    listed = info.description.get("FinalMetricDataList") or []
    if listed:
        return {item["MetricName"]: item["Value"] for item in listed}, "FinalMetricDataList"
    if not info.output_uri:
        return {}, ""
    data = _metrics_from_output(aws_client("s3", region), info.output_uri)
    if not data:
        return {}, ""
    final = data.get("final", data) if isinstance(data, dict) else {}
    values = {key: value for key, value in final.items() if isinstance(value, int | float)}
    return values, f"{METRICS_FILE} in {info.output_uri}"


def _metrics_from_output(s3: Any, uri: str) -> Any:
    """Stream output.tar.gz until its metrics.json; None when the archive or the file is absent."""
    from botocore.exceptions import ClientError

    bucket, key = split_s3_uri(uri)
    with aws_errors(f"Reading {uri}", "s3:GetObject"):
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return None
            raise
        try:
            with tarfile.open(fileobj=body, mode="r|gz") as archive:
                for member in archive:
                    if (
                        Path(member.name).name == METRICS_FILE
                        and member.isfile()
                        and member.size <= _MAX_METRICS_BYTES
                    ):
                        handle = archive.extractfile(member)
                        return json.loads(handle.read().decode("utf-8")) if handle else None
        except (tarfile.TarError, OSError, ValueError):
            return None
    return None


def show_lines(info: JobInfo, region: str | None, with_configs: bool) -> list[str]:
    """Everything ``show`` prints, section by section."""
    lines = [*describe_lines(info), "", *record_lines(info)]
    if info.config_uri:
        lines += ["", "Resolved configs:"]
        texts = recorded_configs(info, region) if with_configs else {}
        for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE):
            lines.append(f"  {info.config_uri}{name}")
            if with_configs:
                text = texts.get(name)
                lines += [f"    {line}" for line in text.splitlines()] if text else ["    (missing)"]
    metrics, source = final_metrics(info, region)
    lines.append("")
    if metrics:
        lines.append(f"Final metrics (from {source}):")
        lines += [f"  {name}: {value:g}" for name, value in metrics.items()]
    else:
        lines.append("Final metrics: none (no FinalMetricDataList, no metrics.json in output.tar.gz).")
    return [*lines, "", *artifact_lines(info)]


def configs_to_reproduce(job: str, region: str | None) -> tuple[JobInfo, str, str]:
    """The job and the two resolved YAML texts it recorded; an error if it has none to reproduce from."""
    info = find_job(job, region)
    if not info.config_uri:
        raise LauncherError(f"Cannot reproduce: {no_record_note(info)}")
    texts = recorded_configs(info, region)
    missing = [name for name, text in texts.items() if text is None]
    if missing:
        raise LauncherError(
            f"Cannot reproduce job {job}: {', '.join(missing)} is missing from {info.config_uri}. "
            "Only jobs whose resolved configs were recorded at launch can be reproduced."
        )
    return info, texts[SAGEMAKER_CONFIG_FILE] or "", texts[TRAINING_CONFIG_FILE] or ""


def code_drift_note(info: JobInfo, current_commit: str | None, source_dir: str) -> str | None:
    """A warning when the new job's uploaded code is not the code the recorded job ran."""
    if not source_dir or info.record is None:
        return None
    git = info.record.get("git", {})
    if git.get("commit") == current_commit and not git.get("dirty"):
        return None
    was = f"{git.get('commit')}{' with uncommitted changes' if git.get('dirty') else ''}"
    return (
        f"Note: SOURCE_DIR '{source_dir}' is uploaded from this checkout ({current_commit}), while job "
        f"{info.name} ran code from commit {was}. Check out that commit for an exact reproduction."
    )


def describe_lines(info: JobInfo) -> list[str]:
    """The status, timings and instance part of ``show``."""
    d = info.description
    resources = d.get("ResourceConfig", {})
    lines = [f"Job {info.name}: {info.status} ({d.get('SecondaryStatus', '')})".replace(" ()", "")]
    if d.get("FailureReason"):
        lines.append(f"  failure reason: {d['FailureReason']}")
    for label, key in (
        ("created", "CreationTime"),
        ("started", "TrainingStartTime"),
        ("ended", "TrainingEndTime"),
    ):
        if d.get(key):
            lines.append(f"  {label + ':':<15} {_when(d[key])}")
    duration = format_seconds(duration_seconds(d))
    if duration:
        lines.append(f"  {'trained:':<15} {duration}")
    if d.get("BillableTimeInSeconds") is not None:
        saved = spot_savings(d)
        billed = format_seconds(d["BillableTimeInSeconds"])
        lines.append(f"  {'billed:':<15} {billed}{f' (spot saved {saved})' if saved else ''}")
    spot = " on spot capacity" if d.get("EnableManagedSpotTraining") else ""
    instances = f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}"
    lines.append(f"  {'instances:':<15} {instances}{spot}")
    lines.append(f"  {'image:':<15} {d.get('AlgorithmSpecification', {}).get('TrainingImage', '?')}")
    return lines


def record_lines(info: JobInfo) -> list[str]:
    """The record part of ``show``: who, when, from which command and commit."""
    record = info.record
    if record is None:
        return [f"Record: none. {no_record_note(info)}"]
    by = record.get("launched_by", {})
    git = record.get("git", {})
    identity = f" ({by['aws_identity']})" if by.get("aws_identity") else ""
    dirty = git.get("dirty")
    lines = [
        f"Record ({info.config_uri}{RECORD_FILE}):",
        f"  {'experiment:':<15} {record.get('experiment')}",
        f"  {'launched by:':<15} {by.get('user')}@{by.get('host')}{identity}",
        f"  {'launched at:':<15} {record.get('launched_at')}",
        f"  {'command:':<15} {record.get('command_line')}",
        f"  {'git commit:':<15} {git.get('commit')} on {git.get('branch')}"
        + (", with uncommitted changes (the diff is in the record)" if dirty else ", clean"),
    ]
    if record.get("parent_job"):
        lines.append(f"  {'reproduces:':<15} {record['parent_job']}")
    return lines


def artifact_lines(info: JobInfo) -> list[str]:
    """Where the job's files are."""
    lines = ["Artifacts:"]
    if info.model_uri:
        lines.append(f"  {'model:':<15} {info.model_uri}")
    if info.output_uri:
        lines.append(f"  {'output:':<15} {info.output_uri}")
    checkpoints = info.description.get("CheckpointConfig", {}).get("S3Uri")
    if checkpoints:
        lines.append(f"  {'checkpoints:':<15} {checkpoints}")
    if info.config_uri:
        lines.append(f"  {'configs:':<15} {info.config_uri}")
    return lines


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


# ---------------------------------------------------------------------------------------------- #
# stop
# ---------------------------------------------------------------------------------------------- #
def stop_job(job: str, region: str | None) -> str:
    """Ask SageMaker to stop ``job``; returns what happened. An ended job is an error: nothing to stop."""
    sagemaker = aws_client("sagemaker", region)
    description = describe_job(sagemaker, job)
    status = description.get("TrainingJobStatus")
    if status in ENDED_STATUSES:
        ended = description.get("TrainingEndTime")
        raise LauncherError(
            f"Job {job} already ended with status {status}{f' at {_when(ended)}' if ended else ''}; there "
            f"is nothing to stop. See it with '{_CLI} show {job}'."
        )
    if status == "Stopping":
        return f"Job {job} is already stopping; it ends as Stopped once its instances shut down."
    with aws_errors(f"Stopping training job {job}", "sagemaker:StopTrainingJob", job):
        sagemaker.stop_training_job(TrainingJobName=job)
    return (
        f"Asked SageMaker to stop job {job}: it goes Stopping, then Stopped once the container has had "
        f"its SIGTERM grace period. Follow it with '{_CLI} logs {job} --follow'."
    )


# ---------------------------------------------------------------------------------------------- #
# fetch
# ---------------------------------------------------------------------------------------------- #
def fetch_artifacts(
    info: JobInfo, region: str | None, dest: Path, progress: Callable[[str, int], Any]
) -> list[tuple[str, Path]]:
    """Download model.tar.gz and output.tar.gz into ``dest/JOB/`` and unpack them safely there.

    ``progress(label, total_bytes)`` returns a context manager with ``update(n)`` (a tqdm bar).
    Returns ``(what, folder)`` for each archive unpacked; an archive that is not in S3 is skipped.
    """
    from sagemaker_launcher.archives import download_and_unpack

    s3 = aws_client("s3", region)
    job_dir = dest / info.name
    done = []
    for what, uri in (("model", info.model_uri), ("output", info.output_uri)):
        if not uri:
            continue
        target = job_dir / what
        if target.exists():
            raise LauncherError(
                f"{target} already exists. Remove it, or fetch into another folder with --dest."
            )
        with aws_errors(f"Downloading {uri}", "s3:GetObject"):
            if download_and_unpack(s3, uri, target, progress):
                done.append((what, target))
    if not done:
        raise LauncherError(
            f"Job {info.name} ({info.status}) has no model.tar.gz or output.tar.gz in S3 yet "
            f"(looked at {info.model_uri} and {info.output_uri}). SageMaker uploads them when the job ends."
        )
    return done
