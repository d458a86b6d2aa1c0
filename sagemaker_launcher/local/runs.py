"""Running a job on this machine from its request: ``local_process`` (host mode) or ``local``/``local_gpu``
(Docker), with no AWS account.

Both lay the job out under ``LOCAL.RUNS_DIR`` exactly as a SageMaker job is laid out in S3 (the config
channel with record and request, the code archive, the output archives, TensorBoard files and
checkpoints), give each host its ``/opt/ml`` tree written from the request (``host_trees``), and keep a
``status.json`` that ``compare``, ``list`` and ``show`` read: InProgress while it runs, then Completed,
Failed (with the failure reason SageMaker would give) or Stopped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import shlex
import shutil
import sys
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sagemaker_container import job_debugger
from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.aws.storage import JobStorage, put_code, write_config_channel
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.local.host_trees import HostTree, Rewrites, lay_out_hosts
from sagemaker_launcher.local.processes import Started, first_failure
from sagemaker_launcher.local.requirements import interpreter_path, prepare_environment
from sagemaker_launcher.local.streams import printed
from sagemaker_launcher.spec.job import LOCAL_PROCESS, JobSpec
from sagemaker_launcher.spec.layout import (
    CODE_ARCHIVE,
    MODEL_ARCHIVE,
    OUTPUT_ARCHIVE,
    OUTPUT_DIR,
    STATUS_FILE,
    local_path,
)
from sagemaker_launcher.spec.record import build_record

# SageMaker shows at most this much of the failure file as the job's FailureReason.
FAILURE_REASON_LIMIT = 1024
_TRACEBACK_START = "Traceback (most recent call last):"
# The image's toolkit logs "2026-12-04 18:40:20,438 sagemaker-training-toolkit INFO ..." lines.
_TOOLKIT_WAITS = "Waiting for the process to finish"
# torchrun's failure summary: "rank      : 1 (local_rank: 1)".
_LOCAL_RANK = re.compile(r"\(local_rank: (\d+)\)")
_TOOLKIT_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ sagemaker")
# A failure reason naming an /opt/ml path that does not exist (a path the code built itself).
_MISSING_OPT_ML = re.compile(r"No such file or directory: '/opt/ml/")


def _echo(line: str) -> None:
    printed(line, True)


class RunStatus:
    """The run's ``status.json``: what no service keeps for a local run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = dt.datetime.now(dt.UTC)
        self._write({"status": "InProgress", "started_at": self.started.isoformat(timespec="seconds")})

    def ended(self, status: str, reason: str | None = None, hosts: Mapping[str, Any] | None = None) -> None:
        ended = dt.datetime.now(dt.UTC)
        self._write(
            {
                "status": status,
                "started_at": self.started.isoformat(timespec="seconds"),
                "ended_at": ended.isoformat(timespec="seconds"),
                "training_seconds": round((ended - self.started).total_seconds(), 3),
                "failure_reason": reason[:FAILURE_REASON_LIMIT] if reason else None,
                "hosts": dict(hosts or {}),
            }
        )

    def _write(self, data: dict[str, Any]) -> None:
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(data, indent=2))
        partial.replace(self.path)


def run_locally(spec: JobSpec, request: dict[str, Any]) -> int:
    """Record and run the job on this machine; returns its exit code (130 after an interrupt is raised)."""
    run_dir = local_path(spec.prefix)
    try:
        storage = JobStorage()
        write_config_channel(storage, spec, build_record(spec), request)
        put_code(storage, spec)
        status = RunStatus(run_dir / STATUS_FILE)
    except (OSError, KeyboardInterrupt) as error:
        # Nothing ran yet: the run's folder goes, as a failed launch's files do.
        shutil.rmtree(run_dir, ignore_errors=True)
        if isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt(f"local run {spec.name} stopped before it began; nothing kept") from None
        raise LauncherError(_unwritable(spec, run_dir, error) + " Nothing was kept.") from None
    _echo(f"Job {spec.name} ({spec.instance_type}): files in {run_dir}")
    try:
        started, trees = _run(spec, request, run_dir)
    except KeyboardInterrupt:
        status.ended("Stopped", "Interrupted before the job ended.")
        raise KeyboardInterrupt(f"local run {spec.name} stopped; its files are in {run_dir}") from None
    except LauncherError as error:
        status.ended("Failed", error.message)
        raise
    except OSError as error:
        message = _unwritable(spec, run_dir, error)
        with contextlib.suppress(OSError):
            status.ended("Failed", message)
        raise LauncherError(f"{message} What it wrote so far is in {run_dir}.") from None
    _keep_synced_folders(request, trees[0], run_dir)
    failed = first_failure(started)
    hosts = {entry.host: {"exit_code": entry.code} for entry in started}
    if failed is not None:
        reasons = _report_failures(spec, trees, started)
        for host, reason in reasons.items():
            hosts[host]["failure_reason"] = reason[:FAILURE_REASON_LIMIT]
        status.ended("Failed", reasons[failed.host], hosts)
        return failed.code or 1
    _pack_artifacts(trees[0], run_dir / OUTPUT_DIR)
    status.ended("Completed", None, hosts)
    _echo(f"Job {spec.name} completed.")
    _echo(f"  model:  {run_dir / OUTPUT_DIR / MODEL_ARCHIVE}")
    _echo(f"  output: {run_dir / OUTPUT_DIR / OUTPUT_ARCHIVE}")
    if local_path(spec.tensorboard_uri).is_dir():
        _echo(f"  tensorboard --logdir {run_dir.parent}")
    return 0


def _unwritable(spec: JobSpec, run_dir: Path, error: OSError) -> str:
    """One paragraph for a file the run could not read or write (a full disk, a folder made read-only)."""
    where = f" ({error.filename})" if error.filename else ""
    return (
        f"Local run {spec.name} could not write its files under {run_dir}{where}: "
        f"{error.strerror or error}. Free some space or set LOCAL.RUNS_DIR to a folder you can write in."
    )


def _run(spec: JobSpec, request: dict[str, Any], run_dir: Path) -> tuple[list[Started], list[HostTree]]:
    """Lay out the hosts and run them in the job's mode."""
    host_mode = spec.instance_type == LOCAL_PROCESS
    interactive = sys.stdin.isatty()
    rewrites = Rewrites()
    if host_mode:
        from sagemaker_launcher.local.host_mode import run_hosts

        assert spec.code.source_dir is not None and spec.local is not None
        python = interpreter_path(
            prepare_environment(spec.code.source_dir, spec.local.requirements_cache_dir, _echo)
        )
        trees = lay_out_hosts(request, run_dir, run_dir / CODE_ARCHIVE, True, rewrites)
        if rewrites.places:
            _echo(
                "Host mode: values naming /opt/ml paths point into each host's tree "
                f"({run_dir}/hosts/algo-N) "
                f"instead: {', '.join(sorted(rewrites.places))}."
            )
        return run_hosts(trees, request, python, interactive, rewrites), trees
    from sagemaker_launcher.local.docker_mode import check_docker, run_containers

    gpu = spec.instance_type == "local_gpu"
    check_docker(spec.image_uri, gpu)
    trees = lay_out_hosts(request, run_dir, run_dir / CODE_ARCHIVE, False, rewrites)
    return run_containers(trees, request, gpu, interactive), trees


def _report_failures(spec: JobSpec, trees: Sequence[HostTree], started: Sequence[Started]) -> dict[str, str]:
    """Each failed host's reason, said last: its failure file, else the error tail SageMaker would show."""
    by_host = {tree.host: tree for tree in trees}
    reasons: dict[str, str] = {}
    for entry in started:
        if not entry.code or entry.host in reasons:
            continue
        tree = by_host[entry.host]
        failure_file = tree.path(names.FAILURE_FILE)
        reason = failure_file.read_text(errors="replace").strip() if failure_file.is_file() else ""
        if reason:
            reason = _with_error_tail(reason, entry)
        else:
            reason = crash_reason(entry)
            failure_file.parent.mkdir(parents=True, exist_ok=True)
            failure_file.write_text(reason)
        reasons[entry.host] = reason
    for entry in started:
        code = entry.code
        state = f"exited with code {code}" if code else "completed"
        _echo(
            f"Host {entry.host} {state}"
            + (f": {reasons[entry.host]}" if entry.host in reasons and code else ".")
        )
    if spec.instance_type == LOCAL_PROCESS and any(
        _MISSING_OPT_ML.search(reason) for reason in reasons.values()
    ):
        _echo(
            "Host mode: the script looked for a path under /opt/ml, which this machine does not have. "
            "Values in hyperparameters and configs are pointed into each host's tree, but paths the code "
            "builds itself are not: read them from the toolkit's variables (SM_CHANNEL_<NAME>, "
            "SM_MODEL_DIR, SM_OUTPUT_DATA_DIR), or run the same config with SAGEMAKER.INSTANCE_TYPE local "
            "(Docker), where /opt/ml is the container's."
        )
    return reasons


def crash_reason(entry: Started) -> str:
    """What the toolkit reports for a script that exits non-zero without a failure file: the error tail,
    in its format. The tail is the first rank's with a traceback (the script's, not torchrun's own), from
    that traceback on, and keeps its end within the size SageMaker shows, so the exception's line is in it."""
    # The job debugger's own lines (a held failure) are not the script's error.
    tails = {
        rank: [line for line in lines if not line.startswith(job_debugger.MESSAGE_PREFIX)]
        for rank, lines in entry.tails.items()
    }
    ranks = sorted((rank for rank in tails if rank is not None), key=int)
    with_traceback = [rank for rank in ranks if any(_TRACEBACK_START in line for line in tails[rank])]
    cause = _root_cause_rank(tails.get(None, []))
    if cause in with_traceback:
        with_traceback.insert(0, cause)
    lines = tails[with_traceback[0]] if with_traceback else tails.get(None) or next(iter(tails.values()), [])
    starts = [index for index, line in enumerate(lines) if line.startswith(_TRACEBACK_START)]
    tail = "\n".join(lines[starts[-1] :] if starts else lines).strip() or "(no error output)"
    header = f'ExecuteUserScriptError:\nExitCode {entry.code}\nErrorMessage "'
    footer = f'"\nCommand "{shlex.join(entry.command)}"'
    room = FAILURE_REASON_LIMIT - len(header) - len(footer)
    if room < 40:
        footer, room = '"', FAILURE_REASON_LIMIT - len(header) - 1
    return header + (tail if len(tail) <= room else "..." + tail[-(room - 3) :]) + footer


def _root_cause_rank(agent_lines: Sequence[str]) -> int | None:
    """The local rank torchrun names as the root cause (the first to fail); the others' errors follow
    from it (a peer gone from a collective)."""
    after = [
        line for index, line in enumerate(agent_lines) if "Root Cause" in line for line in agent_lines[index:]
    ]
    for line in after:
        found = _LOCAL_RANK.search(line)
        if found:
            return int(found[1])
    return None


def _with_error_tail(reason: str, entry: Started) -> str:
    """The image's toolkit leaves ErrorMessage empty when the script's error output has no line it knows
    (a failed ``pip install``, or a script that exits non-zero with a message of its own): fill in pip's
    ERROR lines, else the last lines the host wrote before the toolkit's own report."""
    if 'ErrorMessage ""' not in reason:
        return reason
    lines = [line for lines in entry.tails.values() for line in lines if line.strip()]
    pip_lines = [line for line in lines if line.startswith("ERROR:")]
    # The script's last words come before the toolkit's "Waiting for the process to finish" line.
    ends = [index for index, line in enumerate(lines) if _TOOLKIT_LOG.match(line) and _TOOLKIT_WAITS in line]
    own = [line for line in lines[: ends[-1] if ends else len(lines)] if not _TOOLKIT_LOG.match(line)]
    chosen = pip_lines[-5:] or own[-5:]
    if not chosen:
        return reason
    return reason.replace('ErrorMessage ""', 'ErrorMessage "' + "\n".join(chosen) + '"', 1)


def _keep_synced_folders(request: Mapping[str, Any], first_host: HostTree, run_dir: Path) -> None:
    """What SageMaker syncs to S3 as a job runs, from the first host (where rank 0 writes): TensorBoard
    event files, and the checkpoint folder when the job syncs checkpoints."""
    targets = {names.TENSORBOARD_OUTPUT_DIR: request.get("TensorBoardOutputConfig", {}).get("S3OutputPath")}
    if request.get("CheckpointConfig"):
        targets[names.CHECKPOINTS_DIR] = request["CheckpointConfig"]["S3Uri"]
    for relative, uri in targets.items():
        source = first_host.path(relative)
        if uri and source.is_dir() and any(source.iterdir()):
            shutil.copytree(source, local_path(uri), dirs_exist_ok=True)


def _pack_artifacts(first_host: HostTree, output: Path) -> None:
    """model.tar.gz and output.tar.gz from the first host's model and output data folders, as SageMaker
    packs them when a job completes."""
    output.mkdir(parents=True, exist_ok=True)
    for archive, folder in ((MODEL_ARCHIVE, names.MODEL_DIR), (OUTPUT_ARCHIVE, names.OUTPUT_DATA_DIR)):
        source = first_host.path(folder)
        with tarfile.open(output / archive, "w:gz") as bundle:
            for path in sorted(source.rglob("*")):
                bundle.add(path, arcname=path.relative_to(source).as_posix(), recursive=False)
