"""The SageMaker container contract: every path and ``SM_*`` variable the job reads, in one place.

Each path joins one base dir, ``$SAGEMAKER_BASE_DIR`` or ``/opt/ml``, and is computed when called,
so importing this module reads nothing and creates nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

# Overrides the /opt/ml base dir (the sagemaker-training toolkit honours the same variable).
BASE_DIR_ENV = "SAGEMAKER_BASE_DIR"
DEFAULT_BASE_DIR = "/opt/ml"
# Set by the toolkit; each wins over the path derived from the base dir.
CHANNEL_ENV_PREFIX = "SM_CHANNEL_"
MODEL_DIR_ENV = "SM_MODEL_DIR"
OUTPUT_DATA_DIR_ENV = "SM_OUTPUT_DATA_DIR"
# Rendezvous of a multi-process job; unset means the first host's name and DEFAULT_MASTER_PORT.
MASTER_ADDR_ENV = "MASTER_ADDR"
MASTER_PORT_ENV = "MASTER_PORT"
DEFAULT_MASTER_PORT = 29500
# This process's place in the job, as torchrun sets it: global rank, rank on this host, and the
# number of processes in the job and on this host. Unset: one process per host.
RANK_ENV = "RANK"
LOCAL_RANK_ENV = "LOCAL_RANK"
WORLD_SIZE_ENV = "WORLD_SIZE"
LOCAL_WORLD_SIZE_ENV = "LOCAL_WORLD_SIZE"
# The channel that carries the launcher's resolved configs, and the training config inside it.
CONFIG_CHANNEL = "config"
TRAINING_CONFIG_FILE = "training_config.yaml"


def base_dir() -> Path:
    """The contract's root, e.g. ``/opt/ml``."""
    return Path(os.environ.get(BASE_DIR_ENV, DEFAULT_BASE_DIR))


def channel_dir(name: str) -> Path:
    """An input channel's folder, e.g. ``/opt/ml/input/data/train``."""
    override = os.environ.get(CHANNEL_ENV_PREFIX + name.upper())
    return Path(override) if override else base_dir() / "input" / "data" / name


def model_dir() -> Path:
    """Folder packed into model.tar.gz, e.g. ``/opt/ml/model``."""
    return Path(os.environ.get(MODEL_DIR_ENV) or base_dir() / "model")


def output_data_dir() -> Path:
    """Folder packed into output.tar.gz, e.g. ``/opt/ml/output/data``."""
    return Path(os.environ.get(OUTPUT_DATA_DIR_ENV) or base_dir() / "output" / "data")


def failure_file() -> Path:
    """File whose first 1024 characters become the job's FailureReason, ``/opt/ml/output/failure``."""
    return base_dir() / "output" / "failure"


def hyperparameters_file() -> Path:
    """The job's hyperparameters, ``/opt/ml/input/config/hyperparameters.json``."""
    return base_dir() / "input" / "config" / "hyperparameters.json"


def resource_config_file() -> Path:
    """This host's name and all hosts' names, ``/opt/ml/input/config/resourceconfig.json``."""
    return base_dir() / "input" / "config" / "resourceconfig.json"


def checkpoint_config_file() -> Path:
    """Present when checkpointing is on, ``/opt/ml/input/config/checkpointconfig.json``."""
    return base_dir() / "input" / "config" / "checkpointconfig.json"


def checkpoint_dir() -> Path:
    """Folder synced with CheckpointConfig.S3Uri, e.g. ``/opt/ml/checkpoints``.

    ``checkpointconfig.json``'s ``LocalPath`` wins when the job has one.
    """
    local_path = read_json(checkpoint_config_file()).get("LocalPath")
    return Path(local_path) if local_path else base_dir() / "checkpoints"


def read_json(path: Path) -> dict[str, Any]:
    """A contract JSON file as a dict, ``{}`` when the file does not exist."""
    if not path.is_file():
        return {}
    return json.loads(path.read_text())
