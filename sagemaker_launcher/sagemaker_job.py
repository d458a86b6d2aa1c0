"""Every call into the SageMaker Python SDK (2.x) lives here, imported inside the functions.

The SDK costs about 2 s to import, so ``--help``, validation errors and job listings never load it.
Moving to another SDK is a change to this one file.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.job_plan import JobPlan, encode_hyperparameters
from sagemaker_launcher.run_modes import LOCAL_REGION

# A role is mandatory for an Estimator; local modes never use it.
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/local-mode"
# SDK defaults that opt out of telemetry (SchemaVersion is required by the SDK's schema).
TELEMETRY_OPT_OUT = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


def _quiet_sdk_environment() -> None:
    """Silence the SDK's v2 banner and its config loader, which logs at INFO to stdout and would
    corrupt ``--dry-run``'s JSON."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    for name in ("sagemaker.config", "sagemaker.telemetry"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _fit_without_telemetry(estimator: Any, **fit_arguments: Any) -> None:
    """Call ``Estimator.fit`` without its telemetry wrapper.

    SDK 2.x wraps ``fit`` in a telemetry emitter that sends a request to the internet with no
    timeout. Its opt-out (an SDK config file) makes every config lookup re-validate the SDK's
    whole JSON schema, about 0.45 s each and 20 or more per launch. The undecorated ``fit``
    (kept by ``functools.wraps``) builds and sends the very same request without either.
    """
    type(estimator).fit.__wrapped__(estimator, **fit_arguments)


def create_training_job(
    cfg: CfgNode, plan: JobPlan, *, send: bool, before_send: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Build the job with the SDK's Estimator and return its CreateTrainingJob request.

    The request is taken at the SDK's own interception point (the one its pipeline sessions use),
    so a dry run (``send=False``) shows exactly what a launch sends, and sends nothing.
    ``before_send`` sees the request just before it goes out.
    """
    _quiet_sdk_environment()
    import boto3
    from sagemaker.session import Session

    class RequestCapturingSession(Session):
        """A Session that keeps the create request and only sends it when asked to."""

        request: dict[str, Any] | None = None

        def _intercept_create_request(self, request, create, func_name=None):  # type: ignore[override]
            self.request = request
            if send:
                if before_send:
                    before_send(request)
                create(request)

    session = RequestCapturingSession(
        boto_session=boto3.Session(region_name=cfg.SAGEMAKER.REGION), default_bucket=cfg.S3.BUCKET
    )
    estimator = _estimator(cfg, plan, session, role=cfg.SAGEMAKER.ROLE_ARN, source_dir=plan.code_uri)
    _fit_without_telemetry(estimator, inputs=plan.channels, wait=False, job_name=plan.job_name)
    if session.request is None:
        raise RuntimeError("the SageMaker SDK built no CreateTrainingJob request")
    return session.request


def run_local_container(
    cfg: CfgNode, plan: JobPlan, source_dir: Path, container_root: Path, output_dir: Path
) -> bool:
    """Run the job in SageMaker local mode: the image under Docker, code mounted from ``source_dir``.

    ``model.tar.gz`` and ``output.tar.gz`` land in ``output_dir``. Returns whether every container
    exited 0; the SDK's own error for a failed container is turned into ``False``.
    """
    _quiet_sdk_environment()
    import boto3
    from sagemaker.local import LocalSession

    container_root.mkdir(parents=True, exist_ok=True)
    session = LocalSession(boto_session=boto3.Session(region_name=cfg.SAGEMAKER.REGION or LOCAL_REGION))
    session.config = {"local": {"local_code": True, "container_root": str(container_root)}}
    estimator = _estimator(
        cfg,
        dataclasses.replace(plan, checkpoint_uri=None),
        session,
        role=cfg.SAGEMAKER.ROLE_ARN or LOCAL_ROLE_ARN,
        source_dir=str(source_dir),
        output_path=output_dir.as_uri(),
    )
    # Local mode's client sends telemetry too; opting out here, after the Estimator is built,
    # keeps the schema re-validation to the few lookups fit() makes.
    session.sagemaker_config = TELEMETRY_OPT_OUT
    try:
        _fit_without_telemetry(estimator, inputs=plan.channels, wait=True, job_name=plan.job_name)
    except RuntimeError as error:
        if "Failed to run" not in str(error):
            raise
        return False
    return True


def follow_job(job_name: str, region: str) -> None:
    """Stream a job's CloudWatch logs until it ends; a failed or stopped job raises ``LauncherError``."""
    _quiet_sdk_environment()
    import boto3
    from sagemaker.exceptions import UnexpectedStatusException
    from sagemaker.session import Session

    session = Session(boto_session=boto3.Session(region_name=region))
    try:
        session.logs_for_job(job_name, wait=True, poll=5)
    except UnexpectedStatusException as error:
        description = session.describe_training_job(job_name)
        raise LauncherError(
            f"Job {job_name} ended {description['TrainingJobStatus']}: "
            f"{description.get('FailureReason', 'no failure reason given')}"
        ) from error


def _estimator(
    cfg: CfgNode,
    plan: JobPlan,
    session: Any,
    role: str,
    source_dir: str | None,
    output_path: str | None = None,
) -> Any:
    from sagemaker.estimator import Estimator

    sm, network = cfg.SAGEMAKER, cfg.NETWORK
    # In script mode the SDK JSON-encodes hyperparameters itself; otherwise they pass as given.
    hyperparameters = plan.hyperparameters if source_dir else encode_hyperparameters(plan.hyperparameters)
    return Estimator(
        image_uri=plan.image_uri,
        role=role,
        instance_count=sm.INSTANCE_COUNT,
        instance_type=sm.INSTANCE_TYPE,
        volume_size=sm.VOLUME_SIZE_GB,
        volume_kms_key=sm.VOLUME_KMS_KEY_ID or None,
        keep_alive_period_in_seconds=sm.KEEP_ALIVE_PERIOD_SECONDS or None,
        max_run=sm.MAX_RUN_SECONDS,
        use_spot_instances=sm.USE_SPOT_INSTANCES,
        max_wait=sm.MAX_WAIT_SECONDS or None,
        output_path=output_path or plan.output_path,
        output_kms_key=cfg.S3.OUTPUT_KMS_KEY_ID or None,
        checkpoint_s3_uri=plan.checkpoint_uri,
        checkpoint_local_path=cfg.CHECKPOINT_SYNC.LOCAL_PATH if plan.checkpoint_uri else None,
        subnets=list(network.SUBNETS) or None,
        security_group_ids=list(network.SECURITY_GROUP_IDS) or None,
        enable_network_isolation=network.ENABLE_NETWORK_ISOLATION,
        encrypt_inter_container_traffic=network.ENCRYPT_INTER_CONTAINER_TRAFFIC,
        environment=dict(sm.ENVIRONMENT),
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in cfg.METRICS.items()],
        tags=plan.tags,
        hyperparameters=hyperparameters,
        source_dir=source_dir,
        entry_point=sm.ENTRY_POINT if source_dir else None,
        debugger_hook_config=False,
        disable_profiler=True,
        sagemaker_session=session,
    )
