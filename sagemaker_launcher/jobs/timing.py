"""A job's timings in words: how long it trained, how much spot saved, when it happened."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sagemaker_launcher.jobs.statuses import RUNNING_STATUSES


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
