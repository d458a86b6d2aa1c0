"""The SageMaker Python SDK 2.x as a test oracle: the request an Estimator (or its tuner) sends for a job.

The launcher never imports the SDK; the tests do, to prove that the request the launcher builds from a
job spec is the one a hand-written Estimator sends for the same job. The Estimator here is what a team
would write: a generic ``Estimator`` for a script that runs once per host, the SDK's ``PyTorch``
estimator with ``distribution={"torch_distributed": {"enabled": True}}`` for one started by torchrun;
the code archive is passed as an ``s3://`` ``source_dir``, so the SDK uploads nothing. Requests are taken
at the SDK's own interception point (the one its pipeline sessions use) and never sent.
"""

from __future__ import annotations

import json
from typing import Any

from sagemaker_launcher.spec.job import CODE_IMAGE, JobSpec, ParameterRange, TuningPlan
from sagemaker_launcher.spec.request import distribution_hyperparameters

# The framework version the PyTorch estimator is told; with image_uri given it only selects defaults.
PYTORCH_VERSION = "2.8"
PYTHON_VERSION = "py312"
_SCALING = {"linear": "Linear", "log": "Logarithmic"}


def _session(region: str) -> Any:
    """A Session that keeps the create request it is handed (``.request``) and sends nothing."""
    import boto3
    from sagemaker.session import Session

    class CapturingSession(Session):
        request: dict[str, Any] | None = None

        def _intercept_create_request(self, request, create, func_name=None):  # type: ignore[override]
            self.request = request

    return CapturingSession(
        boto_session=boto3.Session(region_name=region),
        sagemaker_config={
            "SchemaVersion": "1.0",
            "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
        },
    )


def estimator(spec: JobSpec, session: Any) -> Any:
    """The Estimator a team would write for ``spec``'s job."""
    from sagemaker.debugger import TensorBoardOutputConfig
    from sagemaker.estimator import Estimator
    from sagemaker.pytorch import PyTorch

    script_mode = spec.code.source != CODE_IMAGE
    hyperparameters = dict(spec.hyperparameters)
    if not script_mode:
        # Code in the image: a generic Estimator, which sends hyperparameters as given, so the program
        # and the per-GPU launch are named by hand.
        hyperparameters.update(
            sagemaker_program=spec.code.entry_point, **distribution_hyperparameters(spec.processes)
        )
        hyperparameters = {key: json.dumps(value) for key, value in hyperparameters.items()}
    network = spec.network
    arguments: dict[str, Any] = dict(
        image_uri=spec.image_uri,
        role=spec.role_arn,
        instance_count=spec.instance_count,
        instance_type=spec.instance_type,
        volume_size=spec.volume_size_gb,
        volume_kms_key=spec.volume_kms_key_id or None,
        keep_alive_period_in_seconds=spec.keep_alive_seconds or None,
        max_run=spec.max_run_seconds,
        use_spot_instances=spec.spot,
        max_wait=spec.max_wait_seconds or None,
        output_path=spec.output_path,
        output_kms_key=spec.kms_key_id or None,
        checkpoint_s3_uri=spec.checkpoints.uri if spec.checkpoints else None,
        checkpoint_local_path=spec.checkpoints.local_path if spec.checkpoints else None,
        subnets=list(network.subnets) or None,
        security_group_ids=list(network.security_group_ids) or None,
        enable_network_isolation=network.isolation,
        encrypt_inter_container_traffic=network.encrypt_inter_container_traffic,
        environment=dict(spec.environment),
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in spec.metrics.items()],
        tags=[{"Key": key, "Value": value} for key, value in spec.tags],
        hyperparameters=hyperparameters,
        source_dir=spec.code.archive_uri if script_mode else None,
        entry_point=spec.code.entry_point if script_mode else None,
        debugger_hook_config=False,
        disable_profiler=True,
        tensorboard_output_config=TensorBoardOutputConfig(spec.tensorboard_uri),
        enable_remote_debug=spec.remote_debug or None,
        sagemaker_session=session,
    )
    if spec.processes.torchrun and script_mode:
        return PyTorch(
            framework_version=PYTORCH_VERSION,
            py_version=PYTHON_VERSION,
            distribution={"torch_distributed": {"enabled": True}},
            **arguments,
        )
    return Estimator(**arguments)


def training_job_request(spec: JobSpec) -> dict[str, Any]:
    """The CreateTrainingJob request the Estimator sends for ``spec`` (nothing is sent)."""
    session = _session(spec.region)
    job = estimator(spec, session)
    channels = {channel.name: channel.uri for channel in spec.channels}
    channels["config"] = spec.config_uri
    job.fit(inputs=channels, wait=False, job_name=spec.name)
    assert session.request is not None
    return session.request


def tuning_job_request(spec: JobSpec, plan: TuningPlan) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request the SDK's HyperparameterTuner sends around ``spec``."""
    from sagemaker.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.tuner import HyperparameterTuner

    session = _session(spec.region)
    job = estimator(spec, session)
    ranges: dict[str, Any] = {}
    for name, value in plan.ranges.items():
        if not isinstance(value, ParameterRange):
            # A framework estimator's tuner JSON-encodes categorical values itself; a generic one sends
            # them as given, already JSON as the job's hyperparameters are.
            framework = spec.processes.torchrun and spec.code.source != CODE_IMAGE
            ranges[name] = CategoricalParameter(
                [json.loads(item) for item in value] if framework else list(value)
            )
        elif value.integer:
            ranges[name] = IntegerParameter(
                int(value.low), int(value.high), scaling_type=_SCALING[value.scale]
            )
        else:
            ranges[name] = ContinuousParameter(value.low, value.high, scaling_type=_SCALING[value.scale])
    tuner = HyperparameterTuner(
        job,
        objective_metric_name=plan.metric,
        hyperparameter_ranges=ranges,
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in spec.metrics.items()],
        strategy="Bayesian",
        objective_type=plan.goal.capitalize(),
        max_jobs=plan.max_jobs,
        max_parallel_jobs=plan.max_parallel,
        tags=[{"Key": key, "Value": value} for key, value in spec.tags],
    )
    channels = {channel.name: channel.uri for channel in spec.channels}
    channels["config"] = spec.config_uri
    tuner.fit(inputs=channels, job_name=plan.name, include_cls_metadata=False, wait=False)
    assert session.request is not None
    return session.request
