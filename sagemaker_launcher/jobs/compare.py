"""The ``compare`` command: what differs between jobs (config keys), how they ended (status, time,
cost, final metrics) and their metric curves, for SageMaker jobs and local runs alike.

A job's values are its resolved configs' leaves (``SOLVER.BASE_LR``) plus the hyperparameters they do
not already hold; only keys whose values differ between the jobs are shown. Jobs are read in parallel:
each SageMaker job costs a handful of calls (describe, tags, record, two configs, the output archive,
CloudWatch), so 20 jobs take about as long as the slowest few.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_container.sagemaker_contract.yaml_reading import RefusedYAML, parse, plain
from sagemaker_launcher.aws.clients import RECORD_READERS
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.local_runs import LocalRun, find_local_run
from sagemaker_launcher.jobs.metric_series import MetricSeries, definitions_of, local_series, sagemaker_series
from sagemaker_launcher.jobs.timing import duration_seconds, format_seconds, spot_savings
from sagemaker_launcher.spec.layout import TAG_CONFIG
from sagemaker_launcher.spec.request import DISTRIBUTION_HYPERPARAMETERS, SCRIPT_MODE_HYPERPARAMETERS
from sagemaker_launcher.terminal_text import printable

LOCAL = "local"
SAGEMAKER = "SageMaker"
HYPERPARAMETER_PREFIX = "hyperparameter:"
# Longest value shown in a table cell; --json has them whole.
_MAX_CELL = 40
_MISSING = "-"
CONFIG_FILES = (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE)
# What a request adds beside the job's own hyperparameters: the same for every job, never a difference.
_LAUNCH_HYPERPARAMETERS = frozenset({*SCRIPT_MODE_HYPERPARAMETERS, *DISTRIBUTION_HYPERPARAMETERS})


@dataclass
class ComparedJob:
    """One job as ``compare`` sees it."""

    name: str
    where: str
    # The run's folder, or the job's S3 prefix (empty for a job this tool did not launch).
    location: str
    status: str
    instances: str
    trained_seconds: float | None
    billable_seconds: float | None
    spot_saved: str | None
    values: dict[str, Any]
    final: dict[str, float]
    series: MetricSeries
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Clients:
    """One boto3 client per service, shared by every job's reads: creating a client costs more than the
    calls a job needs, and boto3 clients are safe to share between threads."""

    sagemaker: Any
    s3: Any
    cloudwatch: Any
    logs: Any

    @classmethod
    def create(cls, region: str | None) -> Clients:
        from sagemaker_launcher.aws.clients import aws_client

        return cls(*(aws_client(service, region) for service in ("sagemaker", "s3", "cloudwatch", "logs")))


def gather(jobs: Sequence[str], region: str | None, runs_dir: Path) -> list[ComparedJob]:
    """Read every job, local runs (a folder, or a job name under ``runs_dir``) and SageMaker jobs alike."""
    if len(set(jobs)) < len(jobs):
        raise LauncherError(f"A job is named twice in {' '.join(jobs)}: name each job once.")
    runs = [find_local_run(job, runs_dir) for job in jobs]
    clients = Clients.create(region) if not all(runs) else None
    with ThreadPoolExecutor(max_workers=min(RECORD_READERS, len(jobs))) as pool:
        return list(
            pool.map(lambda job, run: local_job(run) if run else sagemaker_job(job, clients), jobs, runs)
        )


def local_job(run: LocalRun) -> ComparedJob:
    record, problem = run.record()
    request = run.request()
    metrics = run.metrics()
    series = local_series(metrics)
    final = metrics.get("final") if isinstance(metrics, dict) else None
    notes = [problem] if problem else []
    resources = request.get("ResourceConfig") or {}
    return ComparedJob(
        name=run.name,
        where=LOCAL,
        location=str(run.folder),
        status=run.status,
        instances=f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}",
        trained_seconds=run.duration_seconds(record),
        billable_seconds=None,
        spot_saved=None,
        values=job_values(run.configs(), request.get("HyperParameters") or {}, notes),
        final=_numbers(final) or series.final(),
        series=series,
        tags=run.tags,
        notes=notes,
    )


def sagemaker_job(job: str, clients: Clients) -> ComparedJob:
    """A SageMaker job from the service: describe, tags, the recorded configs, its metrics.

    Final metrics are the service's FinalMetricDataList over the curves' last points; metrics.json is
    not read from output.tar.gz (``show`` does), since the archive may be large.
    """
    from sagemaker_launcher.jobs.lookup import describe_job, read_s3_text

    description = describe_job(clients.sagemaker, job)
    with aws_errors(f"Reading the tags of training job {job}", "sagemaker:ListTags", job):
        pages = clients.sagemaker.get_paginator("list_tags").paginate(
            ResourceArn=description["TrainingJobArn"]
        )
        tags = {tag["Key"]: tag["Value"] for page in pages for tag in page.get("Tags", [])}
    notes = []
    config_uri = tags.get(TAG_CONFIG, "")
    configs: dict[str, str | None] = {}
    if config_uri:
        configs = {name: read_s3_text(clients.s3, config_uri + name) for name in CONFIG_FILES}
    else:
        notes.append(f"Job {job} was not launched by this tool, so only its hyperparameters are compared.")
    values = job_values(configs, description.get("HyperParameters") or {}, notes)
    # The described definitions, and the recorded METRICS the launch sent (where an endpoint lost them).
    recorded = {
        key.removeprefix("METRICS."): regex for key, regex in values.items() if key.startswith("METRICS.")
    }
    definitions = {**definitions_of(description), **recorded}
    series = sagemaker_series(description, definitions, clients.cloudwatch, clients.logs)
    if series.note:
        notes.append(series.note)
    listed = description.get("FinalMetricDataList") or []
    resources = description.get("ResourceConfig", {})
    billable = description.get("BillableTimeInSeconds")
    return ComparedJob(
        name=job,
        where=SAGEMAKER,
        location=config_uri.removesuffix(f"{CONFIG_CHANNEL}/"),
        status=description.get("TrainingJobStatus", "Unknown"),
        instances=f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}",
        trained_seconds=duration_seconds(description),
        billable_seconds=float(billable) if billable is not None else None,
        spot_saved=spot_savings(description),
        values=values,
        final={**series.final(), **{item["MetricName"]: item["Value"] for item in listed}},
        series=series,
        tags=tags,
        notes=notes,
    )


def job_values(
    configs: dict[str, str | None], hyperparameters: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """The resolved configs' leaves, then the hyperparameters they do not hold (JSON-decoded)."""
    values: dict[str, Any] = {}
    for name, text in configs.items():
        if text is None:
            continue
        try:
            data = plain(parse(text))
        except (yaml.YAMLError, RefusedYAML, RecursionError) as error:
            notes.append(
                f"The recorded {name} is not readable YAML ({type(error).__name__}); its keys are left out."
            )
            continue
        if isinstance(data, dict):
            values.update(flatten(data))
    for name, encoded in hyperparameters.items():
        if name in _LAUNCH_HYPERPARAMETERS or name in values or f"HYPERPARAMETERS.{name}" in values:
            continue
        try:
            values[f"{HYPERPARAMETER_PREFIX}{name}"] = json.loads(encoded)
        except (TypeError, ValueError):
            values[f"{HYPERPARAMETER_PREFIX}{name}"] = encoded
    return values


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"SOLVER": {"BASE_LR": 0.01}}`` -> ``{"SOLVER.BASE_LR": 0.01}``; an empty section is one leaf."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing_keys(jobs: Sequence[ComparedJob]) -> list[str]:
    """Keys whose values are not the same in every job (a key some jobs lack counts as differing)."""
    keys = sorted({key for job in jobs for key in job.values})
    return [key for key in keys if len({_canonical(job.values, key) for job in jobs}) > 1]


def _canonical(values: dict[str, Any], key: str) -> str:
    """A value as comparable text; JSON text of a present value never equals the bare word for absent."""
    return json.dumps(values[key], sort_keys=True, default=repr) if key in values else "absent"


def _numbers(data: Any) -> dict[str, float]:
    if not isinstance(data, dict):
        return {}
    return {
        key: float(value)
        for key, value in data.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key != "epoch"
    }


def rank(jobs: list[ComparedJob], metric: str, goal: str) -> list[ComparedJob]:
    """Best first by ``metric`` (``goal`` maximize or minimize); jobs without it, or with NaN, last."""
    sign = -1.0 if goal == "maximize" else 1.0

    def key(job: ComparedJob) -> tuple[bool, float]:
        value = job.final.get(metric)
        usable = value is not None and math.isfinite(value)
        return (not usable, sign * value if usable else 0.0)

    return sorted(jobs, key=key)


def metric_names(jobs: Sequence[ComparedJob]) -> list[str]:
    return sorted(
        {name for job in jobs for name in job.final} | {n for job in jobs for n in job.series.points}
    )


def format_table(jobs: Sequence[ComparedJob]) -> str:
    """One column per job; rows: where and how it ran, then each differing key, then each final metric."""
    keys = differing_keys(jobs)
    rows: list[list[str]] = [
        ["JOB", *(job.name for job in jobs)],
        ["where", *(job.where for job in jobs)],
        ["status", *(job.status for job in jobs)],
        ["instances", *(job.instances for job in jobs)],
        ["trained", *(format_seconds(job.trained_seconds) for job in jobs)],
        ["billed", *(format_seconds(job.billable_seconds) for job in jobs)],
        ["spot saved", *(job.spot_saved or "" for job in jobs)],
    ]
    rows += [[key, *(_cell(job.values.get(key, _MISSING)) for job in jobs)] for key in keys]
    for name in metric_names(jobs):
        rows.append([f"final {name}", *(_metric(job.final.get(name)) for job in jobs)])
    cells = [[printable(cell) or _MISSING for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    if not keys:
        lines.append("(no config key differs between these jobs)")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 3] + "..."


def _metric(value: float | None) -> str:
    return f"{value:.4g}" if value is not None else ""


def as_json(jobs: Sequence[ComparedJob]) -> dict[str, Any]:
    """Everything ``compare`` knows, for scripts: the differing keys and each job whole. NaN and infinite
    numbers are null, as JSON has no such numbers."""
    return _finite(_report(jobs))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _report(jobs: Sequence[ComparedJob]) -> dict[str, Any]:
    keys = differing_keys(jobs)
    return {
        "differing_keys": {key: [job.values.get(key) for job in jobs] for key in keys},
        "jobs": [
            {
                "name": job.name,
                "where": job.where,
                "location": job.location,
                "status": job.status,
                "instances": job.instances,
                "trained_seconds": job.trained_seconds,
                "billable_seconds": job.billable_seconds,
                "spot_saved": job.spot_saved,
                "final_metrics": job.final,
                "series": {
                    name: [list(point) for point in points] for name, points in job.series.points.items()
                },
                "series_x": job.series.x_unit,
                "series_source": job.series.source,
                "differing": {key: job.values.get(key) for key in keys},
                "notes": job.notes,
            }
            for job in jobs
        ],
    }
