"""A job's timings in words: how long it trained, how much spot saved, when it happened."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sagemaker_launcher.spec.statuses import RUNNING_STATUSES


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
    if end is None and job.get("TrainingJobStatus") in RUNNING_STATUSES:
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


def format_when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


# What each of SageMaker's SecondaryStatus stages is spent on, in the words of `show`.
STAGE_WORDS = {
    "Pending": "waiting to start",
    "Starting": "waiting for capacity and starting the instances",
    "LaunchingMLInstances": "launching the instances",
    "PreparingTrainingStack": "preparing the training stack",
    "Downloading": "downloading the input data",
    "DownloadingTrainingImage": "downloading the training image",
    "Training": "training",
    "Uploading": "uploading the model and output",
    "Interrupted": "spot capacity reclaimed",
    "Restarting": "restarting after an interruption",
    "Updating": "updating",
    "Stopping": "stopping",
}


def stage_lines(job: dict[str, Any]) -> list[str]:
    """Where the job's time went, stage by stage, from its SecondaryStatusTransitions."""
    transitions = [step for step in job.get("SecondaryStatusTransitions") or [] if isinstance(step, dict)]
    lines = []
    for step in transitions:
        status, start, end = str(step.get("Status", "?")), step.get("StartTime"), step.get("EndTime")
        if status in ("Completed", "Failed", "Stopped", "MaxRuntimeExceeded", "MaxWaitTimeExceeded"):
            lines.append(f"    {status}")
            continue
        running = end is None and job.get("TrainingJobStatus") in RUNNING_STATUSES
        if end is None and running and isinstance(start, dt.datetime):
            end = dt.datetime.now(dt.UTC)
        took = (
            (end - start).total_seconds()
            if isinstance(start, dt.datetime) and isinstance(end, dt.datetime)
            else None
        )
        words = STAGE_WORDS.get(status, str(step.get("StatusMessage", "")))
        lines.append(
            f"    {status:<25} {format_seconds(took) or '?':>7}  {words}{' (now)' if running else ''}"
        )
    return lines


def warm_pool_line(job: dict[str, Any]) -> str | None:
    """The warm pool the job keeps (KeepAlivePeriodInSeconds): its state, its billed time, who reused it."""
    pool = job.get("WarmPoolStatus")
    if not isinstance(pool, dict) or not pool.get("Status"):
        return None
    billed = pool.get("ResourceRetainedBillableTimeInSeconds")
    kept = f", instances kept {format_seconds(billed)} (billed)" if isinstance(billed, int | float) else ""
    reused = f", reused by job {pool['ReusedByJob']}" if pool.get("ReusedByJob") else ""
    return f"{pool['Status']}{kept}{reused}"
