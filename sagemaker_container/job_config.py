"""The job's training config: defaults, then the config channel's YAML (or ``--config-file``), then
the hyperparameters, each refusing keys the defaults do not declare.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

import paths
from job_errors import ConfigError
from training_default_config import get_training_cfg_defaults, value_problems

# The SDK adds hyperparameters of its own (sagemaker_program, sagemaker_submit_directory, ...).
SDK_HYPERPARAMETER_PREFIX = "sagemaker_"


def load_training_config(config_file: Path | None = None) -> CfgNode:
    """The frozen config this job trains with."""
    cfg = get_training_cfg_defaults()
    channel_file = paths.channel_dir(paths.CONFIG_CHANNEL) / paths.TRAINING_CONFIG_FILE
    if channel_file.is_file():
        if config_file is not None:
            raise ConfigError(
                f"Both the config channel's {channel_file} and --config-file {config_file} are given; "
                "drop --config-file (the channel holds the launcher's resolved config)."
            )
        merge_yaml(cfg, channel_file)
    elif config_file is not None:
        merge_yaml(cfg, config_file)
    apply_hyperparameters(cfg, paths.read_json(paths.hyperparameters_file()))
    validate(cfg)
    cfg.freeze()
    return cfg


def merge_yaml(cfg: CfgNode, path: Path) -> None:
    """Set every leaf of a training YAML file on ``cfg``."""
    if not path.is_file():
        raise ConfigError(f"Training config file {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"Training config file {path} is not valid YAML: {error}") from None
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise ConfigError(f"Training config file {path} must hold a mapping of sections, not {data!r}.")
    for key, value in _flatten(data):
        set_value(cfg, key, value, source=str(path))


def apply_hyperparameters(cfg: CfgNode, hyperparameters: Mapping[str, Any]) -> None:
    """Set each dotted-key hyperparameter, JSON-decoded when it decodes, else taken as a string."""
    for key, raw in sorted(hyperparameters.items()):
        if key.startswith(SDK_HYPERPARAMETER_PREFIX):
            continue
        default = _lookup(cfg, key, "hyperparameters.json")
        set_value(cfg, key, decode_hyperparameter(raw, default), source="hyperparameters.json")


def decode_hyperparameter(raw: Any, default: Any) -> Any:
    """``"0.003"`` -> 0.003, ``"[32, 64]"`` -> [32, 64]; a tuner's plain ``adamw`` stays a string."""
    if not isinstance(raw, str):
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw
    # A string key keeps its text ("007" stays "007"); only a JSON string is unquoted.
    if isinstance(default, str) and not isinstance(decoded, str):
        return raw
    return decoded


def set_value(cfg: CfgNode, key: str, value: Any, source: str) -> None:
    """Set one dotted leaf, converted to the default's type."""
    default = _lookup(cfg, key, source)
    *parents, leaf = key.split(".")
    node = cfg
    for part in parents:
        node = node[part]
    node[leaf] = _coerce(default, value, key, source)


def validate(cfg: CfgNode) -> None:
    """Refuse values outside each key's allowed range (the rules live beside the defaults)."""
    problems = value_problems(cfg)
    if problems:
        raise ConfigError(f"Training config key {problems[0]}.")


def _lookup(cfg: CfgNode, key: str, source: str) -> Any:
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, CfgNode) or part not in node:
            node = None
            break
        node = node[part]
    if node is None or isinstance(node, CfgNode):
        known = [name for name, _ in _flatten(cfg)]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(
            f"Unknown training config key '{key}' in {source}.{hint} "
            "Every key must be declared in training_default_config.py."
        )
    return node


def _coerce(default: Any, value: Any, key: str, source: str) -> Any:
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        if not default:
            return list(value)
        return [_coerce(default[0], item, key, source) for item in value]
    try:
        if isinstance(default, bool):
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            if isinstance(value, bool):
                return value
        elif isinstance(default, int):
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, (int, float)) and not isinstance(number, bool) and number == int(number):
                return int(number)
        elif isinstance(default, float):
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                return float(value)
        elif isinstance(default, str) and isinstance(value, str):
            return value
    except (ValueError, OverflowError):
        pass
    raise ConfigError(
        f"Training config key '{key}' in {source} expects a value of type {type(default).__name__} "
        f"like its default {default!r}, got {value!r}."
    )


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, value in mapping.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value
