"""From resolved configs to the job spec: every decision about the job, made once, before any call.

Which code runs (SOURCE_DIR packed now, a parent job's archive, or the image's own), how each host
starts it (once, or under torchrun), the channels, tags, checkpoints and hyperparameters: the spec
holds them all, so launches, dry runs and local runs never decide them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from sagemaker_container import job_debugger
from sagemaker_container.sagemaker_contract.merging import leaf_items
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import LOCAL_REGION, code_dir, is_local
from sagemaker_launcher.spec.git import GitState, git_state
from sagemaker_launcher.spec.job import (
    CODE_IMAGE,
    CODE_PARENT,
    CODE_UPLOADED,
    Channel,
    Checkpoints,
    Code,
    Debugger,
    JobSpec,
    LocalSettings,
    Network,
    Processes,
    Provenance,
    frozen_map,
)
from sagemaker_launcher.spec.layout import (
    CODE_ARCHIVE,
    INPUTS_DIR,
    TAG_CONFIG,
    TAG_EXPERIMENT,
    TAG_GIT_COMMIT,
    TAG_PARENT_JOB,
    config_uri,
    is_s3_uri,
    job_prefix,
    new_job_name,
    script_argument_value,
)


@dataclass(frozen=True)
class ParentCode:
    """A reproduced job's code: the parent's archive (None: the image's code) and the commit it came from."""

    job: str
    archive_uri: str | None
    commit: str | None


def processes_of(configs: ResolvedConfigs) -> Processes:
    """How each host starts the entry point, from the resolved training defaults.

    The example's main.py always runs under torchrun (one process per GPU unless PROCESSES_PER_HOST
    forces a number); any other script only when PROCESSES_PER_HOST names a number, since scripts such
    as AWS's MNIST example take their rank from SM_HOSTS and would all be rank 0 under torchrun.
    """
    count = configs.sagemaker.SAGEMAKER.PROCESSES_PER_HOST
    return Processes(torchrun=bool(count) or configs.training_defaults.sends_training_keys, per_host=count)


def job_hyperparameters(configs: ResolvedConfigs) -> dict[str, Any]:
    """The job's own hyperparameters: every training key for the example's main.py (which applies them
    over the config channel), and the script's arguments (HYPERPARAMETERS) exactly as written."""
    values: dict[str, Any] = {}
    if configs.training is not None and configs.training_defaults.sends_training_keys:
        values.update(leaf_items(configs.training))
    arguments = configs.sagemaker.HYPERPARAMETERS
    values.update({name: script_argument_value(text) for name, text in arguments.items()})
    return values


def debugger_of(cfg: CfgNode) -> Debugger:
    """The DEBUGGER keys; job_debugger.py is added beside the code when the hold needs its runner or
    breakpoint() is pointed at it."""
    debugger = cfg.DEBUGGER
    breakpoints = cfg.SAGEMAKER.ENVIRONMENT.get("PYTHONBREAKPOINT", "").startswith("job_debugger.")
    hold = debugger.HOLD_ON_FAILURE_SECONDS
    return Debugger(debugger.PORT, debugger.ADAPTER, hold, adds_module=hold > 0 or breakpoints)


def job_environment(cfg: CfgNode, debugger: Debugger) -> dict[str, str]:
    """SAGEMAKER.ENVIRONMENT, and each DEBUGGER value the job's debugger needs to be told: a port or an
    adapter other than the default, the hold and the entry point its runner starts."""
    environment = dict(cfg.SAGEMAKER.ENVIRONMENT)
    if debugger.port != job_debugger.DEFAULT_PORT:
        environment[job_debugger.PORT_ENV] = str(debugger.port)
    if debugger.adapter != job_debugger.DEFAULT_ADAPTER:
        environment[job_debugger.ADAPTER_ENV] = debugger.adapter
    if debugger.holds:
        environment[job_debugger.HOLD_ENV] = str(debugger.hold_seconds)
        environment[job_debugger.ENTRY_POINT_ENV] = cfg.SAGEMAKER.ENTRY_POINT
    return environment


def image_uri(cfg: CfgNode) -> str:
    """IMAGE.URI, or REPOSITORY:TAG in the role's account ECR (a local image name for local modes)."""
    image = cfg.IMAGE
    if image.URI:
        return image.URI
    reference = f"{image.REPOSITORY}:{image.TAG}"
    # Only SageMaker instance types ("ml.*") pull from ECR; local modes use the engine's own images.
    if is_local(cfg.SAGEMAKER.INSTANCE_TYPE):
        return reference
    account = cfg.SAGEMAKER.ROLE_ARN.split(":")[4]
    region = cfg.SAGEMAKER.REGION
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{reference}"


def job_spec(
    configs: ResolvedConfigs,
    arguments: Sequence[str],
    *,
    parent: ParentCode | None = None,
    job_name: str | None = None,
) -> JobSpec:
    """The job of validated ``configs`` from this checkout: in S3 for ml.* types, under LOCAL.RUNS_DIR
    for local runs."""
    cfg = configs.sagemaker
    if is_local(cfg.SAGEMAKER.INSTANCE_TYPE):
        root = Path(cfg.LOCAL.RUNS_DIR).resolve().as_uri()
    else:
        root = f"s3://{cfg.S3.BUCKET}"
    return build_spec(configs, root, git_state(), arguments, parent=parent, job_name=job_name)


def build_spec(
    configs: ResolvedConfigs,
    root: str,
    git: GitState,
    arguments: Sequence[str],
    *,
    job_name: str | None = None,
    parent: ParentCode | None = None,
) -> JobSpec:
    """The job of ``configs`` under ``root`` (``s3://bucket``, or ``file:///abs/runs`` locally); no I/O."""
    cfg = configs.sagemaker
    sm = cfg.SAGEMAKER
    local = is_local(sm.INSTANCE_TYPE)
    name = job_name or new_job_name(sm.BASE_JOB_NAME)
    experiment = cfg.S3.EXPERIMENT_NAME
    prefix = job_prefix(root, experiment, name)
    code = _code(cfg, prefix, git, parent, local)
    tags = [
        (TAG_EXPERIMENT, experiment),
        (TAG_GIT_COMMIT, code.commit or "none"),
        (TAG_CONFIG, config_uri(prefix)),
    ]
    if parent:
        tags.append((TAG_PARENT_JOB, parent.job))
    tags += list(sm.TAGS.items())
    checkpoint = cfg.CHECKPOINT_SYNC
    checkpoints = None
    if checkpoint.ENABLED:
        uri = f"{prefix}checkpoints/" if local or not checkpoint.S3_URI else checkpoint.S3_URI
        checkpoints = Checkpoints(uri, checkpoint.LOCAL_PATH)
    network = cfg.NETWORK
    debugger = debugger_of(cfg)
    return JobSpec(
        name=name,
        experiment=experiment,
        prefix=prefix,
        instance_type=sm.INSTANCE_TYPE,
        instance_count=sm.INSTANCE_COUNT,
        volume_size_gb=sm.VOLUME_SIZE_GB,
        volume_kms_key_id=sm.VOLUME_KMS_KEY_ID,
        keep_alive_seconds=sm.KEEP_ALIVE_PERIOD_SECONDS,
        max_run_seconds=sm.MAX_RUN_SECONDS,
        spot=sm.USE_SPOT_INSTANCES,
        max_wait_seconds=sm.MAX_WAIT_SECONDS,
        role_arn="" if local else sm.ROLE_ARN,
        region=sm.REGION or LOCAL_REGION,
        image_uri=image_uri(cfg),
        code=code,
        processes=processes_of(configs),
        channels=_channels(cfg, prefix),
        hyperparameters=frozen_map(job_hyperparameters(configs)),
        environment=frozen_map(job_environment(cfg, debugger)),
        metrics=frozen_map(cfg.METRICS),
        tags=tuple(tags),
        checkpoints=checkpoints,
        kms_key_id="" if local else cfg.S3.KMS_KEY_ID,
        network=Network(
            subnets=tuple(network.SUBNETS),
            security_group_ids=tuple(network.SECURITY_GROUP_IDS),
            isolation=network.ENABLE_NETWORK_ISOLATION,
            encrypt_inter_container_traffic=network.ENCRYPT_INTER_CONTAINER_TRAFFIC,
        ),
        remote_debug=sm.ENABLE_REMOTE_DEBUG and not local,
        debugger=debugger,
        provenance=Provenance(
            sagemaker_yaml=cfg.dump(),
            training_yaml=configs.training.dump() if configs.training is not None else None,
            config_files=frozen_map(
                {
                    "sagemaker": tuple(map(str, configs.sagemaker_files)),
                    "training": tuple(map(str, configs.training_files)),
                }
            ),
            overrides=configs.overrides,
            arguments=tuple(arguments),
            git=git,
            parent_job=parent.job if parent else None,
        ),
        sdk_defaults_sources=frozen_map(configs.sdk_defaults_sources),
        local=LocalSettings(Path(cfg.LOCAL.REQUIREMENTS_CACHE_DIR).expanduser()) if local else None,
    )


def _code(cfg: CfgNode, prefix: str, git: GitState, parent: ParentCode | None, local: bool) -> Code:
    """Which code the job runs. Local runs always run a code folder and keep its archive, as a SageMaker
    job keeps its upload; a reproduced job runs its parent's archive unless SOURCE_DIR was given anew."""
    entry_point = cfg.SAGEMAKER.ENTRY_POINT
    if parent is not None and parent.archive_uri:
        return Code(CODE_PARENT, entry_point, None, parent.archive_uri, parent.commit)
    if cfg.SAGEMAKER.SOURCE_DIR or local:
        return Code(CODE_UPLOADED, entry_point, code_dir(cfg), f"{prefix}{CODE_ARCHIVE}", git.commit)
    # The image's code: a reproduced job's is the parent's image, pinned by digest, so its commit too.
    return Code(CODE_IMAGE, entry_point, None, None, parent.commit if parent else git.commit)


def _channels(cfg: CfgNode, prefix: str) -> tuple[Channel, ...]:
    """Each INPUTS entry: an S3 URI as it is; a local path uploaded under the prefix (SageMaker) or read
    where it is (local runs)."""
    channels = []
    for name, location in cfg.INPUTS.items():
        if is_s3_uri(location):
            channels.append(Channel(name, location))
        elif is_s3_uri(prefix):
            channels.append(Channel(name, f"{prefix}{INPUTS_DIR}/{name}/", Path(location)))
        else:
            channels.append(Channel(name, Path(location).resolve().as_uri()))
    return tuple(channels)
