"""Build the two resolved configs: defaults, then YAML files (with ``_BASE_``), then ``KEY VALUE``.

YAML is read safely (``sagemaker_contract.yaml_reading``), so Python object tags are refused, and
Python config files (which YACS would execute) are not accepted. Every key and value is checked
against the defaults as it is merged, by the rules the training image applies too
(``sagemaker_contract.merging``), so an error names the file it came from. Text-typed keys and
free-form sections get each value's text as written; numeric and boolean keys get YAML's typed value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.errors import ConfigError
from sagemaker_container.sagemaker_contract.merging import (
    Schema,
    coerce_value,
    leaf_keys,
    leaf_parent,
    merge_mapping,
    suggestion,
    unknown_key_message,
)
from sagemaker_container.sagemaker_contract.yaml_reading import (
    RefusedYAML,
    Written,
    clipped,
    parse,
    plain,
    read_mapping,
    shown,
    yaml_problem,
)
from sagemaker_default_config import get_sagemaker_cfg_defaults
from sagemaker_launcher.config.training_defaults import TrainingDefaults, load_training_defaults
from sagemaker_launcher.errors import LauncherError

BASE_KEY = "_BASE_"
SAGEMAKER_DEFAULTS_FILE = "sagemaker_default_config.py"
COMMAND_LINE = "the command line"
YAML_SUFFIXES = (".yaml", ".yml")
# Keys that were renamed: the old name is still read (in files, on the command line, in old jobs'
# recorded configs) as the new one; resolved configs write the new one.
RENAMED_KEYS = {"S3.OUTPUT_KMS_KEY_ID": "S3.KMS_KEY_ID"}
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
    # The SageMaker config's dotted keys a file or the command line set (free-form sections: their
    # entries, "SAGEMAKER.ENVIRONMENT.NAME"); what SDK defaults may fill is what is not in here.
    explicit_keys: frozenset[str] = frozenset()
    # Request field -> the SDK defaults file that filled it (see sdk_defaults.py); empty without one.
    sdk_defaults_sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def sagemaker_source(self) -> str:
        """Where the SageMaker config came from, for messages."""
        files = self.sagemaker_files
        where = str(files[-1]) if files else f"the defaults ({SAGEMAKER_DEFAULTS_FILE})"
        return f"{where} with command-line overrides" if self.overrides else where


def load_configs(
    config_file: str | Path | None,
    overrides: Sequence[str] = (),
    training_defaults: TrainingDefaults | None = None,
) -> ResolvedConfigs:
    """Merge defaults, the SageMaker YAML (and its training YAML) and command-line overrides.

    The SageMaker config is merged first: it names the training defaults (TRAINING.DEFAULTS) that
    the training YAML and the remaining overrides are then checked against. ``training_defaults``
    given, they are used instead of importing TRAINING.DEFAULTS (a reproduced job's recorded config).
    """
    try:
        return _load_configs(config_file, overrides, training_defaults)
    except ConfigError as error:
        # The shared merger's errors are plain, for the image's sake; here they are the user's to fix.
        raise LauncherError(str(error)) from None


def _load_configs(
    config_file: str | Path | None, overrides: Sequence[str], given_defaults: TrainingDefaults | None
) -> ResolvedConfigs:
    sagemaker = get_sagemaker_cfg_defaults()
    sagemaker_pairs, training_pairs = split_overrides(renamed_overrides(overrides), sagemaker)
    sagemaker_chain = tuple(
        (path, renamed_keys(data, str(path)))
        for path, data in (yaml_chain(Path(config_file)) if config_file else ())
    )
    # Top-level sections the SageMaker config lacks are judged once the training defaults are known.
    foreign = [(path, key) for path, data in sagemaker_chain for key in data if key not in sagemaker]
    sagemaker_schema = _schema(SAGEMAKER_DEFAULTS_FILE, "the training config", frozenset())
    for path, data in sagemaker_chain:
        own = {key: value for key, value in data.items() if (path, key) not in foreign}
        merge_mapping(sagemaker, own, str(path), sagemaker_schema)
    for key, text in sagemaker_pairs:
        merge_override(sagemaker, key, text, sagemaker_schema)

    where = str(sagemaker_chain[-1][0]) if sagemaker_chain else SAGEMAKER_DEFAULTS_FILE
    defaults = given_defaults or load_training_defaults(sagemaker, where)
    if foreign:
        path, key = foreign[0]
        training_keys = frozenset(leaf_keys(defaults.cfg)) if defaults.cfg is not None else frozenset()
        schema = _schema(SAGEMAKER_DEFAULTS_FILE, defaults.source or "the training config", training_keys)
        raise LauncherError(unknown_key_message(str(key), str(path), sagemaker, "", schema))
    training, training_chain = _merge_training(sagemaker, defaults, training_pairs, where)
    sagemaker.freeze()
    return ResolvedConfigs(
        sagemaker,
        training,
        defaults,
        tuple(path for path, _ in sagemaker_chain),
        tuple(path for path, _ in training_chain),
        tuple(overrides),
        frozenset(
            [key for _, data in sagemaker_chain for key in _dotted_keys(data)]
            + [key for key, _ in sagemaker_pairs]
        ),
    )


def _dotted_keys(data: Any, prefix: str = "") -> Iterator[str]:
    """Every dotted key a YAML mapping sets, down to its leaves (and free-form entries)."""
    for key, value in data.items():
        if isinstance(value, dict) and value:
            yield from _dotted_keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def renamed_keys(data: dict[str, Any], source: str) -> dict[str, Any]:
    """A file's mapping with renamed keys under their new names; both names set differently is refused."""
    for old, new in RENAMED_KEYS.items():
        section, old_leaf = old.split(".")
        new_leaf = new.split(".")[1]
        values = data.get(section)
        if not isinstance(values, dict) or old_leaf not in values:
            continue
        values = dict(values)
        old_value = values.pop(old_leaf)
        if new_leaf in values and plain(values[new_leaf]) != plain(old_value):
            raise LauncherError(_both_names(old, new, source, plain(old_value), plain(values[new_leaf])))
        values.setdefault(new_leaf, old_value)
        data = {**data, section: values}
    return data


def renamed_overrides(overrides: Sequence[str]) -> list[str]:
    """Command-line pairs with renamed keys under their new names; both names set differently is refused."""
    words = list(overrides)
    given = dict(zip(words[::2], words[1::2], strict=False))
    for old, new in RENAMED_KEYS.items():
        if old in given and new in given and given[old] != given[new]:
            raise LauncherError(_both_names(old, new, COMMAND_LINE, given[old], given[new]))
    return [RENAMED_KEYS.get(word, word) if index % 2 == 0 else word for index, word in enumerate(words)]


def _both_names(old: str, new: str, source: str, old_value: Any, new_value: Any) -> str:
    return (
        f"{source}: {old} (the old name of {new}) is {clipped(repr(old_value))} and {new} is "
        f"{clipped(repr(new_value))}. They are one setting: keep only {new}."
    )


def _schema(defaults_file: str, other_defaults_file: str, other_keys: frozenset[str]) -> Schema:
    return Schema(defaults_file, other_defaults_file, other_keys, LIST_VALUED_SECTIONS)


def _merge_training(
    sagemaker: CfgNode, defaults: TrainingDefaults, pairs: list[tuple[str, str]], where: str
) -> tuple[CfgNode | None, tuple[tuple[Path, dict[str, Any]], ...]]:
    """The training YAML and the training overrides merged over ``defaults``; None without defaults."""
    training_file = sagemaker.TRAINING.CONFIG_FILE
    training = defaults.cfg.clone() if defaults.cfg is not None else None
    if training is None:
        # A CONFIG_FILE without defaults is refused by validation, after the code folder is checked.
        if pairs:
            key = pairs[0][0]
            hint = suggestion(key, list(leaf_keys(sagemaker)))
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
    schema = _schema(defaults.source, SAGEMAKER_DEFAULTS_FILE, frozenset(leaf_keys(sagemaker)))
    chain = yaml_chain(Path(training_file), "TRAINING.CONFIG_FILE") if training_file else ()
    for path, data in chain:
        merge_mapping(training, data, str(path), schema)
    for key, text in pairs:
        if key.split(".", 1)[0] not in training:
            known = [*leaf_keys(sagemaker), *leaf_keys(training)]
            raise LauncherError(
                f"Unknown key '{key}' on the command line: its section '{key.split('.', 1)[0]}' is in "
                f"neither config.{suggestion(key, known)} Job keys are documented in "
                f"{SAGEMAKER_DEFAULTS_FILE}, training keys in {defaults.source}."
            )
        merge_override(training, key, text, schema)
    training.freeze()
    return training, chain


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
    """Return ``(file, mapping)`` to merge in order: the furthest ``_BASE_`` first, ``path`` last.

    Each mapping is the file's without its ``_BASE_`` entry.
    """
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
        written = mappings[-1].pop(BASE_KEY, None)
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


def merge_override(node: CfgNode, key: str, text: str, schema: Schema) -> None:
    """Apply one ``KEY VALUE`` override; the value is read as YAML, or kept as text where text is due."""
    target, leaf = leaf_parent(node, key, COMMAND_LINE, schema)
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
