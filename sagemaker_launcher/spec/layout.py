"""Names of a job's files and tags: one prefix holds everything of a job, in S3 or in a local folder.

Everything of one job lives under ``<root>/<EXPERIMENT_NAME>/<job-name>/``, where the root is
``s3://BUCKET`` for SageMaker and ``LOCAL.RUNS_DIR`` for local runs:

    config/      sagemaker_config.yaml, training_config.yaml, record.json, request.json
                 (the job's ``config`` input channel)
    inputs/<channel>/        local INPUTS uploaded for this job
    code/sourcedir.tar.gz    the code the job runs (SAGEMAKER.SOURCE_DIR packed at launch)
    checkpoints/             CheckpointConfig.S3Uri unless CHECKPOINT_SYNC.S3_URI says otherwise
    tensorboard/             TensorBoardOutputConfig.S3OutputPath
    output/model.tar.gz, output/output.tar.gz   written when the job ends

A local run adds ``hosts/algo-N/`` (each host's ``/opt/ml`` tree) and ``status.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sagemaker_container.sagemaker_contract.names import CONFIG_CHANNEL

CODE_ARCHIVE = "code/sourcedir.tar.gz"
SOURCE_ARCHIVE = "sourcedir.tar.gz"
INPUTS_DIR = "inputs"
CHECKPOINTS_DIR = "checkpoints"
TENSORBOARD_DIR = "tensorboard"
OUTPUT_DIR = "output"
# What SageMaker leaves under <prefix>output/: the model folder and the output data folder, archived.
MODEL_ARCHIVE = "model.tar.gz"
OUTPUT_ARCHIVE = "output.tar.gz"
# A local run's hosts (hosts/algo-N, each one SAGEMAKER_BASE_DIR) and its status, which no service keeps.
HOSTS_DIR = "hosts"
STATUS_FILE = "status.json"

TAG_EXPERIMENT = "sm-launcher:experiment"
TAG_GIT_COMMIT = "sm-launcher:git-commit"
TAG_CONFIG = "sm-launcher:config"
TAG_PARENT_JOB = "sm-launcher:parent-job"
# A sweep's points carry these through SAGEMAKER.TAGS: its id, and "maximize METRIC".
TAG_SWEEP = "sm-launcher:sweep"
TAG_SWEEP_OBJECTIVE = "sm-launcher:sweep-objective"
# How a sweep's objective ranks its points.
GOALS = ("maximize", "minimize")
LAUNCHER_TAG_KEYS = (TAG_EXPERIMENT, TAG_GIT_COMMIT, TAG_CONFIG, TAG_PARENT_JOB)

_TIMESTAMP = "%Y%m%d-%H%M%S"
_RANDOM_HEX_DIGITS = 4
# "-" + timestamp + "-" + random hex digits.
JOB_NAME_SUFFIX_LENGTH = 1 + len(dt.datetime(2000, 1, 1).strftime(_TIMESTAMP)) + 1 + _RANDOM_HEX_DIGITS


def new_job_name(base: str, now: dt.datetime | None = None) -> str:
    """``BASE-YYYYmmdd-HHMMSS-xxxx``: sortable by time, unique within a second by its random part."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(_TIMESTAMP)
    return f"{base}-{stamp}-{secrets.token_hex(_RANDOM_HEX_DIGITS // 2)}"


def created_recently(job_name: str, within_seconds: float = 120.0) -> bool:
    """Whether ``job_name`` carries a launch time (``new_job_name``) less than ``within_seconds`` ago."""
    parts = job_name.rsplit("-", 3)
    if len(parts) != 4:
        return False
    try:
        stamp = dt.datetime.strptime(f"{parts[1]}-{parts[2]}", _TIMESTAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return False
    return abs((dt.datetime.now(dt.UTC) - stamp).total_seconds()) < within_seconds


def job_prefix(root: str, experiment: str, job_name: str) -> str:
    """``<root>/<experiment>/<job-name>/``, the folder of everything the job has."""
    return f"{root.rstrip('/')}/{experiment}/{job_name}/"


def config_uri(prefix: str) -> str:
    """The ``config`` channel under a job's prefix: resolved configs, record and request."""
    return f"{prefix}{CONFIG_CHANNEL}/"


def is_s3_uri(location: str) -> bool:
    """Whether a location names S3 rather than a local path."""
    return location.startswith("s3://")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def local_path(uri: str) -> Path:
    """``file:///a/b`` -> ``Path("/a/b")``."""
    return Path(urlparse(uri).path)


def encode_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """JSON-encode each value, as the SDK does in script mode and as the toolkit decodes them."""
    return {key: json.dumps(value) for key, value in values.items()}


def script_argument_value(text: str) -> Any:
    """A HYPERPARAMETERS value as the job sends it, so the script receives ``text`` exactly.

    The toolkit JSON-decodes each hyperparameter and passes ``str()`` of it on the command line, so
    "10" and "0.01" travel as numbers (shown as numbers in the console and the tuner) while text
    whose decoding would change it ("1.10", "true", "1e-3", "gloo") travels as a JSON string.
    """
    try:
        decoded = json.loads(text)
    except ValueError:
        return text
    if isinstance(decoded, int | float) and not isinstance(decoded, bool) and str(decoded) == text:
        return decoded
    return text
