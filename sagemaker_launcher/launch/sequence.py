"""The launch: resolve and validate, describe the job once (the spec), then stage its files and create it.

Nothing is written and no AWS call is made until validation has passed; a dry run stops once the
request is built. A launch is all or nothing: when a step fails or an interrupt (Ctrl-C, SIGTERM,
SIGHUP) arrives, what it wrote is removed again, unless the job exists after all, which it asks
SageMaker before removing anything (``undo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.aws.images import image_identity
from sagemaker_launcher.aws.storage import JobStorage, put_code, write_config_channel
from sagemaker_launcher.aws.training_jobs import TRAINING_JOB, JobKind, describe
from sagemaker_launcher.config.loading import ResolvedConfigs, load_configs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.config.sdk_defaults import apply_sdk_defaults, load_sdk_defaults
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.launch.undo import Undo, shielded
from sagemaker_launcher.spec.job import JobSpec
from sagemaker_launcher.spec.record import build_record
from sagemaker_launcher.spec.request import checked, training_job_request


def resolve(config_file: str | Path | None, overrides: Sequence[str]) -> ResolvedConfigs:
    """Load, complete (a team's SDK defaults, for ml.* jobs) and validate both configs; raises
    ``LauncherError`` before anything is touched."""
    configs = with_sdk_defaults(load_configs(config_file, overrides))
    validate(configs)
    return configs


def with_sdk_defaults(configs: ResolvedConfigs) -> ResolvedConfigs:
    """``configs`` filled in by the team's SDK defaults files; local runs take none."""
    sm = configs.sagemaker.SAGEMAKER
    if is_local(sm.INSTANCE_TYPE):
        return configs

    def read_s3(uri: str) -> bytes | None:
        with aws_errors(f"Reading the SageMaker SDK defaults file {uri}", "s3:GetObject"):
            return JobStorage(sm.REGION or None).read(uri)

    return apply_sdk_defaults(configs, load_sdk_defaults(read_s3))


def launch_on_sagemaker(spec: JobSpec, request: dict[str, Any] | None = None) -> None:
    """Stage the job's files under its S3 prefix and create the training job (its checked request)."""
    stage_and_create(spec, request or checked(spec, training_job_request(spec)), TRAINING_JOB)


def stage_and_create(spec: JobSpec, request: dict[str, Any], kind: JobKind) -> None:
    """Upload inputs, code, configs, record and request under the spec's S3 prefix, then create the job.

    Refuses a taken name before writing anything. All or nothing (``Undo``): a failure or an interrupt
    removes what was written unless the job exists after all; an interrupt while the create request is
    on its way waits for SageMaker's answer first.
    """
    region = spec.region
    storage = JobStorage(region, spec.kms_key_id)
    with aws_errors(f"Preparing {kind.noun} {spec.name}", None, spec.name):
        # Clients are made here, one thread at a time: boto3's default session is not thread-safe.
        sagemaker, sts, ecr = (aws_client(service, region) for service in ("sagemaker", "sts", "ecr"))
        _ = storage.client
        with ThreadPoolExecutor(max_workers=3) as pool:
            identity = pool.submit(lambda: sts.get_caller_identity()["Arn"])
            image = pool.submit(image_identity, ecr, spec.image_uri)
            taken = pool.submit(_taken, storage, sagemaker, kind, spec)
            if taken.result():
                raise LauncherError(
                    f"Job name {spec.name} is taken: a {kind.noun} or files under {spec.prefix} already "
                    "exist, and this launch must not overwrite them. Launch again for a new name."
                )
            record = build_record(spec, identity.result(), image.result())
    undo = Undo(storage, sagemaker, kind, spec.name, spec.prefix)
    with undo.on_failure(), aws_errors(f"Launching {kind.noun} {spec.name}", None):
        for channel in spec.uploads:
            assert channel.upload_from is not None
            storage.upload(channel.upload_from, channel.uri, f"input '{channel.name}'")
        if spec.packs_code:
            put_code(storage, spec)
        write_config_channel(storage, spec, record, request)
        undo.create_sent()
        shielded(lambda: getattr(sagemaker, kind.create)(**request), kind.operation, undo.create_refused)


def _taken(storage: JobStorage, sagemaker: Any, kind: JobKind, spec: JobSpec) -> bool:
    return storage.holds_objects(spec.prefix) or describe(sagemaker, kind, spec.name) is not None
