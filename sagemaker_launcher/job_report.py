"""The ``show`` command's text: status and timings, the launch record, resolved configs, final metrics and
artifact locations.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws_errors import aws_client, aws_errors
from sagemaker_launcher.job_lookup import JobInfo, no_record_note, recorded_configs, s3_body
from sagemaker_launcher.job_plan import RECORD_FILE, SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE
from sagemaker_launcher.job_timing import duration_seconds, format_seconds, format_when, spot_savings

METRICS_FILE = "metrics.json"
# metrics.json larger than this is not read from output.tar.gz.
_MAX_METRICS_BYTES = 10 * 1024 * 1024


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
    with aws_errors(f"Reading {uri}", "s3:GetObject"):
        body = s3_body(s3, uri)
        if body is None:
            return None
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
            lines.append(f"  {label + ':':<15} {format_when(d[key])}")
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
