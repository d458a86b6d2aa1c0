"""The ``list`` command: one Search call per 100 jobs, filtered by experiment and status, shown as a table."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sagemaker_launcher.aws_errors import RECORD_READERS, aws_client, aws_errors
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.job_lookup import read_s3_text
from sagemaker_launcher.job_plan import RECORD_FILE, TAG_CONFIG, TAG_EXPERIMENT, TAG_GIT_COMMIT
from sagemaker_launcher.job_timing import duration_seconds, format_seconds, spot_savings

# Search returns at most 100 jobs a page; pages come newest first.
_SEARCH_PAGE_SIZE = 100


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
    with ThreadPoolExecutor(max_workers=min(RECORD_READERS, len(config_uris))) as pool:
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
