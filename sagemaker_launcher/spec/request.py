"""The one request every mode runs: CreateTrainingJob (and CreateHyperParameterTuningJob) from a job spec.

Pure functions: the same spec gives the same request, which a launch sends with boto3, every dry run
prints, ``config/request.json`` keeps and a local run executes. It is the request an SDK 2.x
``Estimator`` sends for the same job (tests/end_to_end/test_sdk_oracle.py proves it field by field);
what differs on purpose is listed there and here:

- code baked into the image (no SOURCE_DIR) is still named by ``sagemaker_program``: the image sets
  no SAGEMAKER_PROGRAM, so every job names its program;
- the per-GPU launch is switched on by ``sagemaker_torch_distributed_enabled`` (as the SDK's PyTorch
  estimator does with ``distribution={"torch_distributed": {"enabled": True}}``) and a forced number
  of processes per host travels as ``sagemaker_mpi_num_of_processes_per_host``, which the image's
  toolkit reads for torchrun too (the SDK has no argument for it);
- with ``DEBUGGER.HOLD_ON_FAILURE_SECONDS`` the program is the hold's runner, ``job_debugger.py``, which
  starts the entry point that the ``SM_LAUNCHER_ENTRY_POINT`` variable names;
- local runs read ``file://`` channels (``FileDataSource``, as SDK local mode writes them) and name
  no role; host mode names no image.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sagemaker_container.job_debugger import RUNNER_FILE
from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    CONTAINER_LOG_LEVEL_HYPERPARAMETER,
    JOB_NAME_HYPERPARAMETER,
    PROCESSES_PER_HOST_HYPERPARAMETER,
    PROGRAM_HYPERPARAMETER,
    REGION_HYPERPARAMETER,
    SUBMIT_DIRECTORY_HYPERPARAMETER,
    TORCH_DISTRIBUTED_HYPERPARAMETER,
)
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.spec.job import CODE_IMAGE, LOCAL_PROCESS, JobSpec, Processes, TuningPlan
from sagemaker_launcher.spec.layout import encode_hyperparameters, is_s3_uri
from sagemaker_launcher.spec.service_model import request_problems

# The toolkit's log level the SDK sends in script mode (logging.INFO).
CONTAINER_LOG_LEVEL = 20
# The hyperparameters the SDK adds in script mode, beside the job's own.
SCRIPT_MODE_HYPERPARAMETERS = (
    PROGRAM_HYPERPARAMETER,
    SUBMIT_DIRECTORY_HYPERPARAMETER,
    CONTAINER_LOG_LEVEL_HYPERPARAMETER,
    JOB_NAME_HYPERPARAMETER,
    REGION_HYPERPARAMETER,
)
DISTRIBUTION_HYPERPARAMETERS = (TORCH_DISTRIBUTED_HYPERPARAMETER, PROCESSES_PER_HOST_HYPERPARAMETER)


def distribution_hyperparameters(processes: Processes) -> dict[str, Any]:
    """The switch of the image's per-GPU launch, and a forced count; none for one process per host."""
    if not processes.torchrun:
        return {}
    values: dict[str, Any] = {TORCH_DISTRIBUTED_HYPERPARAMETER: True}
    if processes.per_host:
        values[PROCESSES_PER_HOST_HYPERPARAMETER] = processes.per_host
    return values


def processes_per_host(framework_parameters: Mapping[str, Any], gpus: int) -> int | None:
    """torchrun's ``--nproc_per_node`` as the image's toolkit picks it, or None when it runs the script
    once. ``framework_parameters`` are the job's ``sagemaker_*`` hyperparameters, decoded (the toolkit's
    SM_FRAMEWORK_PARAMS); ``gpus`` the host's GPU count (SM_NUM_GPUS)."""
    if not framework_parameters.get(TORCH_DISTRIBUTED_HYPERPARAMETER):
        return None
    return int(framework_parameters.get(PROCESSES_PER_HOST_HYPERPARAMETER) or gpus or 1)


def decoded_hyperparameters(request: Mapping[str, Any]) -> dict[str, Any]:
    """A request's hyperparameters as values (each is sent as JSON text); a text that is not JSON as is."""
    values = {}
    for name, text in (request.get("HyperParameters") or {}).items():
        try:
            values[name] = json.loads(text)
        except (TypeError, ValueError):
            values[name] = text
    return values


def program(spec: JobSpec) -> str:
    """The script the image's toolkit starts: the entry point, or the hold's runner, which starts it."""
    return RUNNER_FILE if spec.debugger.holds else spec.code.entry_point


def all_hyperparameters(spec: JobSpec) -> dict[str, Any]:
    """Every hyperparameter the job sends, decoded: its own, the script mode's and the distribution's."""
    values = dict(spec.hyperparameters)
    code = spec.code
    if code.source == CODE_IMAGE:
        values[PROGRAM_HYPERPARAMETER] = program(spec)
    else:
        values.update(
            {
                PROGRAM_HYPERPARAMETER: program(spec),
                SUBMIT_DIRECTORY_HYPERPARAMETER: code.archive_uri,
                CONTAINER_LOG_LEVEL_HYPERPARAMETER: CONTAINER_LOG_LEVEL,
                JOB_NAME_HYPERPARAMETER: spec.name,
                REGION_HYPERPARAMETER: spec.region,
            }
        )
    values.update(distribution_hyperparameters(spec.processes))
    return values


def training_job_request(spec: JobSpec) -> dict[str, Any]:
    """The CreateTrainingJob request of ``spec``."""
    request: dict[str, Any] = {
        "TrainingJobName": spec.name,
        **_job_definition(spec),
        "HyperParameters": encode_hyperparameters(all_hyperparameters(spec)),
        "Tags": tags(spec.tags),
        "ProfilerConfig": {"DisableProfiler": True},
    }
    if not spec.is_local or spec.environment:
        request["Environment"] = dict(spec.environment)
    request["TensorBoardOutputConfig"] = {"S3OutputPath": spec.tensorboard_uri}
    if spec.remote_debug:
        request["RemoteDebugConfig"] = {"EnableRemoteDebug": True}
    return request


def tuning_job_request(spec: JobSpec, plan: TuningPlan) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request of a bayesian sweep around ``spec``'s job.

    Its training jobs run ``spec``'s definition, with the ranged hyperparameters set by the tuner.
    """
    static = encode_hyperparameters(all_hyperparameters(spec))
    # The training job's name is the tuner's to choose; the SDK leaves it out here too.
    static.pop(JOB_NAME_HYPERPARAMETER, None)
    for name in plan.ranges:
        static.pop(name, None)
    definition = {
        **_job_definition(spec),
        "StaticHyperParameters": static,
        "Environment": dict(spec.environment),
    }
    # The tuning API's own name for the same resources, as the SDK's tuner sends them.
    definition["HyperParameterTuningResourceConfig"] = definition.pop("ResourceConfig")
    return {
        "HyperParameterTuningJobName": plan.name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": plan.goal.capitalize(), "MetricName": plan.metric},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": plan.max_jobs,
                "MaxParallelTrainingJobs": plan.max_parallel,
            },
            "ParameterRanges": _parameter_ranges(plan),
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": definition,
        "Tags": tags(spec.tags),
    }


def tags(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs]


def _job_definition(spec: JobSpec) -> dict[str, Any]:
    """The fields a training job and a tuning job's training jobs share."""
    algorithm: dict[str, Any] = {"TrainingInputMode": "File"}
    if spec.instance_type != LOCAL_PROCESS:
        algorithm["TrainingImage"] = spec.image_uri
    algorithm["MetricDefinitions"] = [{"Name": name, "Regex": regex} for name, regex in spec.metrics.items()]
    definition: dict[str, Any] = {"AlgorithmSpecification": algorithm}
    if not spec.is_local:
        definition["RoleArn"] = spec.role_arn
    definition["InputDataConfig"] = [_channel(name, uri) for name, uri in _channel_uris(spec).items()]
    output: dict[str, Any] = {"S3OutputPath": spec.output_path}
    if spec.kms_key_id:
        output["KmsKeyId"] = spec.kms_key_id
    definition["OutputDataConfig"] = output
    resources: dict[str, Any] = {
        "InstanceCount": spec.instance_count,
        "InstanceType": spec.instance_type,
        "VolumeSizeInGB": spec.volume_size_gb,
    }
    if spec.volume_kms_key_id:
        resources["VolumeKmsKeyId"] = spec.volume_kms_key_id
    if spec.keep_alive_seconds:
        resources["KeepAlivePeriodInSeconds"] = spec.keep_alive_seconds
    definition["ResourceConfig"] = resources
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": spec.max_run_seconds}
    if spec.spot:
        stopping["MaxWaitTimeInSeconds"] = spec.max_wait_seconds
    definition["StoppingCondition"] = stopping
    network = spec.network
    if network.subnets:
        definition["VpcConfig"] = {
            "Subnets": list(network.subnets),
            "SecurityGroupIds": list(network.security_group_ids),
        }
    if network.isolation:
        definition["EnableNetworkIsolation"] = True
    if network.encrypt_inter_container_traffic:
        definition["EnableInterContainerTrafficEncryption"] = True
    if spec.spot:
        definition["EnableManagedSpotTraining"] = True
    if spec.checkpoints:
        definition["CheckpointConfig"] = {
            "S3Uri": spec.checkpoints.uri,
            "LocalPath": spec.checkpoints.local_path,
        }
    return definition


def _channel_uris(spec: JobSpec) -> dict[str, str]:
    uris = {channel.name: channel.uri for channel in spec.channels}
    uris[CONFIG_CHANNEL] = spec.config_uri
    return uris


def _channel(name: str, uri: str) -> dict[str, Any]:
    """One channel as the SDK's TrainingInput writes it (S3), or SDK local mode (a local folder)."""
    if is_s3_uri(uri):
        source = {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        }
    else:
        source = {"FileDataSource": {"FileUri": uri, "FileDataDistributionType": "FullyReplicated"}}
    return {"ChannelName": name, "DataSource": source}


def _parameter_ranges(plan: TuningPlan) -> dict[str, list[dict[str, Any]]]:
    """The tuner's ranges: categorical values are JSON texts, as the job's hyperparameters are."""
    ranges: dict[str, list[dict[str, Any]]] = {
        "ContinuousParameterRanges": [],
        "IntegerParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, spec in plan.ranges.items():
        if isinstance(spec, tuple):
            ranges["CategoricalParameterRanges"].append({"Name": name, "Values": list(spec)})
            continue
        kind = "IntegerParameterRanges" if spec.integer else "ContinuousParameterRanges"
        low, high = (int(spec.low), int(spec.high)) if spec.integer else (spec.low, spec.high)
        ranges[kind].append(
            {
                "Name": name,
                "MinValue": str(low),
                "MaxValue": str(high),
                "ScalingType": _SCALING[spec.scale],
            }
        )
    return ranges


# A SWEEP range's SCALE as the tuner names it.
_SCALING = {"linear": "Linear", "log": "Logarithmic"}


# A local run's request holds what only the local executor reads: file:// locations, a local mode for
# instance type, no role, and (host mode) no image; the service model's checks of those fields are
# skipped for it, the rest apply.
LOCAL_ONLY_FIELDS = (
    "RoleArn",
    "ResourceConfig.InstanceType",
    "AlgorithmSpecification.TrainingImage",
    "InputDataConfig[].DataSource.FileDataSource",
    "OutputDataConfig.S3OutputPath",
    "CheckpointConfig.S3Uri",
    "TensorBoardOutputConfig.S3OutputPath",
)
_SHOWN_PROBLEMS = 3


def checked(spec: JobSpec, request: dict[str, Any], operation: str = "CreateTrainingJob") -> dict[str, Any]:
    """``request`` once it fits the API's service model; else a ``LauncherError`` naming the fields."""
    skipped = LOCAL_ONLY_FIELDS if spec.is_local else ()
    problems = request_problems(operation, request, skipped)
    if not problems:
        return request
    sources = dict(spec.sdk_defaults_sources)
    origin = f" (some values came from the SDK defaults file {', '.join(sorted(set(sources.values())))})"
    shown = "; ".join(problems[:_SHOWN_PROBLEMS]) + (
        f"; and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
    )
    files = spec.provenance.config_files.get("sagemaker") or ("the defaults",)
    raise LauncherError(
        f"The {operation} request built from {files[-1]}{origin if sources else ''} does not fit the "
        "SageMaker "
        f"API: {shown}. Fix the config key that sets each field (sagemaker_default_config.py names the "
        "field of every key in brackets); nothing was sent or written."
    )
