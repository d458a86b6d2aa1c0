"""The job's own paths in the SageMaker container contract, from the names the launcher shares.

Each path joins one base dir, ``$SAGEMAKER_BASE_DIR`` or ``/opt/ml``, and is computed when called,
so importing this module reads nothing and creates nothing. The names themselves live in
``sagemaker_contract.names``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sagemaker_contract import names


def base_dir() -> Path:
    """The contract's root, e.g. ``/opt/ml``."""
    return Path(os.environ.get(names.BASE_DIR_ENV, names.DEFAULT_BASE_DIR))


def channel_dir(name: str) -> Path:
    """An input channel's folder, e.g. ``/opt/ml/input/data/train``."""
    override = os.environ.get(names.CHANNEL_ENV_PREFIX + name.upper())
    return Path(override) if override else base_dir() / names.CHANNELS_DIR / name


def model_dir() -> Path:
    """Folder packed into model.tar.gz, e.g. ``/opt/ml/model``."""
    return Path(os.environ.get(names.MODEL_DIR_ENV) or base_dir() / names.MODEL_DIR)


def output_data_dir() -> Path:
    """Folder packed into output.tar.gz, e.g. ``/opt/ml/output/data``."""
    return Path(os.environ.get(names.OUTPUT_DATA_DIR_ENV) or base_dir() / names.OUTPUT_DATA_DIR)


def failure_file() -> Path:
    """File whose first 1024 characters become the job's FailureReason, ``/opt/ml/output/failure``."""
    return base_dir() / names.FAILURE_FILE


def tensorboard_dir() -> Path:
    """TensorBoard event files, synced to TensorBoardOutputConfig, ``/opt/ml/output/tensorboard``."""
    return base_dir() / names.TENSORBOARD_OUTPUT_DIR


def hyperparameters_file() -> Path:
    """The job's hyperparameters, ``/opt/ml/input/config/hyperparameters.json``."""
    return base_dir() / names.HYPERPARAMETERS_FILE


def resource_config_file() -> Path:
    """This host's name and all hosts' names, ``/opt/ml/input/config/resourceconfig.json``."""
    return base_dir() / names.RESOURCE_CONFIG_FILE


def checkpoint_config_file() -> Path:
    """Present when checkpointing is on, ``/opt/ml/input/config/checkpointconfig.json``."""
    return base_dir() / names.CHECKPOINT_CONFIG_FILE


def checkpoint_dir() -> Path:
    """This job's folder inside the one synced with CheckpointConfig.S3Uri, e.g.
    ``/opt/ml/checkpoints/<job name>``.

    ``checkpointconfig.json``'s ``LocalPath`` wins when the job has one. Each job keeps its checkpoints
    under its own name (``TRAINING_JOB_NAME``) and resumes only from those: a tuning job's trials share
    one CheckpointConfig, and must never start from another trial's state; a spot job restarts with
    its own name and finds its own. A run without a job name uses the folder itself.
    """
    local_path = read_json(checkpoint_config_file()).get("LocalPath")
    synced = Path(local_path) if local_path else base_dir() / names.CHECKPOINTS_DIR
    job_name = os.environ.get(names.JOB_NAME_ENV)
    return synced / job_name if job_name else synced


def read_json(path: Path) -> dict[str, Any]:
    """A contract JSON file as a dict, ``{}`` when the file does not exist."""
    if not path.is_file():
        return {}
    return json.loads(path.read_text())
