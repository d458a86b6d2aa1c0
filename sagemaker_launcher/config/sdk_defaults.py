"""A team's SageMaker SDK defaults file, read by the launcher itself: what it fills in for ml.* jobs.

SageMaker Studio and platform teams set VPC, KMS keys, a role and tags for every job in the SDK's
defaults files; a hand-written Estimator applies them, and so does the launcher, without the SDK.
The files and their order are the SDK's (2.x ``sagemaker/config/config.py``): the admin file
(``SAGEMAKER_ADMIN_CONFIG_OVERRIDE``, else ``/etc/xdg/sagemaker/config.yaml``), then the user file
(``SAGEMAKER_USER_CONFIG_OVERRIDE``, else ``~/.config/sagemaker/config.yaml``), which wins where both
set a key. A variable may name a file, a folder holding ``config.yaml``, or an ``s3://`` object or
prefix. The SDK's schema has keys for training jobs only (``SageMaker.TrainingJob``); its tuner gets them
through its Estimator, and so does a bayesian sweep's tuning job here. The keys read are those of
``FILLED_KEYS``, ``FILLED_MAPS`` and Tags; ``ProfilerConfig`` is not read (launched jobs never run the
profiler).

A key set in a YAML file or on the command line wins; the file fills only what the user left at its
default, and its tags add to the job's (the job's own win by key). The values then pass validation
like any other, and the record says which file filled which key.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract.yaml_reading import (
    RefusedYAML,
    clipped,
    parse,
    plain,
    yaml_line,
    yaml_problem,
)
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.errors import LauncherError

ADMIN_VARIABLE = "SAGEMAKER_ADMIN_CONFIG_OVERRIDE"
USER_VARIABLE = "SAGEMAKER_USER_CONFIG_OVERRIDE"
ADMIN_DEFAULT = "/etc/xdg/sagemaker/config.yaml"
USER_DEFAULT = "~/.config/sagemaker/config.yaml"
CONFIG_FILE_NAME = "config.yaml"
TRAINING_JOB = "TrainingJob"
# Request field (as the SDK's file names it) -> the config key it fills, and the value's type.
FILLED_KEYS: dict[str, tuple[str, type]] = {
    "RoleArn": ("SAGEMAKER.ROLE_ARN", str),
    "EnableNetworkIsolation": ("NETWORK.ENABLE_NETWORK_ISOLATION", bool),
    "EnableInterContainerTrafficEncryption": ("NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC", bool),
    "OutputDataConfig.KmsKeyId": ("S3.KMS_KEY_ID", str),
    "ResourceConfig.VolumeKmsKeyId": ("SAGEMAKER.VOLUME_KMS_KEY_ID", str),
    "VpcConfig.Subnets": ("NETWORK.SUBNETS", list),
    "VpcConfig.SecurityGroupIds": ("NETWORK.SECURITY_GROUP_IDS", list),
}
# Entries of these fields fill the config's free-form section, name by name.
FILLED_MAPS = {"Environment": "SAGEMAKER.ENVIRONMENT"}

# What ``_at`` finds where a level of the path is not a mapping.
_NOT_A_MAPPING = object()
# Reads an s3:// object's bytes, or None when it does not exist (aws.storage.read_object).
S3Reader = Callable[[str], bytes | None]


@dataclasses.dataclass(frozen=True)
class SdkDefaults:
    """The merged ``SageMaker.TrainingJob`` defaults, and which file set each of its keys."""

    training_job: Mapping[str, Any]
    # "RoleArn", "VpcConfig.Subnets", "Environment.NAME" -> the file that set it.
    sources: Mapping[str, str]


def locations() -> list[tuple[str, str | None]]:
    """The admin file, then the user file, as the SDK looks for them, each with the variable naming it."""
    found = []
    for variable, default in ((ADMIN_VARIABLE, ADMIN_DEFAULT), (USER_VARIABLE, USER_DEFAULT)):
        named = os.environ.get(variable)
        found.append((named, variable) if named else (os.path.expanduser(default), None))
    return found


def load_sdk_defaults(read_s3: S3Reader) -> SdkDefaults:
    """Read and merge the defaults files that exist; an unusable one is a ``LauncherError`` naming it."""
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for location, variable in locations():
        text, where = _read(location, read_s3)
        if text is None:
            if variable:
                raise _unusable(where, "the file", f"does not exist, yet {variable} names it")
            continue
        values = _sagemaker_section(text, where).get(TRAINING_JOB)
        if values is None:
            continue
        if not isinstance(values, dict):
            raise _unusable(where, f"SageMaker.{TRAINING_JOB}", "must be a mapping")
        # A later file wins key by key; a list (subnets, tags) is replaced whole, as the SDK merges.
        _deep_update(merged, values)
        for key in _dotted(values):
            sources[key] = where
    return SdkDefaults(merged, sources)


def apply_sdk_defaults(configs: ResolvedConfigs, defaults: SdkDefaults) -> ResolvedConfigs:
    """``configs`` with what the defaults fill; the keys the user set stay as they are."""
    values = defaults.training_job
    tags = values.get("Tags")
    prefix = f"{TRAINING_JOB}."
    if not values:
        return configs
    cfg = configs.sagemaker.clone()
    cfg.defrost()
    filled: dict[str, str] = {}

    def fill(config_key: str, value: Any, field: str) -> None:
        if config_key in configs.explicit_keys:
            return
        section, _, leaf = config_key.rpartition(".")
        node = cfg
        for part in section.split("."):
            node = node[part]
        node[leaf] = value
        filled[config_key] = defaults.sources.get(field, "an SDK defaults file")

    vpc_set = {"NETWORK.SUBNETS", "NETWORK.SECURITY_GROUP_IDS"} & configs.explicit_keys
    for field, (config_key, kind) in FILLED_KEYS.items():
        value = _at(values, field)
        where = defaults.sources.get(field.split(".")[0], "an SDK defaults file")
        if value is _NOT_A_MAPPING:
            raise _unusable(where, f"SageMaker.{prefix}{field.split('.')[0]}", "must be a mapping")
        if value is None or (field.startswith("VpcConfig.") and vpc_set):
            continue
        where = defaults.sources.get(field, where)
        fill(config_key, _typed(value, kind, f"SageMaker.{prefix}{field}", where), field)
    for field, section_key in FILLED_MAPS.items():
        entries = values.get(field) or {}
        where = defaults.sources.get(field, "an SDK defaults file")
        if not isinstance(entries, dict):
            raise _unusable(where, f"SageMaker.{prefix}{field}", "must be a mapping of names to values")
        for name, value in entries.items():
            fill(
                f"{section_key}.{name}",
                _text(value, f"SageMaker.{prefix}{field}.{name}", where),
                f"{field}.{name}",
            )
    where = defaults.sources.get("Tags", "an SDK defaults file")
    if tags is not None and not isinstance(tags, list):
        raise _unusable(where, f"SageMaker.{prefix}Tags", "must be a list of {Key: ..., Value: ...}")
    for tag in tags or []:
        if not isinstance(tag, dict) or not isinstance(tag.get("Key"), str) or "Value" not in tag:
            raise _unusable(where, f"SageMaker.{prefix}Tags", "must be a list of {Key: ..., Value: ...}")
        key = tag["Key"]
        if key not in cfg.SAGEMAKER.TAGS:
            cfg.SAGEMAKER.TAGS[key] = _text(tag["Value"], f"SageMaker.{prefix}Tags.{key}", where)
            filled[f"SAGEMAKER.TAGS.{key}"] = where
    cfg.freeze()
    return dataclasses.replace(configs, sagemaker=cfg, sdk_defaults_sources=filled)


def _read(location: str, read_s3: S3Reader) -> tuple[str | None, str]:
    """A defaults file's text (None when absent) and where it was read, for messages."""
    if location.startswith("s3://"):
        uri = location
        data = read_s3(uri)
        if data is None and not uri.endswith(".yaml"):
            uri = f"{uri.rstrip('/')}/{CONFIG_FILE_NAME}"
            data = read_s3(uri)
        return (_decoded(data, uri) if data is not None else None), uri
    path = Path(location).expanduser()
    try:
        if path.is_dir():
            path = path / CONFIG_FILE_NAME
        data = path.read_bytes() if path.is_file() else None
    except OSError as error:
        raise _unusable(str(path), "the file", f"cannot be read ({error.strerror})") from None
    return (_decoded(data, str(path)) if data is not None else None), str(path)


def _decoded(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _unusable(where, "the file", "is not UTF-8 text") from None


def _sagemaker_section(text: str, where: str) -> dict[str, Any]:
    import yaml

    try:
        data = plain(parse(text))
    except RefusedYAML as error:
        raise _unusable(where, "the file", error.problem) from None
    except yaml.YAMLError as error:
        raise _unusable(
            where, f"the file{yaml_line(error)}", f"is not valid YAML ({yaml_problem(error)})"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _unusable(where, "the top level", "must be a mapping")
    section = data.get("SageMaker") or {}
    if not isinstance(section, dict):
        raise _unusable(where, "SageMaker", "must be a mapping")
    return section


def _at(values: Mapping[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` ("VpcConfig.Subnets"), None where it is not set; a level that is set but is
    not a mapping is refused (None comes back and the caller names it)."""
    value: Any = values
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return _NOT_A_MAPPING
        value = value.get(part)
        if value is None:
            return None
    return value


def _typed(value: Any, kind: type, key: str, where: str) -> Any:
    if kind is bool and isinstance(value, bool):
        return value
    if kind is str:
        return _text(value, key, where)
    if kind is list and isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    expected = {bool: "true or false", list: "a list of texts"}[kind]
    raise _unusable(where, key, f"must be {expected}, got {clipped(repr(value))}")


def _text(value: Any, key: str, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unusable(where, key, f"must be text, got {clipped(repr(value))}")
    return str(value)


def _unusable(where: str, entry: str, problem: str) -> LauncherError:
    return LauncherError(
        f"The SageMaker SDK defaults file {where} cannot be used: {entry} {problem}. The launcher reads it "
        "as "
        f"the SDK does ({ADMIN_VARIABLE}, {USER_VARIABLE}, {ADMIN_DEFAULT}, {USER_DEFAULT}); fix or remove "
        f"that entry, or point {USER_VARIABLE} at a valid file, then launch again."
    )


def _deep_update(target: dict[str, Any], values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _dotted(values: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in values.items():
        keys.append(f"{prefix}{key}")
        if isinstance(value, dict):
            keys += _dotted(value, f"{prefix}{key}.")
    return keys
