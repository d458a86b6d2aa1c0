"""What a launch will create, decided before any call: job name, storage layout, tags, hyperparameters.

Everything of one job lives under one prefix, ``<root>/<EXPERIMENT_NAME>/<job-name>/``, where the
root is ``s3://BUCKET`` for SageMaker and ``LOCAL.RUNS_DIR`` for local runs:

    config/      sagemaker_config.yaml, training_config.yaml, record.json, request.json
                 (the job's ``config`` input channel)
    inputs/<channel>/   local INPUTS uploaded for this job
    code/sourcedir.tar.gz   SAGEMAKER.SOURCE_DIR, when set
    checkpoints/         CheckpointConfig.S3Uri unless CHECKPOINT_SYNC.S3_URI says otherwise
    tensorboard/         TensorBoard event files: TensorBoardOutputConfig.S3OutputPath, or a local
                         run's first host's output/tensorboard; ``tensorboard --logdir`` on
                         ``<root>/<EXPERIMENT_NAME>/`` shows every job of the experiment
    output/model.tar.gz, output/output.tar.gz   written by SageMaker (OutputDataConfig + job name)
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.merging import leaf_items
from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    CONTAINER_LOG_LEVEL_HYPERPARAMETER,
    JOB_NAME_HYPERPARAMETER,
    PROGRAM_HYPERPARAMETER,
    REGION_HYPERPARAMETER,
    SUBMIT_DIRECTORY_HYPERPARAMETER,
)
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import image_entry_point, is_local
from sagemaker_launcher.launch.distribution import distribution_hyperparameters

SOURCE_ARCHIVE = "sourcedir.tar.gz"
TENSORBOARD_DIR = "tensorboard"
# What SageMaker leaves under <prefix>output/: the model folder and the output data folder, archived.
MODEL_ARCHIVE = "model.tar.gz"
OUTPUT_ARCHIVE = "output.tar.gz"
# Hyperparameters the SDK adds when it runs code from SOURCE_DIR (script mode).
SDK_CODE_HYPERPARAMETERS = (
    PROGRAM_HYPERPARAMETER,
    SUBMIT_DIRECTORY_HYPERPARAMETER,
    CONTAINER_LOG_LEVEL_HYPERPARAMETER,
    JOB_NAME_HYPERPARAMETER,
    REGION_HYPERPARAMETER,
)
TAG_EXPERIMENT = "sm-launcher:experiment"
TAG_GIT_COMMIT = "sm-launcher:git-commit"
TAG_CONFIG = "sm-launcher:config"
TAG_PARENT_JOB = "sm-launcher:parent-job"
# A sweep's points carry these through SAGEMAKER.TAGS (see sweeps.py): its id, and "maximize METRIC".
TAG_SWEEP = "sm-launcher:sweep"
TAG_SWEEP_OBJECTIVE = "sm-launcher:sweep-objective"
LAUNCHER_TAG_KEYS = (TAG_EXPERIMENT, TAG_GIT_COMMIT, TAG_CONFIG, TAG_PARENT_JOB)
_TIMESTAMP = "%Y%m%d-%H%M%S"
_RANDOM_HEX_DIGITS = 4
# "-" + timestamp + "-" + random hex digits.
JOB_NAME_SUFFIX_LENGTH = 1 + len(dt.datetime(2000, 1, 1).strftime(_TIMESTAMP)) + 1 + _RANDOM_HEX_DIGITS


@dataclass(frozen=True)
class JobPlan:
    """Names and locations of one job; URIs are ``s3://`` for SageMaker, ``file://`` locally."""

    job_name: str
    experiment: str
    prefix: str
    image_uri: str
    channels: dict[str, str]
    uploads: dict[str, Path]
    code_uri: str | None
    checkpoint_uri: str | None
    tags: list[dict[str, str]]
    hyperparameters: dict[str, Any] = field(default_factory=dict)

    @property
    def config_uri(self) -> str:
        """The ``config`` channel: the resolved configs, the record and the request."""
        return f"{self.prefix}{CONFIG_CHANNEL}/"

    @property
    def tensorboard_uri(self) -> str:
        """Where the job's TensorBoard event files end up: SageMaker syncs them there as it runs."""
        return f"{self.prefix}{TENSORBOARD_DIR}/"

    @property
    def output_path(self) -> str:
        """OutputDataConfig.S3OutputPath: SageMaker appends ``<job-name>/output/``, landing in the prefix."""
        return self.prefix[: -len(self.job_name) - 1]

    @property
    def packs_code(self) -> bool:
        """Whether the launch packs SOURCE_DIR into ``code_uri``, rather than running an existing archive."""
        return self.code_uri == f"{self.prefix}code/{SOURCE_ARCHIVE}"


def new_job_name(base: str, now: dt.datetime | None = None) -> str:
    """``BASE-YYYYmmdd-HHMMSS-xxxx``: sortable by time, unique within a second by its random part."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime(_TIMESTAMP)
    return f"{base}-{stamp}-{secrets.token_hex(_RANDOM_HEX_DIGITS // 2)}"


def is_s3_uri(location: str) -> bool:
    """Whether a location names S3 rather than a local path."""
    return location.startswith("s3://")


def encode_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """JSON-encode each value, as the SDK does in script mode and as main.py decodes them."""
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


def hyperparameters_of(configs: ResolvedConfigs) -> dict[str, Any]:
    """Everything a job sends as HyperParameters besides what the SDK adds in script mode.

    The training keys go only to the example's main.py (which applies them over the config channel),
    then the script's own HYPERPARAMETERS; code baked into the image is named here, since the SDK only
    names the program itself when it uploads SOURCE_DIR; the switch of the image's per-GPU launch
    comes last (distribution.py).
    """
    values: dict[str, Any] = {}
    if configs.training is not None and configs.training_defaults.sends_training_keys:
        values.update(leaf_items(configs.training))
    arguments = configs.sagemaker.HYPERPARAMETERS
    values.update({name: script_argument_value(text) for name, text in arguments.items()})
    program = image_entry_point(configs.sagemaker)
    if program:
        values[PROGRAM_HYPERPARAMETER] = program
    values.update(distribution_hyperparameters(configs.sagemaker))
    return values


def image_uri(cfg: CfgNode) -> str:
    """IMAGE.URI, or REPOSITORY:TAG in the role's account ECR (a local image name for local modes)."""
    image = cfg.IMAGE
    if image.URI:
        return image.URI
    reference = f"{image.REPOSITORY}:{image.TAG}"
    # Only SageMaker instance types ("ml.*") pull from ECR; local modes use the engine's own images.
    if not cfg.SAGEMAKER.INSTANCE_TYPE.startswith("ml."):
        return reference
    account = cfg.SAGEMAKER.ROLE_ARN.split(":")[4]
    region = cfg.SAGEMAKER.REGION
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{reference}"


def plan_job(
    sagemaker: CfgNode,
    hyperparameters: Mapping[str, Any],
    root: str,
    git_commit: str | None,
    parent_job: str | None = None,
    job_name: str | None = None,
    code_uri: str | None = None,
) -> JobPlan:
    """Lay out a job under ``root`` (``s3://bucket`` or ``file:///abs/runs``); no I/O.

    ``code_uri`` names an existing sourcedir.tar.gz to run as it is (a reproduced job's) instead of
    packing SOURCE_DIR.
    """
    job_name = job_name or new_job_name(sagemaker.SAGEMAKER.BASE_JOB_NAME)
    local = is_local(sagemaker.SAGEMAKER.INSTANCE_TYPE)
    experiment = sagemaker.S3.EXPERIMENT_NAME
    prefix = f"{root.rstrip('/')}/{experiment}/{job_name}/"
    channels: dict[str, str] = {}
    uploads: dict[str, Path] = {}
    for name, location in sagemaker.INPUTS.items():
        if is_s3_uri(location):
            channels[name] = location
        elif is_s3_uri(prefix):
            uploads[name] = Path(location)
            channels[name] = f"{prefix}inputs/{name}/"
        else:
            channels[name] = Path(location).resolve().as_uri()
    channels[CONFIG_CHANNEL] = f"{prefix}{CONFIG_CHANNEL}/"
    checkpoint = sagemaker.CHECKPOINT_SYNC
    tags = [
        {"Key": TAG_EXPERIMENT, "Value": experiment},
        {"Key": TAG_GIT_COMMIT, "Value": git_commit or "none"},
        {"Key": TAG_CONFIG, "Value": f"{prefix}{CONFIG_CHANNEL}/"},
    ]
    if parent_job:
        tags.append({"Key": TAG_PARENT_JOB, "Value": parent_job})
    tags += [{"Key": key, "Value": value} for key, value in sagemaker.SAGEMAKER.TAGS.items()]
    return JobPlan(
        job_name=job_name,
        experiment=experiment,
        prefix=prefix,
        image_uri=image_uri(sagemaker),
        channels=channels,
        uploads=uploads,
        # Local runs always run a code folder, and keep a copy as a SageMaker job would.
        code_uri=code_uri
        or (f"{prefix}code/{SOURCE_ARCHIVE}" if sagemaker.SAGEMAKER.SOURCE_DIR or local else None),
        checkpoint_uri=(checkpoint.S3_URI or f"{prefix}checkpoints/") if checkpoint.ENABLED else None,
        tags=tags,
        hyperparameters=dict(hyperparameters),
    )
