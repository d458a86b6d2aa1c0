"""YAML and hyperparameters merged over YACS defaults, with one set of type rules for both sides.

The launcher merges experiment YAML and ``KEY VALUE`` pairs before a job starts; the image merges the
config channel's YAML and the job's hyperparameters when it starts. Both merge here, so what one
side refuses the other refuses too. A value must fit its default's type:

- text: the text as written (``1.10`` stays "1.10", ``1`` is "1");
- whole number: an int, not a float (``4.0``) nor text (``"64"``);
- number: an int or a float, or text that reads as one (``1e-3``, which YAML 1.1 reads as text);
- true/false: a bool, not text (``"true"``);
- list or tuple: a list, each item by the rule of the default's first item;
- no default (None): any plain value.

Hyperparameters arrive as text (SageMaker and its tuner send strings) and are JSON-decoded before the
rules apply, so ``"4"`` is 4 and ``"\\"adamw\\""`` is adamw; text that is not JSON stays text.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yacs.config import CfgNode

from .errors import ConfigError
from .names import SDK_HYPERPARAMETER_PREFIX
from .yaml_reading import Written, clipped, plain, scalar_source, shown


@dataclass(frozen=True)
class Schema:
    """What messages name besides the defaults, and how free-form sections (new keys allowed) fill."""

    # The defaults' file, where every key is documented.
    defaults_file: str
    # The launcher's other config: a key of it is pointed to its file rather than called unknown.
    other_defaults_file: str = ""
    other_keys: frozenset[str] = frozenset()
    # Free-form sections whose entries are a list or a range of values rather than one text.
    list_valued_sections: tuple[str, ...] = ()


def merge_mapping(
    node: CfgNode, data: Mapping[str, Any], source: str, schema: Schema, prefix: str = ""
) -> None:
    """Merge a YAML mapping (``yaml_reading.read_mapping``) into ``node``, checking each key and value."""
    for key, value in data.items():
        _merge_value(node, key, value, prefix, source, schema)


def merge_hyperparameters(
    node: CfgNode, hyperparameters: Mapping[str, str], source: str, schema: Schema
) -> None:
    """Set each dotted-key hyperparameter on ``node``, JSON-decoded; the SDK's own (``sagemaker_*``) aside."""
    for key, text in sorted(hyperparameters.items()):
        if key.startswith(SDK_HYPERPARAMETER_PREFIX):
            continue
        target, leaf = leaf_parent(node, key, source, schema)
        _merge_value(target, leaf, decode_hyperparameter(text), key[: -len(leaf)], source, schema)


def decode_hyperparameter(text: str) -> Written:
    """A hyperparameter's value, JSON-decoded as the launcher encodes it; text that is not JSON stays text.

    A text key gets the decoded string, or the text itself when it decodes to anything else, so a
    tuner's ``adamw`` is "adamw" and ``0.010`` stays "0.010".
    """
    try:
        value = json.loads(text)
    except ValueError:
        return Written(text, text)
    return Written(value, value if isinstance(value, str) else text)


def leaf_parent(node: CfgNode, key: str, source: str, schema: Schema) -> tuple[CfgNode, str]:
    """The node that holds dotted ``key``'s last part, and that part; refuses keys the defaults lack."""
    *parents, leaf = key.split(".")
    target = node
    for depth, part in enumerate(parents):
        if part not in target or not isinstance(target[part], CfgNode):
            prefix = ".".join(parents[:depth])
            raise ConfigError(unknown_key_message(key, source, target, prefix, schema))
        target = target[part]
    if leaf not in target and not target.is_new_allowed():
        raise ConfigError(unknown_key_message(key, source, target, ".".join(parents), schema))
    return target, leaf


def coerce_value(default: Any, value: Any, key: str, source: str) -> Any:
    """Return ``value`` as the type of ``default``, or raise a message naming key, value and type.

    A ``Written`` scalar gives its text to a text-typed key and its value otherwise.
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
    raise ConfigError(
        f"{source}: '{key}' must be {_type_words(default)} (its default is {shown(default)}), got "
        f"{shown(value)}."
    )


def leaf_keys(node: CfgNode, prefix: str = "") -> Iterator[str]:
    """Yield every dotted leaf key of a config, e.g. ``SOLVER.BASE_LR``."""
    for key, _ in leaf_items(node, prefix):
        yield key


def leaf_items(node: CfgNode, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted key, value)`` for every leaf of a config."""
    for key, value in node.items():
        if isinstance(value, CfgNode):
            yield from leaf_items(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def unknown_key_message(full_key: str, source: str, node: CfgNode, prefix: str, schema: Schema) -> str:
    """Why ``full_key`` is refused: the other config's key, or unknown with the closest key suggested."""
    if full_key in schema.other_keys or any(key.startswith(f"{full_key}.") for key in schema.other_keys):
        return (
            f"{source}: '{clipped(full_key)}' belongs to the other config ({schema.other_defaults_file}), "
            f"not this one ({schema.defaults_file}). Move it to the matching YAML file."
        )
    scope = f"{prefix}." if prefix and not prefix.endswith(".") else prefix
    known = [f"{scope}{key}" for key in leaf_keys(node)] + [f"{scope}{k}" for k in node]
    return (
        f"{source}: unknown key '{clipped(full_key)}'.{suggestion(full_key, known)} Every key is documented "
        f"in {schema.defaults_file}."
    )


def suggestion(key: str, known: Sequence[str]) -> str:
    """`` Did you mean 'X'?`` for the closest of ``known`` (case aside), or nothing."""
    by_upper = {candidate.upper(): candidate for candidate in known}
    matches = difflib.get_close_matches(key.upper(), list(by_upper), n=1, cutoff=0.6)
    return f" Did you mean '{by_upper[matches[0]]}'?" if matches else ""


def _merge_value(node: CfgNode, key: str, value: Any, prefix: str, source: str, schema: Schema) -> None:
    full_key = f"{prefix}{key}"
    if prefix in schema.list_valued_sections and node.is_new_allowed():
        # A later file's list or range replaces the earlier one whole, its items' text kept.
        node[key] = list_or_range_value(value, full_key, source)
    elif key not in node:
        if not node.is_new_allowed():
            raise ConfigError(unknown_key_message(full_key, source, node, prefix, schema))
        node[key] = _free_entry_value(value, full_key, source)
    elif isinstance(node[key], CfgNode):
        if not isinstance(value, dict):
            raise ConfigError(
                f"{source}: '{full_key}' is a section and takes a mapping of keys, got {shown(value)}. "
                f"See {schema.defaults_file} for its keys."
            )
        merge_mapping(node[key], value, source, schema, f"{full_key}.")
    else:
        node[key] = coerce_value(node[key], value, full_key, source)


def _coerce_item(default: list | tuple, item: Any, key: str, source: str) -> Any:
    if default:
        return coerce_value(default[0], item, f"{key}[]", source)
    item = plain(item)
    if isinstance(item, dict | list | tuple | type(None)):
        raise ConfigError(f"{source}: '{key}' takes a list of plain values, got {shown(item)} in it.")
    return item


def _free_entry_value(value: Any, key: str, source: str) -> str:
    """Values of free-form sections (INPUTS, ENVIRONMENT, TAGS, METRICS, ...) are their text as written."""
    if isinstance(value, Written) and value.value is not None:
        return value.text
    raise ConfigError(
        f"{source}: '{clipped(key)}' takes one text value, got {shown(value)}. Write empty text as '' "
        "and quote text that YAML would read as a list or mapping."
    )


def list_or_range_value(value: Any, key: str, source: str) -> list[str] | CfgNode:
    """A list of plain values, or a mapping of plain values (a range) as a node; its user judges their
    meaning.

    A list keeps each item as YAML text that reads back as the same value and text
    (``yaml_reading.scalar_source``: ``1.10`` stays "1.10", not 1.1), so each item can later be set
    exactly as the same ``KEY: item`` written in a file would be.
    """
    data = plain(value)
    items = data.values() if isinstance(data, dict) else data if isinstance(data, list) else None
    if items is None or any(isinstance(item, dict | list | tuple | type(None)) for item in items):
        raise ConfigError(
            f"{source}: '{clipped(key)}' takes a list of values (e.g. [0.01, 0.001]) or a range "
            f"(e.g. {{MIN: 0.001, MAX: 0.1, SCALE: log}}), got {shown(value)}."
        )
    if isinstance(data, dict):
        return CfgNode(data)
    return [scalar_source(_as_written(item)) for item in value]


def _as_written(item: Any) -> Written:
    """A list item as written: read from YAML it is one already; plain data is written as YAML would."""
    if isinstance(item, Written):
        return item
    if isinstance(item, str):
        return Written(item, item)
    return Written(item, json.dumps(item) if isinstance(item, bool | int | float) else str(item))


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
