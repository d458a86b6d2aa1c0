"""Where a job runs and which code folder it runs: a SageMaker instance type or one of the local modes.

local_process   the entry point as plain processes on this machine (host mode)
local           the training image under Docker, one container per host
local_gpu       the same with the GPUs exposed
"""

from __future__ import annotations

from pathlib import Path

from yacs.config import CfgNode

from sagemaker_launcher.spec.job import DOCKER_LOCAL_MODES, LOCAL_MODES, LOCAL_PROCESS

__all__ = ["BUNDLED_SOURCE_DIR", "DOCKER_LOCAL_MODES", "LOCAL_MODES", "LOCAL_PROCESS", "LOCAL_REGION"]

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
