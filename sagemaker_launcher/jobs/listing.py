"""The ``list`` command: one Search call per 100 of this tool's jobs, filtered by experiment and status,
shown as a table; or the local runs under a runs folder, read from their files."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract.names import RECORD_FILE
from sagemaker_launcher.aws.clients import RECORD_READERS, aws_client
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.lookup import parse_record, read_s3_bytes, record_text, record_value
from sagemaker_launcher.jobs.timing import duration_seconds, format_seconds, spot_savings
from sagemaker_launcher.spec.layout import TAG_CONFIG, TAG_EXPERIMENT, TAG_GIT_COMMIT, TAG_SWEEP
from sagemaker_launcher.terminal_text import printable

# Search returns at most 100 jobs a page; pages come newest first.
_SEARCH_PAGE_SIZE = 100
# Notes on unreadable records shown one by one; the rest are counted.
_MAX_NOTES = 3


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
    region: str | None,
    limit: int,
    *,
    experiment: str | None = None,
    status: str | None = None,
    include_all: bool = False,
    sweep: str | None = None,
) -> tuple[list[JobRow], list[str]]:
    """The newest ``limit`` jobs matching the filters (``sweep``: a sweep's id, see sweeps.py), and notes
    on what could not be read.

    One Search call returns a page of 100 jobs with their tags and timings, so the cost is one call per
    100 jobs plus one parallel S3 read per row shown (for who launched it).
    """
    sagemaker = aws_client("sagemaker", region)
    filters = []
    if status:
        filters.append({"Name": "TrainingJobStatus", "Operator": "Equals", "Value": status})
    # Only this tool's jobs, unless --all: an account shared with other teams may hold thousands of jobs,
    # which the service leaves out rather than sending them 100 a page. "vision/" names a folder of
    # experiments, matched below, since Search has no prefix operator for tags.
    if experiment and not experiment.endswith("/"):
        filters.append({"Name": f"Tags.{TAG_EXPERIMENT}", "Operator": "Equals", "Value": experiment})
    elif not include_all:
        filters.append({"Name": f"Tags.{TAG_EXPERIMENT}", "Operator": "Exists"})
    if sweep:
        filters.append({"Name": f"Tags.{TAG_SWEEP}", "Operator": "Equals", "Value": sweep})
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
            and (not experiment or _in_experiment(tags.get(TAG_EXPERIMENT, ""), experiment))
            and (not status or job.get("TrainingJobStatus") == status)
            and (not sweep or tags.get(TAG_SWEEP) == sweep)
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


def _in_experiment(name: str, wanted: str) -> bool:
    """``wanted`` names one experiment exactly, or with a trailing "/" every experiment in that folder."""
    return name.startswith(wanted) if wanted.endswith("/") else name == wanted


def _tag_map(job: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in job.get("Tags", [])}


def _read_records(s3: Any, config_uris: list[str | None]) -> tuple[list[dict[str, Any] | None], list[str]]:
    """Read the records of the listed jobs in parallel; an unreadable or unusable one leaves a blank and a
    note naming it."""

    def read(uri: str | None) -> tuple[dict[str, Any] | None, str | None]:
        if not uri:
            return None, None
        try:
            return parse_record(read_s3_bytes(s3, uri + RECORD_FILE), uri + RECORD_FILE)
        except LauncherError as error:
            return None, error.message

    if not any(config_uris):
        return [None] * len(config_uris), []
    with ThreadPoolExecutor(max_workers=min(RECORD_READERS, len(config_uris))) as pool:
        results = list(pool.map(read, config_uris))
    notes = list(dict.fromkeys(printable(note) for _, note in results if note))
    if len(notes) > _MAX_NOTES:
        notes[_MAX_NOTES:] = [f"{len(notes) - _MAX_NOTES} more records could not be read either."]
    return [record for record, _ in results], notes


def _row(job: dict[str, Any], record: dict[str, Any] | None) -> JobRow:
    tags = _tag_map(job)
    resources = job.get("ResourceConfig", {})
    commit = tags.get(TAG_GIT_COMMIT, "")
    commit = "" if commit == "none" else commit[:8]
    if commit and record_value(record, "git", "dirty") is True:
        commit += "+dirty"
    return JobRow(
        name=job.get("TrainingJobName", ""),
        experiment=tags.get(TAG_EXPERIMENT, ""),
        status=job.get("TrainingJobStatus", ""),
        instances=f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}",
        spot_saved=spot_savings(job) or "",
        duration=format_seconds(duration_seconds(job)),
        launched_by=record_text(record, "launched_by", "user"),
        commit=commit,
    )


def format_table(rows: list[JobRow]) -> str:
    """Rows as aligned columns under a header; cells come from tags and records, so are made printable."""
    header = ("JOB", "EXPERIMENT", "STATUS", "INSTANCES", "SPOT SAVED", "DURATION", "LAUNCHED BY", "COMMIT")
    lines = [header, *[tuple(_or_dash(printable(value)) for value in vars(row).values()) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _or_dash(value: str) -> str:
    return value or "-"


def list_local_runs(
    runs_dir: Path, limit: int, *, experiment: str | None = None, status: str | None = None
) -> list[JobRow]:
    """The newest ``limit`` local runs under ``runs_dir``, read from their folders (no AWS), by the same
    filters and in the same columns as SageMaker jobs; a run's status is its status.json's."""
    from sagemaker_launcher.jobs.local_runs import LocalRun, run_folders

    rows = []
    for folder in run_folders(runs_dir):
        run = LocalRun(folder.resolve())
        record, _ = run.record()
        name = record_text(record, "experiment")
        if (experiment and not _in_experiment(name, experiment)) or (status and run.status != status):
            continue
        resources = run.request().get("ResourceConfig") or {}
        commit = record_text(record, "code", "commit") or record_text(record, "git", "commit")
        dirty = "+dirty" if commit and record_value(record, "git", "dirty") is True else ""
        rows.append(
            JobRow(
                name=run.name,
                experiment=name,
                status=run.status,
                instances=f"{resources.get('InstanceType', '?')} x{resources.get('InstanceCount', '?')}",
                spot_saved="",
                duration=format_seconds(run.duration_seconds(record)),
                launched_by=record_text(record, "launched_by", "user"),
                commit=commit[:8] + dirty,
            )
        )
    rows.sort(key=lambda row: row.name.rsplit("-", 3)[-3:], reverse=True)
    return rows[:limit]
