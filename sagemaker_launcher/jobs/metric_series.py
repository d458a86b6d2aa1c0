"""A job's metric curves: from CloudWatch for SageMaker jobs (its log lines when CloudWatch has none),
from metrics.json for local runs.

SageMaker matches the job's MetricDefinitions against its log and publishes each value to CloudWatch
(namespace ``/aws/sagemaker/TrainingJobs``, dimension ``Host=<job>/algo-1``). Neither source names the
epoch, so the n-th value is step n; metrics.json names its epochs.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
import re
from dataclasses import dataclass, field
from typing import Any

from sagemaker_container.sagemaker_contract.names import METRICS_FILE
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.jobs.logs import LogReader

NAMESPACE = "/aws/sagemaker/TrainingJobs"
FIRST_HOST = "algo-1"
# GetMetricData takes at most 500 queries a call; a job has at most 40 metric definitions.
_MAX_QUERIES = 500
# CloudWatch keeps 1-second points for 3 hours, 1-minute points for 15 days, then 5-minute points.
# Longest the job's own METRICS regexes may take over its log lines.
MATCH_SECONDS = 10.0
_RETENTION_PERIODS = ((dt.timedelta(hours=3), 1), (dt.timedelta(days=15), 60), (dt.timedelta(days=63), 300))


@dataclass
class MetricSeries:
    """Each metric's (x, value) points in order, what x counts, and where they came from."""

    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    x_unit: str = "step"
    source: str = ""
    # Why a curve that should be there is not (a regex that took too long), for compare's notes.
    note: str = ""

    def final(self) -> dict[str, float]:
        """Each metric's last value."""
        return {name: points[-1][1] for name, points in self.points.items() if points}


def definitions_of(description: dict[str, Any]) -> dict[str, str]:
    """The job's MetricDefinitions, name -> regex."""
    listed = description.get("AlgorithmSpecification", {}).get("MetricDefinitions") or []
    return {item["Name"]: item["Regex"] for item in listed if "Name" in item and "Regex" in item}


def sagemaker_series(
    description: dict[str, Any], definitions: dict[str, str], cloudwatch: Any, logs: Any
) -> MetricSeries:
    """The first host's curves of the metrics ``definitions`` names (name -> regex) from CloudWatch, else
    from its log lines; empty without definitions."""
    if not definitions:
        return MetricSeries()
    series = _cloudwatch_series(description, list(definitions), cloudwatch)
    if series.points:
        return series
    return _log_series(description["TrainingJobName"], definitions, logs)


def _cloudwatch_series(description: dict[str, Any], names: list[str], cloudwatch: Any) -> MetricSeries:
    job = description["TrainingJobName"]
    now = dt.datetime.now(dt.UTC)
    start = (
        description.get("TrainingStartTime") or description.get("CreationTime") or now - dt.timedelta(days=1)
    )
    end = description.get("TrainingEndTime") or now
    period = next((seconds for age, seconds in _RETENTION_PERIODS if now - start < age), 3600)
    queries = [
        {
            "Id": f"m{index}",
            "Label": name,
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": name,
                    "Dimensions": [{"Name": "Host", "Value": f"{job}/{FIRST_HOST}"}],
                },
                "Period": period,
                "Stat": "Average",
            },
        }
        for index, name in enumerate(names[:_MAX_QUERIES])
    ]
    by_id = {query["Id"]: query["Label"] for query in queries}
    values: dict[str, list[tuple[dt.datetime, float]]] = {}
    request: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": start - dt.timedelta(minutes=1),
        "EndTime": end + dt.timedelta(minutes=1),
        "ScanBy": "TimestampAscending",
    }
    with aws_errors(f"Reading the metrics of job {job} from CloudWatch", "cloudwatch:GetMetricData", job):
        for page in cloudwatch.get_paginator("get_metric_data").paginate(**request):
            for result in page.get("MetricDataResults", []):
                pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                values.setdefault(by_id[result["Id"]], []).extend(pairs)
    points = {
        name: [(float(step), value) for step, (_, value) in enumerate(sorted(pairs, key=lambda p: p[0]), 1)]
        for name, pairs in values.items()
        if pairs
    }
    return MetricSeries(points, "step", "CloudWatch")


def _log_series(job: str, definitions: dict[str, str], logs: Any) -> MetricSeries:
    """The values the job's metric regexes match in the first host's log lines, as SageMaker reads them.

    The regexes are the job's own; one that backtracks without end on a line (``(a+)+$``) would hang the
    command, so they run in a process of their own, given ``MATCH_SECONDS``.
    """
    prefix = f"[{FIRST_HOST}] "
    lines = [line[len(prefix) :] for line in LogReader(logs, job).new_lines() if line.startswith(prefix)]
    if not lines or not definitions:
        return MetricSeries()
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    worker = context.Process(target=match_lines, args=(definitions, lines, sending), daemon=True)
    worker.start()
    sending.close()
    finished = receiving.poll(MATCH_SECONDS)
    values: dict[str, list[float]] = receiving.recv() if finished else {}
    worker.kill()
    worker.join()
    if not finished:
        return MetricSeries(
            note=f"Job {job}'s METRICS regexes took over {MATCH_SECONDS:g} s on its {len(lines)} log lines "
            "(a regex that backtracks without end?), so its curves are left out."
        )
    points = {
        name: [(float(step), value) for step, value in enumerate(found, 1)] for name, found in values.items()
    }
    return MetricSeries(points, "step", "log lines" if points else "")


def match_lines(definitions: dict[str, str], lines: list[str], answer: Any) -> None:
    """In the worker process: each metric's values in the lines, sent back through ``answer``."""
    patterns = {name: _compiled(regex) for name, regex in definitions.items()}
    values: dict[str, list[float]] = {}
    for line in lines:
        for name, pattern in patterns.items():
            match = pattern.search(line) if pattern else None
            value = _number(match.group(1)) if match and match.groups() else None
            if value is not None:
                values.setdefault(name, []).append(value)
    answer.send(values)


def _compiled(regex: str) -> re.Pattern[str] | None:
    try:
        return re.compile(regex)
    except re.error:
        return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def local_series(metrics: Any) -> MetricSeries:
    """Curves from metrics.json's ``epochs`` list (each record names its ``epoch``)."""
    epochs = metrics.get("epochs") if isinstance(metrics, dict) else None
    if not isinstance(epochs, list):
        return MetricSeries()
    points: dict[str, list[tuple[float, float]]] = {}
    for index, record in enumerate(epochs, 1):
        if not isinstance(record, dict):
            continue
        epoch = record.get("epoch", index)
        x = float(epoch) if _is_number(epoch) else float(index)
        for name, value in record.items():
            if name != "epoch" and _is_number(value) and math.isfinite(value):
                points.setdefault(name, []).append((x, float(value)))
    return MetricSeries(points, "epoch", METRICS_FILE)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
