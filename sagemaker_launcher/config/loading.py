"""Build the two resolved configs: defaults, then YAML files (with ``_BASE_``), then ``KEY VALUE``.

YAML is read safely (``yaml_reading``), so Python object tags are refused, and Python config
files (which YACS would execute) are not accepted. Every key and value is checked against the
defaults as it is merged, so an error names the file it came from. Text-typed keys and free-form
sections get each value's text as written; numeric and boolean keys get YAML's typed value.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

from sagemaker_default_config import get_sagemaker_cfg_defaults
from sagemaker_launcher.config.training_defaults import TrainingDefaults, load_training_defaults
from sagemaker_launcher.config.yaml_reading import (
    RefusedYAML,
    Written,
    clipped,
    parse,
    plain,
    read_mapping,
    shown,
    yaml_problem,
)
from sagemaker_launcher.errors import LauncherError

BASE_KEY = "_BASE_"
SAGEMAKER_DEFAULTS_FILE = "sagemaker_default_config.py"
COMMAND_LINE = "the command line"
YAML_SUFFIXES = (".yaml", ".yml")
# Free-form sections whose entries are a list of values or a mapping of values (a sweep's parameters:
# "SOLVER.BASE_LR: [0.01, 0.001]" or "{MIN: 0.001, MAX: 0.1, SCALE: log}"), not one text.
LIST_VALUED_SECTIONS = ("SWEEP.PARAMETERS.",)


@dataclass(frozen=True)
class ResolvedConfigs:
    """The merged, frozen job and training configs and where they came from."""

    sagemaker: CfgNode
    # None when the job has no training config (TRAINING.DEFAULTS found none).
    training: CfgNode | None
    training_defaults: TrainingDefaults
    sagemaker_files: tuple[Path, ...]
    training_files: tuple[Path, ...]
    overrides: tuple[str, ...]

    @property
    def sagemaker_source(self) -> str:
        """Where the SageMaker config came from, for messages."""
        files = self.sagemaker_files
        where = str(files[-1]) if files else f"the defaults ({SAGEMAKER_DEFAULTS_FILE})"
        return f"{where} with command-line overrides" if self.overrides else where


@dataclass(frozen=True)
class _Schema:
    """One config's defaults, for merging into and for naming in messages."""

    defaults_file: str
    other_defaults_file: str
    other_keys: frozenset[str]


def load_configs(config_file: str | Path | None, overrides: Sequence[str] = ()) -> ResolvedConfigs:
    """Merge defaults, the SageMaker YAML (and its training YAML) and command-line overrides.

    The SageMaker config is merged first: it names the training defaults (TRAINING.DEFAULTS) that
    the training YAML and the remaining overrides are then checked against.
    """
    sagemaker = get_sagemaker_cfg_defaults()
    sagemaker_pairs, training_pairs = split_overrides(overrides, sagemaker)
    sagemaker_chain = yaml_chain(Path(config_file)) if config_file else ()
    # Top-level sections the SageMaker config lacks are judged once the training defaults are known.
    foreign = [
        (path, key) for path, data in sagemaker_chain for key in data if key not in (*sagemaker, BASE_KEY)
    ]
    sagemaker_schema = _Schema(SAGEMAKER_DEFAULTS_FILE, "the training config", frozenset())
    for path, data in sagemaker_chain:
        own = {key: value for key, value in data.items() if (path, key) not in foreign}
        merge_mapping(sagemaker, own, str(path), sagemaker_schema)
    for key, text in sagemaker_pairs:
        merge_override(sagemaker, key, text, sagemaker_schema)

    where = str(sagemaker_chain[-1][0]) if sagemaker_chain else SAGEMAKER_DEFAULTS_FILE
    defaults = load_training_defaults(sagemaker, where)
    if foreign:
        path, key = foreign[0]
        training_keys = frozenset(leaf_keys(defaults.cfg)) if defaults.cfg is not None else frozenset()
        schema = _Schema(SAGEMAKER_DEFAULTS_FILE, defaults.source or "the training config", training_keys)
        raise LauncherError(_unknown_key_message(str(key), str(path), sagemaker, "", schema))
    training, training_chain = _merge_training(sagemaker, defaults, training_pairs, where)
    sagemaker.freeze()
    return ResolvedConfigs(
        sagemaker,
        training,
        defaults,
        tuple(path for path, _ in sagemaker_chain),
        tuple(path for path, _ in training_chain),
        tuple(overrides),
    )


def _merge_training(
    sagemaker: CfgNode, defaults: TrainingDefaults, pairs: list[tuple[str, str]], where: str
) -> tuple[CfgNode | None, tuple[tuple[Path, dict[str, Any]], ...]]:
    """The training YAML and the training overrides merged over ``defaults``; None without defaults."""
    training_file = sagemaker.TRAINING.CONFIG_FILE
    training = defaults.cfg
    if training is None:
        # A CONFIG_FILE without defaults is refused by validation, after the code folder is checked.
        if pairs:
            key = pairs[0][0]
            hint = _suggestion(key, list(leaf_keys(sagemaker)))
            raise LauncherError(
                f"Unknown key '{key}' on the command line: its section is not in the SageMaker config, and "
                "this job has no training config (TRAINING.DEFAULTS). Script arguments are set as "
                f"HYPERPARAMETERS.<name>, e.g. 'HYPERPARAMETERS.epochs 3'.{hint}"
            )
        return None, ()
    shared = sorted(set(training) & set(sagemaker))
    if shared:
        raise LauncherError(
            f"The training defaults {defaults.source} ({defaults.spec}) declare the section(s) "
            f"{', '.join(shared)}, which the SageMaker config owns too, so a command-line override could not "
            "tell them apart. Rename the section in your project's defaults."
        )
    schema = _Schema(defaults.source, SAGEMAKER_DEFAULTS_FILE, frozenset(leaf_keys(sagemaker)))
    chain = yaml_chain(Path(training_file), "TRAINING.CONFIG_FILE") if training_file else ()
    for path, data in chain:
        merge_mapping(training, data, str(path), schema)
    for key, text in pairs:
        if key.split(".", 1)[0] not in training:
            known = [*leaf_keys(sagemaker), *leaf_keys(training)]
            raise LauncherError(
                f"Unknown key '{key}' on the command line: its section '{key.split('.', 1)[0]}' is in "
                f"neither config.{_suggestion(key, known)} Job keys are documented in "
                f"{SAGEMAKER_DEFAULTS_FILE}, training keys in {defaults.source}."
            )
        merge_override(training, key, text, schema)
    training.freeze()
    return training, chain


def leaf_keys(node: CfgNode, prefix: str = "") -> Iterator[str]:
    """Yield every dotted leaf key of a config, e.g. ``SOLVER.BASE_LR``."""
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from leaf_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def leaf_items(node: CfgNode, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted key, value)`` for every leaf of a config."""
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from leaf_items(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def split_overrides(
    overrides: Sequence[str], sagemaker: CfgNode
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Pair up ``KEY VALUE`` words: those of the SageMaker config's sections, and the rest (training)."""
    if len(overrides) % 2:
        raise LauncherError(
            f"Overrides on the command line come in KEY VALUE pairs, but '{overrides[-1]}' has no value. "
            "Write them as e.g. 'SAGEMAKER.INSTANCE_COUNT 2 SOLVER.BASE_LR 0.01'."
        )
    sagemaker_pairs, training_pairs = [], []
    for key, text in zip(overrides[::2], overrides[1::2], strict=True):
        section = key.split(".", 1)[0]
        if key == BASE_KEY or section == BASE_KEY:
            raise LauncherError(
                f"'{BASE_KEY}' cannot be set on the command line; name the base file inside the YAML "
                "experiment file instead."
            )
        (sagemaker_pairs if section in sagemaker else training_pairs).append((key, text))
    return sagemaker_pairs, training_pairs


def yaml_chain(path: Path, setting: str = "--config") -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Return ``(file, mapping)`` to merge in order: the furthest ``_BASE_`` first, ``path`` last."""
    chain: list[Path] = []
    mappings: list[dict[str, Any]] = []
    current: Path | None = path
    referrer = setting
    while current is not None:
        resolved = current.resolve()
        if resolved in chain:
            cycle = " -> ".join(str(p) for p in [*chain[chain.index(resolved) :], resolved])
            raise LauncherError(
                f"{chain[-1]}: '{BASE_KEY}' chain loops back on itself ({cycle}). Remove the "
                f"'{BASE_KEY}' entry that closes the loop."
            )
        _check_yaml_file(current, referrer)
        chain.append(resolved)
        mappings.append(read_mapping(resolved))
        written = mappings[-1].get(BASE_KEY)
        if written is not None and not isinstance(written, Written):
            raise LauncherError(
                f"{resolved}: '{BASE_KEY}' must be one file path (relative to this file), got "
                f"{shown(written)}."
            )
        base = written.text if written is not None and written.value is not None else ""
        referrer = f"'{BASE_KEY}' in {resolved}"
        current = resolved.parent / base if base else None
    return tuple(reversed(list(zip(chain, mappings, strict=True))))


def _check_yaml_file(path: Path, referrer: str) -> None:
    shown_path = clipped(str(path))
    if path.suffix == ".py":
        raise LauncherError(
            f"{shown_path} (from {referrer}) is a Python file. Python config files run code when loaded and "
            "are not accepted: write the experiment as a YAML file."
        )
    if path.suffix not in YAML_SUFFIXES:
        raise LauncherError(f"{shown_path} (from {referrer}) is not a .yaml or .yml file.")
    try:
        exists = path.is_file()
    except OSError as error:
        raise LauncherError(
            f"Config file {shown_path} (from {referrer}) cannot be read: {error.strerror}."
        ) from None
    if not exists:
        raise LauncherError(
            f"Config file {shown_path} (from {referrer}) does not exist. Relative paths in {referrer} are "
            f"resolved from {'that file' if referrer.startswith(repr(BASE_KEY)) else Path.cwd()}."
        )


def merge_mapping(
    node: CfgNode, data: dict[str, Any], source: str, schema: _Schema, prefix: str = ""
) -> None:
    """Merge a YAML mapping into ``node``, checking each key and coercing each value to its default's type."""
    for key, value in data.items():
        full_key = f"{prefix}{key}"
        if key == BASE_KEY and not prefix:
            continue
        if key not in node:
            if not node.is_new_allowed():
                raise LauncherError(_unknown_key_message(full_key, source, node, prefix, schema))
            if prefix in LIST_VALUED_SECTIONS:
                node[key] = _list_or_range_value(value, full_key, source)
            else:
                node[key] = _free_entry_value(value, full_key, source)
        elif isinstance(node[key], CfgNode):
            if not isinstance(value, dict):
                raise LauncherError(
                    f"{source}: '{full_key}' is a section and takes a mapping of keys, got {shown(value)}. "
                    f"See {schema.defaults_file} for its keys."
                )
            merge_mapping(node[key], value, source, schema, f"{full_key}.")
        else:
            node[key] = coerce_value(node[key], value, full_key, source)


def merge_override(node: CfgNode, key: str, text: str, schema: _Schema) -> None:
    """Apply one ``KEY VALUE`` override; the value is read as YAML, or kept as text where text is due."""
    *parents, leaf = key.split(".")
    target = node
    for depth, part in enumerate(parents):
        if part not in target or not isinstance(target[part], CfgNode):
            prefix = ".".join(parents[:depth])
            raise LauncherError(_unknown_key_message(key, COMMAND_LINE, target, prefix, schema))
        target = target[part]
    if leaf not in target and not target.is_new_allowed():
        raise LauncherError(_unknown_key_message(key, COMMAND_LINE, target, ".".join(parents), schema))
    current = target.get(leaf)
    if isinstance(current, CfgNode):
        raise LauncherError(
            f"'{key}' on the command line is a section; override one of its keys instead, "
            f"e.g. '{key}.{next(iter(current), 'KEY')} VALUE'."
        )
    if leaf not in target or isinstance(current, str):
        target[leaf] = text
        return
    try:
        value = parse(text)
    except RefusedYAML as error:
        raise LauncherError(
            f"The value '{clipped(text)}' for '{key}' on the command line is refused: {error.problem}."
        ) from None
    except yaml.YAMLError as error:
        raise LauncherError(
            f"The value '{clipped(text)}' for '{key}' on the command line is not valid YAML "
            f"({yaml_problem(error)})."
        ) from None
    target[leaf] = coerce_value(current, value, key, COMMAND_LINE)


def coerce_value(default: Any, value: Any, key: str, source: str) -> Any:
    """Return ``value`` as the type of ``default``, or raise a message naming key, value and type.

    A ``Written`` scalar from a file gives its text to a text-typed key and its YAML value otherwise.
    """
    if isinstance(value, Written):
        if isinstance(default, str) and value.value is not None:
            return value.text
        value = value.value
    if default is None:
        return plain(value)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    elif isinstance(default, list | tuple) and isinstance(value, list | tuple):
        return [_coerce_item(default, item, key, source) for item in value]
    raise LauncherError(
        f"{source}: '{key}' must be {_type_words(default)} (its default is {shown(default)}), got "
        f"{shown(value)}."
    )


def _coerce_item(default: list | tuple, item: Any, key: str, source: str) -> Any:
    if default:
        return coerce_value(default[0], item, f"{key}[]", source)
    item = plain(item)
    if isinstance(item, dict | list | tuple | type(None)):
        raise LauncherError(f"{source}: '{key}' takes a list of plain values, got {shown(item)} in it.")
    return item


def _free_entry_value(value: Any, key: str, source: str) -> str:
    """Values of free-form sections (INPUTS, ENVIRONMENT, TAGS, METRICS, ...) are their text as written."""
    if isinstance(value, Written) and value.value is not None:
        return value.text
    raise LauncherError(
        f"{source}: '{clipped(key)}' takes one text value, got {shown(value)}. Write empty text as '' "
        "and quote text that YAML would read as a list or mapping."
    )


def _list_or_range_value(value: Any, key: str, source: str) -> list[Any] | CfgNode:
    """A list of plain values, or a mapping of plain values as a node; the sweep judges their meaning."""
    data = plain(value)
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else None
    if items is None or any(isinstance(item, dict | list | tuple | type(None)) for item in items):
        raise LauncherError(
            f"{source}: '{clipped(key)}' takes a list of values (e.g. [0.01, 0.001]) or a range "
            f"(e.g. {{MIN: 0.001, MAX: 0.1, SCALE: log}}), got {shown(value)}."
        )
    return CfgNode(data) if isinstance(data, dict) else data


def _type_words(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, list | tuple):
        return "a list"
    return "text"


def _unknown_key_message(full_key: str, source: str, node: CfgNode, prefix: str, schema: _Schema) -> str:
    if full_key in schema.other_keys or any(key.startswith(f"{full_key}.") for key in schema.other_keys):
        return (
            f"{source}: '{clipped(full_key)}' belongs to the other config ({schema.other_defaults_file}), "
            f"not this one ({schema.defaults_file}). Move it to the matching YAML file."
        )
    scope = f"{prefix}." if prefix and not prefix.endswith(".") else prefix
    known = [f"{scope}{key}" for key in leaf_keys(node)] + [f"{scope}{k}" for k in node]
    return (
        f"{source}: unknown key '{clipped(full_key)}'.{_suggestion(full_key, known)} Every key is documented "
        f"in {schema.defaults_file}."
    )


def _suggestion(key: str, known: Sequence[str]) -> str:
    by_upper = {candidate.upper(): candidate for candidate in known}
    matches = difflib.get_close_matches(key.upper(), list(by_upper), n=1, cutoff=0.6)
    return f" Did you mean '{by_upper[matches[0]]}'?" if matches else ""
