"""Every call into the SageMaker Python SDK (2.x) lives here, imported inside the functions.

The SDK costs about 2 s to import, so ``--help``, validation errors and job listings never load it.
Moving to another SDK is a change to this one file (which is why it is a little longer than most).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import one_line
from sagemaker_launcher.config.run_modes import LOCAL_REGION
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.launch.plan import JobPlan, encode_hyperparameters, is_s3_uri

# A role is mandatory for an Estimator; local modes never use it.
LOCAL_ROLE_ARN = "arn:aws:iam::000000000000:role/local-mode"
# Where the SDK looks for a team's defaults files, besides its default locations.
SDK_DEFAULTS_VARIABLES = ("SAGEMAKER_ADMIN_CONFIG_OVERRIDE", "SAGEMAKER_USER_CONFIG_OVERRIDE")
# SDK defaults that opt out of telemetry (SchemaVersion is required by the SDK's schema).
TELEMETRY_OPT_OUT = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
# A SWEEP range's SCALE as the tuner names it.
_SCALING = {"linear": "Linear", "log": "Logarithmic"}


def _quiet_sdk_environment() -> None:
    """Silence the SDK's v2 banner and its config loader, which logs at INFO to stdout and would
    corrupt ``--dry-run``'s JSON."""
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    for name in ("sagemaker.config", "sagemaker.telemetry"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # On import the SDK builds a JumpStart session and logs, at length, any defaults-file error:
    # the launch reports that error itself, in one paragraph (_sdk_defaults).
    logging.getLogger("sagemaker.jumpstart").setLevel(logging.ERROR)


_sdk_import: threading.Thread | None = None


def preload_sdk() -> None:
    """Start importing the SDK (about 2 s) on a background thread, while the launch does its own I/O.

    Call it once the caller has imported what it will use meanwhile (e.g. by making its boto3
    clients): two threads importing the same modules at once can get half-initialized ones.
    Every function here that uses the SDK waits for this import first (``wait_for_sdk``).
    """
    global _sdk_import
    _quiet_sdk_environment()
    if _sdk_import is not None:
        return

    def load() -> None:
        try:
            import sagemaker.estimator
            import sagemaker.session  # noqa: F401

            _validate_defaults_quickly()
        except Exception:
            return  # the caller's own import, after wait_for_sdk, meets the same error and reports it

    _sdk_import = threading.Thread(target=load, name="sagemaker-sdk-import", daemon=True)
    _sdk_import.start()


def wait_for_sdk() -> None:
    """Let a ``preload_sdk`` import finish before this thread imports from the SDK itself."""
    _quiet_sdk_environment()
    if _sdk_import is not None:
        _sdk_import.join()
    _validate_defaults_quickly()


def _validate_defaults_quickly() -> None:
    """Make the SDK validate a team's defaults file without checking its own schema each time.

    SDK 2.x validates the defaults config on every config lookup, 20 or more per launch, with
    ``jsonschema.validate``, which first checks the SDK's constant schema against the JSON Schema
    metaschema (about 0.15 s a time). This validator is built from that schema once and still checks
    the team's config on every lookup, with the same errors, so its settings (VPC, KMS, ...) apply
    as before.
    """
    import jsonschema
    from sagemaker.config import config as sdk_config

    original = sdk_config.validate_sagemaker_config
    if getattr(original, "quick", False):
        return
    schema = sdk_config.SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA
    validator = jsonschema.validators.validator_for(schema)(schema)

    def validate_sagemaker_config(sagemaker_config: dict | None = None) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(sagemaker_config))
        if error is not None:
            raise error

    validate_sagemaker_config.quick = True  # type: ignore[attr-defined]
    sdk_modules = [module for name, module in list(sys.modules.items()) if name.startswith("sagemaker.")]
    for module in sdk_modules:
        if getattr(module, "validate_sagemaker_config", None) is original:
            module.validate_sagemaker_config = validate_sagemaker_config


def _fit_without_telemetry(estimator: Any, **fit_arguments: Any) -> None:
    """Call ``Estimator.fit`` without its telemetry wrapper.

    SDK 2.x wraps ``fit`` in a telemetry emitter that sends a request to the internet with no
    timeout unless an SDK defaults file opts out. The undecorated ``fit`` (kept by
    ``functools.wraps``) builds and sends the very same request, and no telemetry with or without one.
    """
    type(estimator).fit.__wrapped__(estimator, **fit_arguments)


def create_training_job(
    cfg: CfgNode, plan: JobPlan, *, send: bool, before_send: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Build the job with the SDK's Estimator and return its CreateTrainingJob request.

    A dry run (``send=False``) shows exactly what a launch sends, and sends nothing (see
    ``request_session``); ``before_send`` sees the request just before it goes out.
    """
    session = request_session(cfg, send=send, before_send=before_send)
    estimator = build_estimator(cfg, plan, session, role=cfg.SAGEMAKER.ROLE_ARN, source_dir=plan.code_uri)
    _fit_without_telemetry(estimator, inputs=plan.channels, wait=False, job_name=plan.job_name)
    if session.request is None:
        raise RuntimeError("the SageMaker SDK built no CreateTrainingJob request")
    return session.request


def request_session(
    cfg: CfgNode, *, send: bool, before_send: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    """A SageMaker Session that keeps the create request it is handed (``.request``), shows it to
    ``before_send`` and sends it only when ``send``.

    The request is taken at the SDK's own interception point (the one its pipeline sessions use),
    for training and tuning jobs alike.
    """
    wait_for_sdk()
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

    region = cfg.SAGEMAKER.REGION
    # The launch's own SageMaker client: a new one would parse the service's large model again.
    return RequestCapturingSession(
        boto_session=boto3.Session(region_name=region),
        default_bucket=cfg.S3.BUCKET,
        sagemaker_client=aws_client("sagemaker", region),
        sagemaker_config=_sdk_defaults(),
    )


def _sdk_defaults() -> dict[str, Any]:
    """The team's SDK defaults files, loaded once (they can set VPC, KMS and more for every job).

    A file the SDK cannot use is a ``LauncherError`` naming the entry, not a 16 KB traceback.
    """
    import jsonschema
    import yaml
    from sagemaker.config import load_sagemaker_config

    try:
        return load_sagemaker_config()
    except jsonschema.exceptions.ValidationError as error:
        where = ".".join(str(part) for part in error.absolute_path) or "the top level"
        problem = f"{where}: {one_line(error.message)}"
    except (OSError, RuntimeError, ValueError, yaml.YAMLError) as error:
        problem = one_line(str(error))
    named = ", ".join(os.environ[name] for name in SDK_DEFAULTS_VARIABLES if os.environ.get(name))
    named = named or "its default locations (~/.config/sagemaker/config.yaml)"
    raise LauncherError(
        f"The SageMaker SDK's defaults file cannot be used ({problem}). The SDK reads {named}; fix or "
        "remove that entry, or point SAGEMAKER_USER_CONFIG_OVERRIDE at a valid file, then launch again."
    )


def run_local_container(
    cfg: CfgNode, plan: JobPlan, source_dir: Path, container_root: Path, output_dir: Path
) -> bool:
    """Run the job in SageMaker local mode: the image under Docker, code mounted from ``source_dir``.

    ``model.tar.gz`` and ``output.tar.gz`` land in ``output_dir``. Returns whether every container
    exited 0; the SDK's own error for a failed container is turned into ``False``.
    """
    wait_for_sdk()
    import boto3
    from sagemaker.local import LocalSession

    container_root.mkdir(parents=True, exist_ok=True)
    session = LocalSession(boto_session=boto3.Session(region_name=cfg.SAGEMAKER.REGION or LOCAL_REGION))
    session.config = {"local": {"local_code": True, "container_root": str(container_root)}}
    estimator = build_estimator(
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


def build_estimator(
    cfg: CfgNode,
    plan: JobPlan,
    session: Any,
    role: str,
    source_dir: str | None,
    output_path: str | None = None,
) -> Any:
    """The job's Estimator. TensorBoard event files (the container's default TensorBoard folder,
    /opt/ml/output/tensorboard) sync to the job's ``tensorboard/`` in S3; local mode has no such sync."""
    from sagemaker.debugger import TensorBoardOutputConfig
    from sagemaker.estimator import Estimator

    sm, network = cfg.SAGEMAKER, cfg.NETWORK
    tensorboard = TensorBoardOutputConfig(plan.tensorboard_uri) if is_s3_uri(plan.tensorboard_uri) else None
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
        tensorboard_output_config=tensorboard,
        sagemaker_session=session,
    )


def create_tuning_job(
    cfg: CfgNode,
    plan: JobPlan,
    tuning: dict[str, Any],
    *,
    send: bool,
    before_send: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Build a hyperparameter tuning job around the same Estimator and return its request.

    ``tuning`` holds ``name``, ``metric``, ``goal``, ``max_jobs``, ``max_parallel`` and ``ranges``
    (hyperparameter -> a list of JSON-encoded values, or an object with ``low``, ``high``, ``scale``
    and ``integer``). As with a training job, the request is taken where the SDK sends it, so a dry
    run shows exactly what a launch would send; ``before_send`` sees it just before it goes out.
    """
    session = request_session(cfg, send=send, before_send=before_send)
    from sagemaker.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.tuner import HyperparameterTuner

    estimator = build_estimator(cfg, plan, session, role=cfg.SAGEMAKER.ROLE_ARN, source_dir=plan.code_uri)
    ranges: dict[str, Any] = {}
    for name, spec in tuning["ranges"].items():
        if isinstance(spec, list):
            ranges[name] = CategoricalParameter(spec)
        elif spec.integer:
            ranges[name] = IntegerParameter(int(spec.low), int(spec.high), scaling_type=_SCALING[spec.scale])
        else:
            ranges[name] = ContinuousParameter(spec.low, spec.high, scaling_type=_SCALING[spec.scale])
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=tuning["metric"],
        hyperparameter_ranges=ranges,
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in cfg.METRICS.items()],
        strategy="Bayesian",
        objective_type=tuning["goal"].capitalize(),
        max_jobs=tuning["max_jobs"],
        max_parallel_jobs=tuning["max_parallel"],
        tags=plan.tags,
    )
    tuner.fit(inputs=plan.channels, job_name=tuning["name"], include_cls_metadata=False, wait=False)
    if session.request is None:
        raise RuntimeError("the SageMaker SDK built no CreateHyperParameterTuningJob request")
    return session.request
