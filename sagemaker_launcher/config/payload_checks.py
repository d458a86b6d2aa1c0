"""Checks of what a job is given: input channels, environment and tags, network, metrics, hyperparameters."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from sagemaker_container.sagemaker_contract.names import CONFIG_CHANNEL
from sagemaker_container.sagemaker_contract.yaml_reading import shown
from sagemaker_launcher.config.field_checks import FieldChecker
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.config.spec_building import job_hyperparameters, processes_of
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.spec import service_model
from sagemaker_launcher.spec.layout import LAUNCHER_TAG_KEYS, encode_hyperparameters, is_s3_uri
from sagemaker_launcher.spec.request import SCRIPT_MODE_HYPERPARAMETERS, distribution_hyperparameters

# Hyperparameter names that belong to SageMaker and its SDK.
_RESERVED_HYPERPARAMETER_PREFIX = "sagemaker_"
# A script argument's name: an option on a command line and part of an environment variable's name
# ("=", spaces and control characters would break one or the other).
_ARGUMENT_NAME = re.compile(r"[A-Za-z0-9_.:/][A-Za-z0-9_.:/-]*")


def check_inputs(job: FieldChecker) -> None:
    """Channel names, S3 URIs and local paths that hold data (local runs take no S3 data)."""
    inputs: Mapping[str, str] = job.cfg.INPUTS
    most = service_model.field("InputDataConfig").max - 1
    if len(inputs) > most:
        raise job.fail("INPUTS", sorted(inputs), f"has {len(inputs)} channels; at most {most} fit.")
    channel = service_model.field("ChannelName")
    for name, location in inputs.items():
        key = f"INPUTS.{name}"
        if name == CONFIG_CHANNEL:
            raise job.fail(key, location, "uses the reserved channel name 'config' (the launcher's configs).")
        if not channel.matches(name) or len(name) > channel.max:
            raise job.fail(
                key,
                location,
                f"has an invalid channel name: use up to {channel.max} letters, digits, '.', '-' or '_'.",
            )
        if is_s3_uri(location):
            job.s3_uri(key, location)
            if is_local(job.instance_type):
                raise job.fail(
                    key,
                    location,
                    f"is in S3, but {job.instance_type} runs read local folders and need no AWS "
                    "account: download it first (aws s3 sync) and give the local path.",
                )
        elif "://" in location:
            raise job.fail(key, location, "must be an s3:// URI or a local path.")
        elif not Path(location).exists():
            raise job.fail(
                key,
                location,
                f"does not exist (relative paths are resolved from {Path.cwd()}). For the example "
                "data run: python scripts/make_digits_data.py",
            )
        else:
            problem = local_channel_problem(Path(location))
            if problem:
                raise job.fail(key, location, problem)


def check_maps(job: FieldChecker) -> None:
    """Environment and tags within the API's limits, and no reserved tag key."""
    environment: Mapping[str, str] = job.cfg.SAGEMAKER.ENVIRONMENT
    job.entries(
        "SAGEMAKER.ENVIRONMENT",
        environment,
        "TrainingEnvironmentMap",
        "TrainingEnvironmentKey",
        "TrainingEnvironmentValue",
    )
    tags: Mapping[str, str] = job.cfg.SAGEMAKER.TAGS
    job.entries("SAGEMAKER.TAGS", tags, "TagList", "TagKey", "TagValue", reserved=len(LAUNCHER_TAG_KEYS))
    for key in tags:
        if key.lower().startswith("aws:") or key in LAUNCHER_TAG_KEYS:
            raise job.fail(
                f"SAGEMAKER.TAGS.{key}",
                tags[key],
                "uses a reserved tag key (aws:* or the launcher's own).",
            )


def check_network(job: FieldChecker) -> None:
    """VPC subnets and security groups: both or neither, with valid IDs."""
    network = job.cfg.NETWORK
    subnets, groups = network.SUBNETS, network.SECURITY_GROUP_IDS
    if bool(subnets) != bool(groups):
        empty_key = "NETWORK.SECURITY_GROUP_IDS" if subnets else "NETWORK.SUBNETS"
        raise job.fail(
            empty_key,
            [],
            "is empty while its partner is set: a VPC needs both subnets and security groups.",
        )
    for key, values, list_shape, item_shape in (
        ("NETWORK.SUBNETS", subnets, "Subnets", "SubnetId"),
        ("NETWORK.SECURITY_GROUP_IDS", groups, "VpcSecurityGroupIds", "SecurityGroupId"),
    ):
        if values and len(values) > service_model.field(list_shape).max:
            raise job.fail(key, values, f"has more than {service_model.field(list_shape).max} entries.")
        item = service_model.field(item_shape)
        for value in values:
            if not isinstance(value, str) or not item.matches(value) or len(value) > item.max:
                raise job.fail(key, values, f"has an invalid ID {value!r}.")


def check_metrics_and_checkpoints(job: FieldChecker) -> None:
    """Metric definitions (names, regexes with a capture group) and checkpoint sync settings."""
    metrics: Mapping[str, str] = job.cfg.METRICS
    most = service_model.field("MetricDefinitionList").max
    if len(metrics) > most:
        raise job.fail("METRICS", sorted(metrics), f"has {len(metrics)} entries; at most {most}.")
    for name, regex in metrics.items():
        key = f"METRICS.{name}"
        job.text(key, name, service_model.field("MetricName"))
        job.text(key, regex, service_model.field("MetricRegex"))
        try:
            groups = re.compile(regex).groups
        except re.error as error:
            raise job.fail(key, regex, f"is not a valid regular expression ({error}).") from None
        if groups < 1:
            raise job.fail(key, regex, "needs a capture group around the metric's value.")
    checkpoint = job.cfg.CHECKPOINT_SYNC
    if checkpoint.S3_URI:
        job.s3_uri("CHECKPOINT_SYNC.S3_URI", checkpoint.S3_URI)
    if not checkpoint.LOCAL_PATH.startswith("/"):
        raise job.fail("CHECKPOINT_SYNC.LOCAL_PATH", checkpoint.LOCAL_PATH, "must be an absolute path.")


def check_hyperparameters(job: FieldChecker, configs: ResolvedConfigs) -> None:
    """Script arguments, and every hyperparameter the job sends, within the API's count and patterns."""
    script_arguments: Mapping[str, str] = job.cfg.HYPERPARAMETERS
    for name in script_arguments:
        key = f"HYPERPARAMETERS.{name}"
        if not _ARGUMENT_NAME.fullmatch(name):
            raise job.fail(
                key,
                script_arguments[name],
                "has a name a script cannot receive: it reaches the script as '--NAME value' and in the "
                "variable SM_HP_NAME, so use letters, digits and . _ - : / only, not starting with '-'.",
            )
        if name.startswith(_RESERVED_HYPERPARAMETER_PREFIX):
            raise job.fail(key, script_arguments[name], "uses SageMaker's reserved 'sagemaker_' prefix.")
        if configs.training_defaults.sends_training_keys:
            raise job.fail(
                key,
                script_arguments[name],
                "is a script argument, but the example's main.py (the default TRAINING.DEFAULTS) takes "
                "none: set training keys such as SOLVER.EPOCHS instead, or point SAGEMAKER.SOURCE_DIR "
                "and TRAINING.DEFAULTS at your own script.",
            )
    encoded = encode_hyperparameters(job_hyperparameters(configs))
    # What the request adds beside the job's own: script mode's and the per-GPU launch's.
    sdk_own = {*SCRIPT_MODE_HYPERPARAMETERS, *distribution_hyperparameters(processes_of(configs))}
    most = service_model.field("HyperParameters").max - len(sdk_own)
    own = len(set(encoded) - sdk_own)
    if own > most:
        raise LauncherError(
            f"{job.where}: the job would send {own} hyperparameters (training keys and "
            f"HYPERPARAMETERS), but a job takes at most {most} beside the SDK's own. Move rarely changed "
            "values out of the training config, or group them into list values."
        )
    key_field, value_field = (service_model.field(n) for n in ("HyperParameterKey", "HyperParameterValue"))
    for key, value in encoded.items():
        if not key_field.matches(key) or not value_field.matches(value):
            raise LauncherError(
                f"{job.where}: hyperparameter {shown(key)} = {shown(value)} does not fit the API's "
                f"patterns (name {key_field.pattern}, value {value_field.pattern}); use printable text."
            )
        if len(key) > key_field.max or len(value) > value_field.max:
            raise LauncherError(
                f"{job.where}: '{key}' is too long to send as a hyperparameter (name at most "
                f"{key_field.max} characters, value as JSON at most {value_field.max}; this value is "
                f"{len(value)})."
            )


def local_channel_problem(path: Path) -> str | None:
    """Why an existing local INPUTS path would make an empty channel, or None.

    A channel is a regular file or a folder's regular files (what the upload sends); anything else
    reaches the job as an empty channel, which fails only once the job starts, after every upload.
    """
    if path.is_file():
        return None if os.access(path, os.R_OK) else "cannot be read (permission denied): make it readable."
    if path.is_dir():
        files = [entry for entry in path.rglob("*") if entry.is_file()]
        unreadable = next((entry for entry in files if not os.access(entry, os.R_OK)), None)
        if unreadable is not None:
            return (
                f"holds {unreadable}, which cannot be read (permission denied): make it readable or move it "
                "out of the folder."
            )
        if files:
            return None
        return (
            "is a folder with no file in it (at most empty subfolders), so its channel would be empty. "
            "Put the data files in it, or point the channel at the folder that holds them."
        )
    kinds = (
        (path.is_fifo, "a named pipe (FIFO)"),
        (path.is_socket, "a socket"),
        (path.is_char_device, "a character device"),
        (path.is_block_device, "a block device"),
    )
    kind = next((name for test, name in kinds if test()), "a special file")
    return (
        f"is {kind}, not a file or folder of files, so nothing could be uploaded or read as its channel. "
        "Point it at the data on disk: a file, or a folder holding the files."
    )
