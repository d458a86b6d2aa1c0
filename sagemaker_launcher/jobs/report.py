"""The ``show`` command's text: status and timings, the launch record, resolved configs, final metrics and
artifact locations.

Everything shown may have been written by someone else (a teammate's record, the training code's failure
reason and metrics), so odd shapes are tolerated and every line is made printable before it is returned.
"""

from __future__ import annotations

import json
import tarfile
from typing import Any

from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    METRICS_FILE,
    RECORD_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.archives import member_bytes
from sagemaker_launcher.jobs.local_runs import LocalRun
from sagemaker_launcher.jobs.lookup import (
    JobInfo,
    no_record_note,
    read_s3_text,
    record_text,
    record_value,
    s3_body,
)
from sagemaker_launcher.jobs.timing import (
    duration_seconds,
    format_seconds,
    format_when,
    spot_savings,
    stage_lines,
    warm_pool_line,
)
from sagemaker_launcher.spec.layout import OUTPUT_DIR
from sagemaker_launcher.terminal_text import printable, text_lines

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
    final = data.get("final", data) if isinstance(data, dict) else None
    if not isinstance(final, dict):
        return {}, ""
    values = {
        key: value
        for key, value in final.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return values, f"{METRICS_FILE} in {info.output_uri}"


def _metrics_from_output(s3: Any, uri: str) -> Any:
    """Stream output.tar.gz until its metrics.json; None when the archive or the file is absent."""
    with aws_errors(f"Reading {uri}", "s3:GetObject"):
        body = s3_body(s3, uri)
        if body is None:
            return None
        try:
            with tarfile.open(fileobj=body, mode="r|gz") as archive:
                data = member_bytes(archive, METRICS_FILE, _MAX_METRICS_BYTES)
            return json.loads(data.decode("utf-8")) if data else None
        except (tarfile.TarError, OSError, ValueError, RecursionError):
            return None


def show_lines(info: JobInfo, region: str | None, with_configs: bool) -> list[str]:
    """Everything ``show`` prints, section by section, one printable line per item."""
    lines = [*describe_lines(info), "", *record_lines(info)]
    if info.config_uri:
        lines += ["", "Resolved configs:"]
        s3 = aws_client("s3", region) if with_configs else None
        for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE):
            uri = info.config_uri + name
            lines.append(f"  {uri}")
            if s3 is not None:
                lines += [f"    {line}" for line in _config_lines(s3, uri)]
    metrics, source = final_metrics(info, region)
    lines.append("")
    if metrics:
        lines.append(f"Final metrics (from {source}):")
        lines += [f"  {name}: {value:g}" for name, value in metrics.items()]
    else:
        lines.append("Final metrics: none (no FinalMetricDataList, no metrics.json in output.tar.gz).")
    return [printable(line) for line in [*lines, "", *artifact_lines(info)]]


def _config_lines(s3: Any, uri: str) -> list[str]:
    """One recorded config's lines; a missing or unreadable one is a note in its place."""
    try:
        text = read_s3_text(s3, uri)
    except LauncherError as error:
        return [f"(not shown: {error.message})"]
    return text_lines(text) if text else ["(missing)"]


def describe_lines(info: JobInfo) -> list[str]:
    """The status, timings and instance part of ``show``."""
    d = info.description
    resources = d.get("ResourceConfig", {})
    lines = [f"Job {info.name}: {info.status} ({d.get('SecondaryStatus', '')})".replace(" ()", "")]
    if d.get("FailureReason"):
        first, *rest = text_lines(d["FailureReason"])
        lines += [f"  {'failure reason:':<15} {first}", *(f"  {'':<15} {line}" for line in rest)]
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
    pool = warm_pool_line(d)
    if pool:
        lines.append(f"  {'warm pool:':<15} {pool}")
    stages = stage_lines(d)
    if stages:
        lines += ["  where the time went:", *stages]
    return lines


def record_lines(info: JobInfo) -> list[str]:
    """The record part of ``show``: who, when, from which command and commit; '?' for what it lacks."""
    record = info.record
    if record is None:
        return [f"Record: {'unusable' if info.record_problem else 'none'}. {no_record_note(info)}"]

    def field(*keys: str) -> str:
        return record_text(record, *keys) or "?"

    identity = record_text(record, "launched_by", "aws_identity")
    lines = [
        f"Record ({info.config_uri}{RECORD_FILE}):",
        f"  {'experiment:':<15} {field('experiment')}",
        f"  {'launched by:':<15} {field('launched_by', 'user')}@{field('launched_by', 'host')}"
        + (f" ({identity})" if identity else ""),
        f"  {'launched at:':<15} {field('launched_at')}",
        f"  {'command:':<15} {field('command_line')}",
        f"  {'git commit:':<15} {field('git', 'commit')} on {field('git', 'branch')}{_changes(record)}",
    ]
    parent = record_text(record, "parent_job")
    if parent:
        lines.append(f"  {'reproduces:':<15} {parent}")
    return lines


def _changes(record: dict[str, Any]) -> str:
    """How the launch's checkout differed from its commit, as far as the record says."""
    dirty = record_value(record, "git", "dirty")
    if dirty is False:
        return ", clean"
    if dirty is not True:
        return ""
    redacted = record_value(record, "git", "diff_redacted_lines")
    if isinstance(redacted, int) and not isinstance(redacted, bool) and redacted > 0:
        return (
            f", with uncommitted changes (the diff is in the record, {redacted} credential-like lines "
            "redacted)"
        )
    return ", with uncommitted changes (the diff is in the record)"


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


def local_run_lines(run: LocalRun) -> list[str]:
    """What ``show`` prints of a local run: its status.json, its record, configs, final metrics and files."""
    status = run.status_file()
    lines = [f"Job {run.name}: {run.status} (local run in {run.folder})"]
    if run.failure_reason:
        first, *rest = text_lines(run.failure_reason)
        lines += [f"  {'failure reason:':<15} {first}", *(f"  {'':<15} {line}" for line in rest)]
    for label, key in (("started", "started_at"), ("ended", "ended_at")):
        if isinstance(status.get(key), str):
            lines.append(f"  {label + ':':<15} {status[key]}")
    record, problem = run.record()
    trained = format_seconds(run.duration_seconds(record))
    if trained:
        lines.append(f"  {'trained:':<15} {trained}")
    resources = run.request().get("ResourceConfig") or {}
    lines.append(
        f"  {'instances:':<15} {resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}"
    )
    hosts = status.get("hosts")
    if isinstance(hosts, dict):
        for host, result in sorted(hosts.items()):
            code = record_value(result, "exit_code") if isinstance(result, dict) else None
            lines.append(f"  {host + ':':<15} exit code {code if code is not None else '?'}")
    info = JobInfo(run.name, {}, run.tags, record, problem)
    lines += ["", *record_lines(info), "", "Resolved configs:"]
    lines += [
        f"  {run.folder / CONFIG_CHANNEL / name}" for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE)
    ]
    metrics = run.metrics()
    final = metrics.get("final") if isinstance(metrics, dict) else None
    numbers = {
        key: value
        for key, value in (final or {}).items()
        if isinstance(value, int | float) and key != "epoch"
    }
    lines.append("")
    if numbers:
        lines += [
            "Final metrics (from metrics.json):",
            *(f"  {name}: {value:g}" for name, value in numbers.items()),
        ]
    else:
        lines.append("Final metrics: none (no metrics.json).")
    lines += ["", "Artifacts:", f"  {'output:':<15} {run.folder / OUTPUT_DIR}"]
    return [printable(line) for line in lines]
