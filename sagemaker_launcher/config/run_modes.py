"""Where a job runs and which code folder it runs: a SageMaker instance type or one of the local modes.

local_process   the entry point as plain processes on this machine (host mode)
local           the training image under Docker, one container per host
local_gpu       the same with the GPUs exposed
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from yacs.config import CfgNode

from sagemaker_launcher.spec.job import DOCKER_LOCAL_MODES, LOCAL_MODES, LOCAL_PROCESS

__all__ = ["BUNDLED_SOURCE_DIR", "DOCKER_LOCAL_MODES", "LOCAL_MODES", "LOCAL_PROCESS", "LOCAL_REGION"]

LOOPBACK = "127.0.0.1"
# The region local runs use when SAGEMAKER.REGION is empty; they reach no AWS service.
LOCAL_REGION = "us-east-1"
# The training code bundled with the launcher: the digits example, also what the image holds.
BUNDLED_SOURCE_DIR = Path(__file__).resolve().parents[2] / "sagemaker_container"


def is_local(instance_type: str) -> bool:
    """Whether the instance type runs on this machine rather than on SageMaker."""
    return instance_type in LOCAL_MODES


def code_dir(cfg: CfgNode) -> Path:
    """The job's code folder: SAGEMAKER.SOURCE_DIR, else the bundled example (baked into the image)."""
    source_dir = cfg.SAGEMAKER.SOURCE_DIR
    return Path(source_dir) if source_dir else BUNDLED_SOURCE_DIR


def visible_gpus() -> int:
    """The GPUs ``nvidia-smi`` lists on this machine (what local_gpu's ``--gpus all`` gives a container);
    0 without it."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))


def free_port() -> int:
    """A TCP port nobody listens on now on the loopback (a rendezvous, a forwarded debugger port)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]
