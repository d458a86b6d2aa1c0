"""The job, described once: a frozen spec holding every decision about it, made before any call.

``config.spec_building.build_spec`` makes it from the resolved configs; ``spec.request`` turns it into
the CreateTrainingJob request that every mode runs (sent to SageMaker, printed by dry runs, executed
by local runs); ``spec.record`` into the record of who launched what. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sagemaker_launcher.spec.git import GitState
from sagemaker_launcher.spec.layout import (
    CHECKPOINTS_DIR,
    OUTPUT_DIR,
    TENSORBOARD_DIR,
    config_uri,
    is_s3_uri,
)

# Where a job runs: SageMaker (an ml.* instance type), or one of the local modes.
SAGEMAKER = "sagemaker"
LOCAL_PROCESS = "local_process"
DOCKER_LOCAL_MODES = ("local", "local_gpu")
LOCAL_MODES = (*DOCKER_LOCAL_MODES, LOCAL_PROCESS)

# Where the code comes from.
CODE_UPLOADED = "uploaded"
CODE_PARENT = "parent"
CODE_IMAGE = "image"


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy, so a frozen spec stays unchanged."""
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class Channel:
    """One input channel: where the job reads it, and the local path a launch uploads there first."""

    name: str
    # s3:// for SageMaker jobs, file:// for local runs.
    uri: str
    upload_from: Path | None = None


@dataclass(frozen=True)
class Code:
    """Which code the job runs: SOURCE_DIR packed at launch, an earlier job's archive, or the image's."""

    source: str
    entry_point: str
    # The folder packed at launch (CODE_UPLOADED), else None.
    source_dir: Path | None
    # The sourcedir.tar.gz the job runs; None for the image's own /opt/ml/code.
    archive_uri: str | None
    # The git commit the code came from: the launch's checkout, or the parent's record for its archive.
    commit: str | None


@dataclass(frozen=True)
class Processes:
    """How each host starts the entry point: once, or under torchrun ``per_host`` times (0: one per GPU)."""

    torchrun: bool
    per_host: int = 0

    @property
    def described(self) -> str:
        if not self.torchrun:
            return "one process per host"
        return (
            f"torchrun, {self.per_host} processes per host"
            if self.per_host
            else "torchrun, one process per GPU"
        )


@dataclass(frozen=True)
class Debugger:
    """The job's debugger (sagemaker_container/job_debugger.py): its base port, its adapter, the hold on
    failure, and whether the launcher adds job_debugger.py beside the code."""

    port: int
    adapter: str
    hold_seconds: int = 0
    # job_debugger.py goes into the code archive: the hold runs through it, or breakpoint() imports it.
    adds_module: bool = False

    @property
    def holds(self) -> bool:
        """The hold is on: the job's program is the runner, which starts the entry point."""
        return self.hold_seconds > 0


@dataclass(frozen=True)
class Network:
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    isolation: bool = False
    encrypt_inter_container_traffic: bool = False


@dataclass(frozen=True)
class Checkpoints:
    """Checkpoint sync: the container folder and where it is kept (s3://, or file:// locally)."""

    uri: str
    local_path: str


@dataclass(frozen=True)
class ParameterRange:
    """``{MIN, MAX, SCALE}`` of a sweep: numbers between two bounds; whole numbers when both are whole."""

    low: float
    high: float
    scale: str

    @property
    def integer(self) -> bool:
        return float(self.low).is_integer() and float(self.high).is_integer() and self.scale == "linear"


@dataclass(frozen=True)
class TuningPlan:
    """A bayesian sweep for SageMaker's tuner: hyperparameter -> its range, or its JSON-encoded values."""

    name: str
    metric: str
    goal: str
    max_jobs: int
    max_parallel: int
    ranges: Mapping[str, tuple[str, ...] | ParameterRange]


@dataclass(frozen=True)
class Provenance:
    """Where the job came from: the configs, the command line, the checkout, the parent job."""

    sagemaker_yaml: str
    # None when the job has no training config.
    training_yaml: str | None
    config_files: Mapping[str, tuple[str, ...]]
    overrides: tuple[str, ...]
    arguments: tuple[str, ...]
    # The checkout the launcher ran from.
    git: GitState
    parent_job: str | None = None


@dataclass(frozen=True)
class LocalSettings:
    """What only a local run needs: where host mode keeps the environments of code's requirements."""

    requirements_cache_dir: Path


@dataclass(frozen=True)
class JobSpec:
    """Everything a job is. Mappings are read-only copies (``frozen_map``)."""

    name: str
    experiment: str
    # <root>/<experiment>/<name>/: s3://BUCKET/... for SageMaker, file://RUNS_DIR/... locally.
    prefix: str
    instance_type: str
    instance_count: int
    volume_size_gb: int
    volume_kms_key_id: str
    keep_alive_seconds: int
    max_run_seconds: int
    spot: bool
    max_wait_seconds: int
    role_arn: str
    region: str
    image_uri: str
    code: Code
    processes: Processes
    channels: tuple[Channel, ...]
    # The job's own hyperparameters (training keys or the script's arguments), not yet JSON-encoded.
    hyperparameters: Mapping[str, Any]
    environment: Mapping[str, str]
    metrics: Mapping[str, str]
    tags: tuple[tuple[str, str], ...]
    checkpoints: Checkpoints | None
    # Encrypts the launcher's uploads (SSE-KMS) and the job's output (OutputDataConfig.KmsKeyId).
    kms_key_id: str
    network: Network
    remote_debug: bool
    debugger: Debugger
    provenance: Provenance
    # Where each SDK-defaults value came from: config key -> file.
    sdk_defaults_sources: Mapping[str, str] = field(default_factory=frozen_map)
    # Set for local runs only.
    local: LocalSettings | None = None

    @property
    def mode(self) -> str:
        """SAGEMAKER, or the local mode's name."""
        return self.instance_type if self.instance_type in LOCAL_MODES else SAGEMAKER

    @property
    def is_local(self) -> bool:
        return self.mode != SAGEMAKER

    @property
    def config_uri(self) -> str:
        return config_uri(self.prefix)

    @property
    def tensorboard_uri(self) -> str:
        """Where the job's TensorBoard event files end up; SageMaker syncs them there as it runs."""
        return f"{self.prefix}{TENSORBOARD_DIR}/"

    @property
    def default_checkpoint_uri(self) -> str:
        return f"{self.prefix}{CHECKPOINTS_DIR}/"

    @property
    def output_path(self) -> str:
        """OutputDataConfig.S3OutputPath: SageMaker appends ``<job-name>/output/``, landing in the prefix."""
        return self.prefix[: -len(self.name) - 1]

    @property
    def output_uri(self) -> str:
        return f"{self.prefix}{OUTPUT_DIR}/"

    @property
    def uploads(self) -> tuple[Channel, ...]:
        """Channels whose local data a launch uploads under the job's prefix."""
        return tuple(channel for channel in self.channels if channel.upload_from is not None)

    @property
    def packs_code(self) -> bool:
        """Whether the launch packs SOURCE_DIR (not an existing archive, nor the image's own code)."""
        return self.code.source == CODE_UPLOADED

    @property
    def on_s3(self) -> bool:
        return is_s3_uri(self.prefix)
