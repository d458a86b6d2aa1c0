"""Where a job runs and which code it runs: a SageMaker instance type or one of the local modes.

    local_process   the entry point as a plain process on this machine (host mode)
    local           the training image under Docker (SageMaker SDK local mode)
    local_gpu       the same with the GPUs exposed
"""

from __future__ import annotations

from pathlib import Path

from yacs.config import CfgNode

LOCAL_PROCESS = "local_process"
DOCKER_LOCAL_MODES = ("local", "local_gpu")
LOCAL_MODES = (*DOCKER_LOCAL_MODES, LOCAL_PROCESS)
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


def image_entry_point(cfg: CfgNode) -> str | None:
    """The program to name for code baked into the image (no SOURCE_DIR on SageMaker), else None.

    With SOURCE_DIR, and in every local mode, the code is uploaded or mounted and named by the SDK.
    """
    sm = cfg.SAGEMAKER
    return sm.ENTRY_POINT if not sm.SOURCE_DIR and not is_local(sm.INSTANCE_TYPE) else None
