"""Every check made before anything touches AWS or starts a container.

Each failed check raises one ``LauncherError`` naming the config, the key and the value. Numeric
limits and patterns of API fields come from the service model (``service_limits``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.names import CONFIG_CHANNEL
from sagemaker_container.sagemaker_contract.yaml_reading import shown
from sagemaker_launcher.config import service_limits
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import LOCAL_MODES, LOCAL_PROCESS, code_dir, is_local
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.launch.distribution import distribution_hyperparameters
from sagemaker_launcher.launch.plan import (
    JOB_NAME_SUFFIX_LENGTH,
    LAUNCHER_TAG_KEYS,
    SDK_CODE_HYPERPARAMETERS,
    encode_hyperparameters,
    hyperparameters_of,
    is_s3_uri,
)

# S3's bucket naming rules (the SageMaker model has no shape for them).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# Experiment names may group experiments in folders: "vision/detector/baseline".
_EXPERIMENT_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_EXPERIMENT_MAX_LENGTH = 128
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
# Hyperparameter names that belong to SageMaker and its SDK.
_RESERVED_HYPERPARAMETER_PREFIX = "sagemaker_"


def validate(configs: ResolvedConfigs) -> None:
    """Raise ``LauncherError`` for the first problem found in the resolved configs."""
    checker = _Checker(configs)
    checker.check_resources()
    checker.check_identity_and_storage()
    checker.check_inputs()
    checker.check_code()
    checker.check_processes_per_host()
    checker.check_training_source(configs)
    checker.check_maps()
    checker.check_network()
    checker.check_metrics_and_checkpoints()
    checker.check_hyperparameters(configs)
    check_training_values(configs)


def check_training_values(configs: ResolvedConfigs) -> None:
    """Apply the training defaults' own value rules here, not after a 10-minute job start."""
    rules = configs.training_defaults.value_problems
    if configs.training is None or rules is None:
        return
    problems = rules(configs.training)
    if problems:
        files = configs.training_files
        source = configs.training_defaults.source
        where = str(files[-1]) if files else f"the training defaults ({source})"
        raise LauncherError(
            f"{where}{' with command-line overrides' if configs.overrides else ''}: training config key "
            f"{problems[0]}. Allowed values are documented in {source}."
        )


def experiment_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an S3.EXPERIMENT_NAME (an S3 prefix and a tag value), or None."""
    segments = name.split("/")
    if not name or len(name) > _EXPERIMENT_MAX_LENGTH:
        return f"must be 1 to {_EXPERIMENT_MAX_LENGTH} characters"
    if any(segment in ("", ".", "..") or not _EXPERIMENT_SEGMENT.fullmatch(segment) for segment in segments):
        return (
            "must be '/'-separated folders of letters, digits, '.', '_' or '-', with no empty, '.' or '..' "
            "folder (e.g. 'vision/detector/baseline')"
        )
    return None


def _local_channel_problem(path: Path) -> str | None:
    """Why an existing local INPUTS path would make an empty channel, or None.

    A channel is a regular file or a folder's regular files (what the upload sends); anything else
    reaches the job as an empty channel, which fails only once the job starts, after every upload.
    """
    if path.is_file():
        return None
    if path.is_dir():
        if any(entry.is_file() for entry in path.rglob("*")):
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


class _Checker:
    """Checks over one resolved SageMaker config; messages name where it came from."""

    def __init__(self, configs: ResolvedConfigs) -> None:
        self.cfg: CfgNode = configs.sagemaker
        self.where = configs.sagemaker_source
        self.instance_type: str = self.cfg.SAGEMAKER.INSTANCE_TYPE

    def fail(self, key: str, value: object, problem: str) -> LauncherError:
        return LauncherError(f"{self.where}: {key} = {shown(value)} {problem}")

    def check_resources(self) -> None:
        sm = self.cfg.SAGEMAKER
        instance_types = service_limits.field("TrainingInstanceType").enum
        if self.instance_type not in (*instance_types, *LOCAL_MODES):
            close = difflib.get_close_matches(self.instance_type, [*instance_types, *LOCAL_MODES], n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise self.fail(
                "SAGEMAKER.INSTANCE_TYPE",
                self.instance_type,
                f"is not a SageMaker training instance type nor one of {', '.join(LOCAL_MODES)}.{hint}",
            )
        self._at_least("SAGEMAKER.INSTANCE_COUNT", sm.INSTANCE_COUNT, 1)
        if self.instance_type == "local_gpu" and sm.INSTANCE_COUNT != 1:
            raise self.fail(
                "SAGEMAKER.INSTANCE_COUNT", sm.INSTANCE_COUNT, "is not supported with local_gpu: use 1."
            )
        self._in_field("SAGEMAKER.VOLUME_SIZE_GB", sm.VOLUME_SIZE_GB, "VolumeSizeInGB")
        self._in_field("SAGEMAKER.MAX_RUN_SECONDS", sm.MAX_RUN_SECONDS, "MaxRuntimeInSeconds")
        self._in_field(
            "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", sm.KEEP_ALIVE_PERIOD_SECONDS, "KeepAlivePeriodInSeconds"
        )
        if sm.USE_SPOT_INSTANCES:
            if sm.MAX_WAIT_SECONDS < sm.MAX_RUN_SECONDS:
                raise self.fail(
                    "SAGEMAKER.MAX_WAIT_SECONDS",
                    sm.MAX_WAIT_SECONDS,
                    f"must be at least SAGEMAKER.MAX_RUN_SECONDS ({sm.MAX_RUN_SECONDS}) with "
                    "USE_SPOT_INSTANCES: it bounds waiting for spot capacity plus training. Set it, e.g. "
                    f"to {2 * sm.MAX_RUN_SECONDS}.",
                )
            if sm.KEEP_ALIVE_PERIOD_SECONDS:
                raise self.fail(
                    "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS",
                    sm.KEEP_ALIVE_PERIOD_SECONDS,
                    "cannot be used with spot instances (warm pools are on-demand only); set it to 0.",
                )
        elif sm.MAX_WAIT_SECONDS:
            raise self.fail(
                "SAGEMAKER.MAX_WAIT_SECONDS",
                sm.MAX_WAIT_SECONDS,
                "only applies with SAGEMAKER.USE_SPOT_INSTANCES true; set that, or set this to 0.",
            )
        name = service_limits.field("TrainingJobName")
        longest = name.max - JOB_NAME_SUFFIX_LENGTH
        if not name.matches(sm.BASE_JOB_NAME) or len(sm.BASE_JOB_NAME) > longest:
            raise self.fail(
                "SAGEMAKER.BASE_JOB_NAME",
                sm.BASE_JOB_NAME,
                f"must be 1 to {longest} letters, digits and single hyphens, starting and ending with a "
                f"letter or digit (the launcher appends {JOB_NAME_SUFFIX_LENGTH} characters to make it "
                "unique).",
            )

    def check_identity_and_storage(self) -> None:
        sm, s3, image = self.cfg.SAGEMAKER, self.cfg.S3, self.cfg.IMAGE
        problem = experiment_name_problem(s3.EXPERIMENT_NAME)
        if problem:
            raise self.fail(
                "S3.EXPERIMENT_NAME", s3.EXPERIMENT_NAME, f"{problem}: it becomes an S3 prefix and a tag."
            )
        if self.instance_type != LOCAL_PROCESS and not (image.URI or image.REPOSITORY):
            raise self.fail(
                "IMAGE.URI",
                image.URI,
                "is empty and so is IMAGE.REPOSITORY: name the training image (build and push it with "
                "./build_and_push.sh, which prints the URI).",
            )
        if is_local(self.instance_type):
            return
        for key, value, example in (
            ("SAGEMAKER.ROLE_ARN", sm.ROLE_ARN, "arn:aws:iam::123456789012:role/SageMakerRole"),
            ("SAGEMAKER.REGION", sm.REGION, "us-east-1"),
            ("S3.BUCKET", s3.BUCKET, "my-team-sagemaker"),
        ):
            if not value:
                raise self.fail(
                    key, value, f"is required for {self.instance_type} jobs; set it, e.g. to '{example}'."
                )
        role = service_limits.field("RoleArn")
        if not (role.min <= len(sm.ROLE_ARN) <= role.max and role.matches(sm.ROLE_ARN)):
            raise self.fail(
                "SAGEMAKER.ROLE_ARN",
                sm.ROLE_ARN,
                "is not an IAM role ARN; it looks like 'arn:aws:iam::123456789012:role/SageMakerRole'.",
            )
        if not _REGION.fullmatch(sm.REGION):
            raise self.fail("SAGEMAKER.REGION", sm.REGION, "is not an AWS region name such as 'us-east-1'.")
        if not _BUCKET_NAME.fullmatch(s3.BUCKET):
            raise self.fail(
                "S3.BUCKET",
                s3.BUCKET,
                "is not a valid bucket name: 3 to 63 lowercase letters, digits, '.' and '-', without "
                "the s3:// prefix.",
            )
        self._kms("SAGEMAKER.VOLUME_KMS_KEY_ID", sm.VOLUME_KMS_KEY_ID)
        self._kms("S3.OUTPUT_KMS_KEY_ID", s3.OUTPUT_KMS_KEY_ID)

    def check_inputs(self) -> None:
        inputs: Mapping[str, str] = self.cfg.INPUTS
        most = service_limits.field("InputDataConfig").max - 1
        if len(inputs) > most:
            raise self.fail("INPUTS", sorted(inputs), f"has {len(inputs)} channels; at most {most} fit.")
        channel = service_limits.field("ChannelName")
        for name, location in inputs.items():
            key = f"INPUTS.{name}"
            if name == CONFIG_CHANNEL:
                raise self.fail(
                    key, location, "uses the reserved channel name 'config' (the launcher's configs)."
                )
            if not channel.matches(name) or len(name) > channel.max:
                raise self.fail(
                    key,
                    location,
                    f"has an invalid channel name: use up to {channel.max} letters, digits, '.', '-' or '_'.",
                )
            if is_s3_uri(location):
                self._s3_uri(key, location)
                if is_local(self.instance_type):
                    raise self.fail(
                        key,
                        location,
                        f"is in S3, but {self.instance_type} runs read local folders and need no AWS "
                        "account: download it first (aws s3 sync) and give the local path.",
                    )
            elif "://" in location:
                raise self.fail(key, location, "must be an s3:// URI or a local path.")
            elif not Path(location).exists():
                raise self.fail(
                    key,
                    location,
                    f"does not exist (relative paths are resolved from {Path.cwd()}). For the example "
                    "data run: python scripts/make_digits_data.py",
                )
            else:
                problem = _local_channel_problem(Path(location))
                if problem:
                    raise self.fail(key, location, problem)

    def check_code(self) -> None:
        sm = self.cfg.SAGEMAKER
        if not sm.SOURCE_DIR and not is_local(self.instance_type):
            return
        source_dir = code_dir(self.cfg)
        if not source_dir.is_dir():
            raise self.fail(
                "SAGEMAKER.SOURCE_DIR", str(source_dir), f"is not a folder (resolved from {Path.cwd()})."
            )
        if not (source_dir / sm.ENTRY_POINT).is_file():
            raise self.fail(
                "SAGEMAKER.ENTRY_POINT",
                sm.ENTRY_POINT,
                f"is not a file in SAGEMAKER.SOURCE_DIR ({sm.SOURCE_DIR}).",
            )

    def check_processes_per_host(self) -> None:
        sm = self.cfg.SAGEMAKER
        self._at_least("SAGEMAKER.PROCESSES_PER_HOST", sm.PROCESSES_PER_HOST, 0)
        if not distribution_hyperparameters(self.cfg):
            return
        # sagemaker-training's torchrun runner refuses shell commands and installable packages.
        package = code_dir(self.cfg) / "setup.py"
        if not sm.ENTRY_POINT.endswith(".py") or package.is_file():
            what = f"{package} makes the folder a package" if package.is_file() else "it is not a .py script"
            defaults = self.cfg.TRAINING.DEFAULTS
            raise self.fail(
                "SAGEMAKER.ENTRY_POINT",
                sm.ENTRY_POINT,
                f"cannot be started by torchrun ({what}), and SAGEMAKER.PROCESSES_PER_HOST = "
                f"{sm.PROCESSES_PER_HOST} with TRAINING.DEFAULTS {defaults!r} starts the job's "
                "processes through torchrun, which runs only a Python script outside a package. Name a .py "
                "script, or set PROCESSES_PER_HOST to 0 with your own TRAINING.DEFAULTS (or '') to run it "
                "once per instance.",
            )

    def check_training_source(self, configs: ResolvedConfigs) -> None:
        training = self.cfg.TRAINING
        if configs.training is None and training.CONFIG_FILE:
            raise self.fail(
                "TRAINING.CONFIG_FILE",
                training.CONFIG_FILE,
                f"has no training defaults to merge over (TRAINING.DEFAULTS {training.DEFAULTS!r} gives "
                "none). Name your project's defaults in TRAINING.DEFAULTS as 'module:function', or empty "
                "CONFIG_FILE and pass the script's arguments as HYPERPARAMETERS.",
            )

    def check_maps(self) -> None:
        environment: Mapping[str, str] = self.cfg.SAGEMAKER.ENVIRONMENT
        self._map(
            "SAGEMAKER.ENVIRONMENT",
            environment,
            "TrainingEnvironmentMap",
            "TrainingEnvironmentKey",
            "TrainingEnvironmentValue",
        )
        tags: Mapping[str, str] = self.cfg.SAGEMAKER.TAGS
        self._map("SAGEMAKER.TAGS", tags, "TagList", "TagKey", "TagValue", reserved=len(LAUNCHER_TAG_KEYS))
        for key in tags:
            if key.lower().startswith("aws:") or key in LAUNCHER_TAG_KEYS:
                raise self.fail(
                    f"SAGEMAKER.TAGS.{key}",
                    tags[key],
                    "uses a reserved tag key (aws:* or the launcher's own).",
                )

    def check_network(self) -> None:
        network = self.cfg.NETWORK
        subnets, groups = network.SUBNETS, network.SECURITY_GROUP_IDS
        if bool(subnets) != bool(groups):
            empty_key = "NETWORK.SECURITY_GROUP_IDS" if subnets else "NETWORK.SUBNETS"
            raise self.fail(
                empty_key,
                [],
                "is empty while its partner is set: a VPC needs both subnets and security groups.",
            )
        for key, values, list_shape, item_shape in (
            ("NETWORK.SUBNETS", subnets, "Subnets", "SubnetId"),
            ("NETWORK.SECURITY_GROUP_IDS", groups, "VpcSecurityGroupIds", "SecurityGroupId"),
        ):
            if values and len(values) > service_limits.field(list_shape).max:
                raise self.fail(key, values, f"has more than {service_limits.field(list_shape).max} entries.")
            item = service_limits.field(item_shape)
            for value in values:
                if not isinstance(value, str) or not item.matches(value) or len(value) > item.max:
                    raise self.fail(key, values, f"has an invalid ID {value!r}.")

    def check_metrics_and_checkpoints(self) -> None:
        metrics: Mapping[str, str] = self.cfg.METRICS
        most = service_limits.field("MetricDefinitionList").max
        if len(metrics) > most:
            raise self.fail("METRICS", sorted(metrics), f"has {len(metrics)} entries; at most {most}.")
        for name, regex in metrics.items():
            key = f"METRICS.{name}"
            self._text(key, name, service_limits.field("MetricName"))
            self._text(key, regex, service_limits.field("MetricRegex"))
            try:
                groups = re.compile(regex).groups
            except re.error as error:
                raise self.fail(key, regex, f"is not a valid regular expression ({error}).") from None
            if groups < 1:
                raise self.fail(key, regex, "needs a capture group around the metric's value.")
        checkpoint = self.cfg.CHECKPOINT_SYNC
        if checkpoint.S3_URI:
            self._s3_uri("CHECKPOINT_SYNC.S3_URI", checkpoint.S3_URI)
        if not checkpoint.LOCAL_PATH.startswith("/"):
            raise self.fail("CHECKPOINT_SYNC.LOCAL_PATH", checkpoint.LOCAL_PATH, "must be an absolute path.")

    def check_hyperparameters(self, configs: ResolvedConfigs) -> None:
        script_arguments: Mapping[str, str] = self.cfg.HYPERPARAMETERS
        for name in script_arguments:
            key = f"HYPERPARAMETERS.{name}"
            if name.startswith(_RESERVED_HYPERPARAMETER_PREFIX):
                raise self.fail(key, script_arguments[name], "uses SageMaker's reserved 'sagemaker_' prefix.")
            if configs.training_defaults.sends_training_keys:
                raise self.fail(
                    key,
                    script_arguments[name],
                    "is a script argument, but the example's main.py (the default TRAINING.DEFAULTS) takes "
                    "none: set training keys such as SOLVER.EPOCHS instead, or point SAGEMAKER.SOURCE_DIR "
                    "and TRAINING.DEFAULTS at your own script.",
                )
        encoded = encode_hyperparameters(hyperparameters_of(configs))
        # The SDK's PyTorch estimator adds the per-GPU launch's switch itself, as its own.
        sdk_own = {*SDK_CODE_HYPERPARAMETERS, *distribution_hyperparameters(self.cfg)}
        most = service_limits.field("HyperParameters").max - len(sdk_own)
        own = len(set(encoded) - sdk_own)
        if own > most:
            raise LauncherError(
                f"{self.where}: the job would send {own} hyperparameters (training keys and "
                f"HYPERPARAMETERS), but a job takes at most {most} beside the SDK's own. Move rarely changed "
                "values out of the training config, or group them into list values."
            )
        key_field, value_field = (
            service_limits.field(n) for n in ("HyperParameterKey", "HyperParameterValue")
        )
        for key, value in encoded.items():
            if not key_field.matches(key) or not value_field.matches(value):
                raise LauncherError(
                    f"{self.where}: hyperparameter {shown(key)} = {shown(value)} does not fit the API's "
                    f"patterns (name {key_field.pattern}, value {value_field.pattern}); use printable text."
                )
            if len(key) > key_field.max or len(value) > value_field.max:
                raise LauncherError(
                    f"{self.where}: '{key}' is too long to send as a hyperparameter (name at most "
                    f"{key_field.max} characters, value as JSON at most {value_field.max}; this value is "
                    f"{len(value)})."
                )

    def _at_least(self, key: str, value: int, least: int) -> None:
        if value < least:
            raise self.fail(key, value, f"must be at least {least}.")

    def _in_field(self, key: str, value: int, shape: str) -> None:
        limits = service_limits.field(shape)
        if limits.min is not None and value < limits.min:
            raise self.fail(key, value, f"must be at least {limits.min}.")
        if limits.max is not None and value > limits.max:
            raise self.fail(key, value, f"must be at most {limits.max}.")

    def _text(self, key: str, value: str, limits: service_limits.FieldLimits) -> None:
        if not (limits.min or 0) <= len(value) <= (limits.max or len(value)) or not limits.matches(value):
            raise self.fail(
                key,
                value,
                f"does not fit the API's {limits.name} (length {limits.min}-{limits.max}, "
                f"pattern {limits.pattern}).",
            )

    def _map(
        self,
        key: str,
        entries: Mapping[str, str],
        size: str,
        key_shape: str,
        value_shape: str,
        reserved: int = 0,
    ) -> None:
        most = service_limits.field(size).max - reserved
        if len(entries) > most:
            raise self.fail(key, sorted(entries), f"has {len(entries)} entries; at most {most} fit.")
        for name, value in entries.items():
            self._text(f"{key}.{name}", name, service_limits.field(key_shape))
            self._text(f"{key}.{name}", value, service_limits.field(value_shape))

    def _kms(self, key: str, value: str) -> None:
        if value:
            self._text(key, value, service_limits.field("KmsKeyId"))

    def _s3_uri(self, key: str, uri: str) -> None:
        limits = service_limits.field("S3Uri")
        bucket = uri[len("s3://") :].split("/", 1)[0]
        if len(uri) > limits.max or not _BUCKET_NAME.fullmatch(bucket):
            raise self.fail(key, uri, "is not a valid S3 URI; write it as s3://bucket-name/prefix/.")
