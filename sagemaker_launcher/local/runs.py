"""Running a job on this machine: ``local_process`` (host mode) or ``local``/``local_gpu`` (Docker).

Both lay the job out under ``LOCAL.RUNS_DIR`` exactly as a SageMaker job is laid out in S3 (the same
config channel with record and request, the code archive, the output archives), and need no AWS
account.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from sagemaker_container.sagemaker_contract.names import REQUEST_FILE
from sagemaker_launcher.aws.storage import JobStorage, local_path, pack_source_dir
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import LOCAL_PROCESS, LOCAL_REGION, code_dir
from sagemaker_launcher.launch.plan import MODEL_ARCHIVE, OUTPUT_ARCHIVE
from sagemaker_launcher.launch.record import build_record, git_state
from sagemaker_launcher.launch.sequence import dump_json, plan_for, write_config_channel
from sagemaker_launcher.local.layout import (
    OUTPUT_DIR,
    HostTree,
    host_names,
    job_dir,
    keep_tensorboard,
    lay_out_hosts,
    local_request,
    pack_artifacts,
    script_mode_hyperparameters,
)
from sagemaker_launcher.local.processes import HostExit, run_hosts
from sagemaker_launcher.local.requirements import prepare_requirements

# SageMaker shows at most this much of the failure file as the job's FailureReason.
FAILURE_REASON_LIMIT = 1024
_TRACEBACK_START = "Traceback (most recent call last):"


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_locally(configs: ResolvedConfigs, arguments: Sequence[str]) -> int:
    """Record and run the job on this machine; returns its exit code."""
    cfg = configs.sagemaker
    git = git_state()
    plan = plan_for(configs, Path(cfg.LOCAL.RUNS_DIR).resolve().as_uri(), git)
    source_dir = code_dir(cfg).resolve()
    region = cfg.SAGEMAKER.REGION or LOCAL_REGION
    hyperparameters = script_mode_hyperparameters(plan, source_dir, cfg.SAGEMAKER.ENTRY_POINT, region)
    storage = JobStorage()
    write_config_channel(storage, plan, configs, build_record(configs, plan, git, arguments))
    storage.put(plan.config_uri + REQUEST_FILE, dump_json(local_request(cfg, plan, hyperparameters)).encode())
    if plan.code_uri:
        storage.put(plan.code_uri, pack_source_dir(source_dir))
    _echo(f"Job {plan.job_name} ({cfg.SAGEMAKER.INSTANCE_TYPE}): files in {job_dir(plan)}")
    if cfg.SAGEMAKER.INSTANCE_TYPE == LOCAL_PROCESS:
        python_path = prepare_requirements(source_dir, Path(cfg.LOCAL.REQUIREMENTS_CACHE_DIR), _echo)
        trees = lay_out_hosts(plan, host_names(cfg.SAGEMAKER.INSTANCE_COUNT), hyperparameters, LOCAL_PROCESS)
        exits = run_hosts(
            trees, source_dir, cfg.SAGEMAKER.ENTRY_POINT, cfg.SAGEMAKER.ENVIRONMENT, _echo, python_path
        )
        keep_tensorboard(plan, trees[0])
        if any(host_exit.code for host_exit in exits.values()):
            return _report_failure(trees, exits, cfg.SAGEMAKER.ENTRY_POINT)
        pack_artifacts(plan, trees[0])
    else:
        from sagemaker_launcher.local.container import run_in_docker

        exit_code = run_in_docker(cfg, plan, source_dir)
        if exit_code:
            return exit_code
    output = job_dir(plan) / OUTPUT_DIR
    _echo(f"Job {plan.job_name} completed.")
    _echo(f"  model:  {output / MODEL_ARCHIVE}")
    _echo(f"  output: {output / OUTPUT_ARCHIVE}")
    if local_path(plan.tensorboard_uri).is_dir():
        _echo(f"  tensorboard --logdir {job_dir(plan).parent}")
    return 0


def _report_failure(trees: list[HostTree], exits: dict[str, HostExit], entry_point: str) -> int:
    """Name each failed host's reason last: its failure file, else the tail of its error output."""
    for tree in trees:
        host_exit = exits[tree.host]
        if not host_exit.code:
            continue
        if not tree.failure_file.is_file():
            tree.failure_file.write_text(crash_reason(entry_point, host_exit))
        reason = tree.failure_file.read_text(errors="replace").strip()
        _echo(f"Host {tree.host} exited with code {host_exit.code}: {reason}")
    return next(host_exit.code for host_exit in exits.values() if host_exit.code)


def crash_reason(entry_point: str, host_exit: HostExit) -> str:
    """What SageMaker reports for a script that exits non-zero without a failure file: its error tail.

    The tail starts at the last traceback when there is one, and keeps its end within the size
    SageMaker shows, so the exception's own line is always in it.
    """
    lines = host_exit.error_tail
    starts = [index for index, line in enumerate(lines) if line.startswith(_TRACEBACK_START)]
    tail = "\n".join(lines[starts[-1] :] if starts else lines).strip() or "(no error output)"
    header = f"ExecuteUserScriptError: {entry_point} exited with code {host_exit.code}:\n"
    room = FAILURE_REASON_LIMIT - len(header)
    return header + (tail if len(tail) <= room else "..." + tail[-(room - 3) :])
