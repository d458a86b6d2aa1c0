"""The DEBUGGER keys: a port range that fits, a known adapter, and a hold the job can run."""

from __future__ import annotations

from sagemaker_container import job_debugger
from sagemaker_launcher.config.field_checks import FieldChecker
from sagemaker_launcher.config.run_modes import is_local

# The most processes one host may start when PROCESSES_PER_HOST is 0 (one per GPU): no SageMaker
# instance type has more than 8 GPUs.
MOST_GPUS = 8
HIGHEST_PORT = 65535
# Ports below this need root to bind.
LOWEST_PORT = 1024


def check_debugger(job: FieldChecker) -> None:
    """DEBUGGER.* and the variables the launcher sets for it."""
    cfg = job.cfg
    debugger, sm = cfg.DEBUGGER, cfg.SAGEMAKER
    for name in sm.ENVIRONMENT:
        if name.startswith("SM_LAUNCHER_"):
            raise job.fail(
                f"SAGEMAKER.ENVIRONMENT.{name}",
                sm.ENVIRONMENT[name],
                "is a variable the launcher sets from the DEBUGGER keys; set those instead.",
            )
    per_host = sm.PROCESSES_PER_HOST or MOST_GPUS
    highest = debugger.PORT + sm.INSTANCE_COUNT * per_host - 1
    if debugger.PORT < LOWEST_PORT or highest > HIGHEST_PORT:
        raise job.fail(
            "DEBUGGER.PORT",
            debugger.PORT,
            f"must leave room for one port per process: {LOWEST_PORT} to {HIGHEST_PORT} for PORT up to "
            f"PORT + INSTANCE_COUNT x processes per host - 1 (here {highest}).",
        )
    if debugger.ADAPTER not in job_debugger.ADAPTERS:
        raise job.fail(
            "DEBUGGER.ADAPTER", debugger.ADAPTER, f"must be one of {', '.join(job_debugger.ADAPTERS)}."
        )
    hold = debugger.HOLD_ON_FAILURE_SECONDS
    job.at_least("DEBUGGER.HOLD_ON_FAILURE_SECONDS", hold, 0)
    if hold > sm.MAX_RUN_SECONDS:
        raise job.fail(
            "DEBUGGER.HOLD_ON_FAILURE_SECONDS",
            hold,
            f"is longer than the job may run (SAGEMAKER.MAX_RUN_SECONDS = {sm.MAX_RUN_SECONDS}), which "
            "ends the hold too.",
        )
    if not hold:
        return
    if not sm.ENTRY_POINT.endswith(".py"):
        raise job.fail(
            "DEBUGGER.HOLD_ON_FAILURE_SECONDS",
            hold,
            f"needs a Python entry point, which job_debugger.py runs; SAGEMAKER.ENTRY_POINT is "
            f"{sm.ENTRY_POINT!r}. Leave the hold at 0 for it.",
        )
    if not sm.SOURCE_DIR and not is_local(sm.INSTANCE_TYPE) and not debugger.IMAGE_HAS_RUNNER:
        raise job.fail(
            "DEBUGGER.HOLD_ON_FAILURE_SECONDS",
            hold,
            "needs job_debugger.py beside the entry point, and with SAGEMAKER.SOURCE_DIR '' the code is the "
            "image's. Set SAGEMAKER.SOURCE_DIR to the code folder (the launcher adds the runner), or set "
            "DEBUGGER.IMAGE_HAS_RUNNER true when the image's /opt/ml/code holds it (Dockerfile.sagemaker's "
            "image does).",
        )
