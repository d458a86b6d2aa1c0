"""Past local runs read back from their ``LOCAL.RUNS_DIR`` tree, for ``compare``, ``list`` and ``show``.

A local run leaves the files a SageMaker job leaves in S3 (``spec.layout``), and, since no service keeps
its status or timings, a ``status.json`` the local executor writes as the run starts and ends
(InProgress, then Completed, Failed or Stopped, with each host's exit). Runs from before that file
existed keep the old rule: Completed with an output archive, Failed with a failure file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    FAILURE_FILE,
    METRICS_FILE,
    OUTPUT_DATA_DIR,
    RECORD_FILE,
    REQUEST_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.archives import member_bytes
from sagemaker_launcher.jobs.lookup import MAX_RECORDED_BYTES, parse_record
from sagemaker_launcher.spec.layout import HOSTS_DIR, OUTPUT_ARCHIVE, OUTPUT_DIR, STATUS_FILE

FIRST_HOST = "algo-1"


@dataclass(frozen=True)
class LocalRun:
    """One local run's folder: ``<RUNS_DIR>/<experiment>/<job>/``."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    def config_text(self, name: str) -> str | None:
        """One resolved config's YAML text, or None when the run has none."""
        data = _read_small(self.folder / CONFIG_CHANNEL / name)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def configs(self) -> dict[str, str | None]:
        return {name: self.config_text(name) for name in (SAGEMAKER_CONFIG_FILE, TRAINING_CONFIG_FILE)}

    def record(self) -> tuple[dict[str, Any] | None, str | None]:
        path = self.folder / CONFIG_CHANNEL / RECORD_FILE
        return parse_record(_read_small(path), str(path))

    def request(self) -> dict[str, Any]:
        """The run's CreateTrainingJob-shaped request; empty when it is missing or damaged."""
        data = _read_small(self.folder / CONFIG_CHANNEL / REQUEST_FILE)
        try:
            request = json.loads(data) if data else {}
        except ValueError:
            return {}
        return request if isinstance(request, dict) else {}

    @property
    def tags(self) -> dict[str, str]:
        tags = self.request().get("Tags") or []
        return {tag["Key"]: tag["Value"] for tag in tags if isinstance(tag, dict) and "Key" in tag}

    @property
    def failure_file(self) -> Path:
        return self.folder / HOSTS_DIR / FIRST_HOST / FAILURE_FILE

    @property
    def output_archive(self) -> Path:
        return self.folder / OUTPUT_DIR / OUTPUT_ARCHIVE

    def status_file(self) -> dict[str, Any]:
        """What the run said of itself in status.json (status, times, each host's exit); {} without one."""
        data = _read_small(self.folder / STATUS_FILE)
        try:
            status = json.loads(data) if data else {}
        except (ValueError, RecursionError):
            return {}
        return status if isinstance(status, dict) else {}

    @property
    def status(self) -> str:
        """The run's status.json says; a run from before it had one: Failed with a failure file,
        Completed with its output archive, else Incomplete."""
        recorded = self.status_file().get("status")
        if isinstance(recorded, str) and recorded:
            return recorded
        if self.failure_file.is_file():
            return "Failed"
        return "Completed" if self.output_archive.is_file() else "Incomplete"

    @property
    def failure_reason(self) -> str | None:
        reason = self.status_file().get("failure_reason")
        if isinstance(reason, str):
            return reason
        data = _read_small(self.failure_file)
        return data.decode("utf-8", errors="replace").strip() if data else None

    def duration_seconds(self, record: dict[str, Any] | None) -> float | None:
        """From start to end as status.json says; for older runs, from the record's launch time to the
        output archive (or failure file) being written."""
        status = self.status_file()
        seconds = status.get("training_seconds")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return float(seconds)
        launched = record.get("launched_at") if record else None
        end = self.failure_file if self.failure_file.is_file() else self.output_archive
        if not isinstance(launched, str) or not end.is_file():
            return None
        try:
            start = dt.datetime.fromisoformat(launched)
        except ValueError:
            return None
        return max(0.0, end.stat().st_mtime - start.timestamp())

    def metrics(self) -> Any:
        """metrics.json as the training wrote it: the first host's output data folder, else inside
        output.tar.gz (what a Docker local run leaves); None when neither has it."""
        data = _read_small(self.folder / HOSTS_DIR / FIRST_HOST / OUTPUT_DATA_DIR / METRICS_FILE)
        if data is None and self.output_archive.is_file():
            data = _metrics_in_archive(self.output_archive)
        try:
            return json.loads(data) if data else None
        except (ValueError, RecursionError):
            return None


def _read_small(path: Path) -> bytes | None:
    """A recorded file's bytes, or None when it is missing or larger than a launch writes."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_RECORDED_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _metrics_in_archive(archive: Path) -> bytes | None:
    """metrics.json from an output.tar.gz; None when it is absent, too large or the archive is damaged."""
    try:
        with tarfile.open(archive, "r:gz") as bundle:
            return member_bytes(bundle, METRICS_FILE, MAX_RECORDED_BYTES)
    except (tarfile.TarError, OSError):
        return None


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` is a local run: a folder with the config channel's record."""
    return (path / CONFIG_CHANNEL / RECORD_FILE).is_file()


def run_folders(runs_dir: Path) -> Iterator[Path]:
    """Every run folder under ``runs_dir``, not following links (a run's channels link elsewhere) and
    not looking inside runs."""
    for folder, subfolders, _ in os.walk(runs_dir):
        if is_run_folder(Path(folder)):
            subfolders.clear()
            yield Path(folder)


def find_local_run(job: str, runs_dir: Path) -> LocalRun | None:
    """The run named by its folder, or by its job name anywhere under ``runs_dir``; None when neither.

    Raises ``LauncherError`` when a job name matches runs in several experiments.
    """
    path = Path(job)
    if is_run_folder(path):
        return LocalRun(path.resolve())
    if "/" in job or not runs_dir.is_dir():
        return None
    runs = [folder for folder in run_folders(runs_dir) if folder.name == job]
    if len(runs) > 1:
        raise LauncherError(
            f"Job name '{job}' names {len(runs)} local runs under {runs_dir}: "
            f"{', '.join(str(run) for run in runs)}. Name the run by its folder instead."
        )
    return LocalRun(runs[0].resolve()) if runs else None


def local_runs_tagged(runs_dir: Path, key: str, value: str) -> list[LocalRun]:
    """Every run under ``runs_dir`` whose request carries the tag ``key`` = ``value``, e.g. a sweep's."""
    runs = [LocalRun(folder.resolve()) for folder in run_folders(runs_dir)]
    return sorted((run for run in runs if run.tags.get(key) == value), key=lambda run: run.name)
