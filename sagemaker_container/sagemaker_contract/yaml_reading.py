"""Read one config file as plain YAML data, keeping each scalar's text as the file wrote it.

YAML 1.1 reads ``1.10`` as 1.1, ``010`` as 8 and ``off`` as false, but a text-typed key must get
what the user wrote, so every scalar comes back as ``Written(value, text)`` and the merge picks
one. Parsing is PyYAML's safe loader (Python tags stay refused). A key given twice in one mapping is
refused: YAML would keep the last value and silently drop the first (a second ``SAGEMAKER:`` section
would replace the whole first one). A config file is small: one that is too large, not UTF-8, or
whose aliases expand past a bound ("billion laughs") is refused before it costs time or memory, and
values echoed in messages are cut short.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

# Configs hold settings, not data: 1 MiB is far more than any of them needs.
MAX_FILE_BYTES = 1 << 20
# Values (scalars, lists, mappings) one YAML text may hold, each alias counting its values again:
# hundreds of times what a job can send, and parsed in about a second in pure Python.
MAX_VALUES = 50_000
# Characters of scalar text once aliases are expanded; without aliases a file stays below its size.
MAX_CHARACTERS = 2 * MAX_FILE_BYTES
# Nesting levels of lists and mappings (the composer recurses once per level).
MAX_DEPTH = 50
# Longest rendering of a value inside an error message.
MAX_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Written:
    """One scalar of a config file: what YAML makes of it, and its text as written."""

    value: Any
    text: str


def plain(data: Any) -> Any:
    """``data`` with every ``Written`` replaced by its YAML value, as ``yaml.safe_load`` returns it."""
    if isinstance(data, Written):
        return data.value
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [plain(item) for item in data]
    return data


def scalar_source(item: Written) -> str:
    """YAML text that ``parse`` reads back as ``item``, the same value and the same text.

    That is the text as written, unless the file quoted it and the bare text reads as something else
    (``'5'`` is text, ``5`` a number; ``''`` is empty text, nothing bare is null): then the text in
    double quotes.
    """
    try:
        again = parse(item.text)
    except yaml.YAMLError:
        again = None
    if isinstance(again, Written) and again.text == item.text and _same_value(again.value, item.value):
        return item.text
    return json.dumps(item.text, ensure_ascii=False)


def _same_value(first: Any, second: Any) -> bool:
    """Equal and of one type (``1``, ``1.0`` and ``true`` are three values); NaN is NaN."""
    if type(first) is not type(second):
        return False
    if isinstance(first, float) and math.isnan(first):
        return math.isnan(second)
    return bool(first == second)


def shown(value: Any) -> str:
    """``repr`` of a config value for a message, cut to ``MAX_SHOWN`` characters."""
    return clipped(repr(plain(value)))


def clipped(text: str) -> str:
    """``text`` cut to ``MAX_SHOWN`` characters, so a hostile value cannot flood a message."""
    return text if len(text) <= MAX_SHOWN else f"{text[:MAX_SHOWN]}..."


def read_mapping(path: Path) -> dict[str, Any]:
    """Read one YAML config file as a mapping of text keys; an empty file is an empty mapping."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{path} cannot be read: {error.strerror}. Check the file's permissions.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{path} is {path.stat().st_size} bytes; a config file may hold at most {MAX_FILE_BYTES} "
            "(1 MiB). Configs hold settings, not data: put data in an INPUTS channel and let the training "
            "code read it."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            f"{path}, line {line}: byte {error.start} (0x{raw[error.start]:02x}) is not UTF-8 text. Config "
            "files must be UTF-8: save the file as UTF-8 in your editor (or convert it, e.g. "
            "'iconv -f latin1 -t utf-8')."
        ) from None
    try:
        data = parse(text)
    except RefusedYAML as error:
        raise ConfigError(f"{path}{yaml_line(error)}: {error.problem}.") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}{yaml_line(error)}: not valid YAML ({yaml_problem(error)}).") from None
    if data is None or (isinstance(data, Written) and data.value is None):
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the file must hold a mapping of KEY: value, not {type(plain(data)).__name__}."
        )
    return data


def parse(text: str) -> Any:
    """YAML text as data with ``Written`` scalars and text keys; raises ``yaml.YAMLError``.

    Command-line values go through here too, so they have the same bounds as files.
    """
    loader = _ConfigLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def yaml_line(error: yaml.YAMLError) -> str:
    """``, line N`` for an error that knows where it is in the file."""
    mark = getattr(error, "problem_mark", None)
    return f", line {mark.line + 1}" if mark else ""


def yaml_problem(error: yaml.YAMLError) -> str:
    """What PyYAML found wrong, in one short phrase."""
    if isinstance(error, yaml.reader.ReaderError):
        return f"the control character U+{error.character:04X} at character {error.position} is not allowed"
    return clipped(str(getattr(error, "problem", None) or error).strip())


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that a config file may not hold; ``problem`` is the whole reason."""


class _ConfigLoader(yaml.SafeLoader):
    """The safe loader, returning ``Written`` scalars and text keys, its expansion bounded while it reads.

    Aliases share one node, so parsing stays cheap; what costs time and memory is walking the
    expanded data later. Totals count each alias's values again and are checked as each node is
    composed, so a "billion laughs" stops at the first level that passes a bound.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (values, characters) of each composed node with its aliases expanded, by id: nodes live
        # until composition ends.
        self._sizes: dict[int, tuple[int, int]] = {}
        self._values = 0
        self._characters = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        alias = self.peek_event() if self.check_event(yaml.AliasEvent) else None
        if self._depth >= MAX_DEPTH:
            raise RefusedYAML(
                problem=f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                problem_mark=self.peek_event().start_mark,
            )
        self._depth += 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        if alias is None and isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node)
        if alias is None:
            size = self._expanded_size(node)
            self._sizes[id(node)] = size
            added = (1, size[1] if isinstance(node, yaml.ScalarNode) else 0)
        elif id(node) in self._sizes:
            added = self._sizes[id(node)]
        else:
            raise RefusedYAML(
                problem=f"the alias *{clipped(alias.anchor)} is used inside the value it names, so it "
                "would never end; refer only to values defined before it",
                problem_mark=alias.start_mark,
            )
        self._values += added[0]
        self._characters += added[1]
        if self._values > MAX_VALUES or self._characters > MAX_CHARACTERS:
            held = (
                f"more than {MAX_VALUES} values (scalars, lists and mappings)"
                if self._values > MAX_VALUES
                else f"more than {MAX_CHARACTERS} characters of text"
            )
            here = f" (here *{clipped(alias.anchor)})" if alias is not None else ""
            raise RefusedYAML(
                problem=f"by this line the YAML holds {held}, counting the values of each alias{here} "
                "again. Configs hold settings, not data: put data in an INPUTS channel",
                problem_mark=(alias or node).start_mark,
            )
        return node

    def _expanded_size(self, node: yaml.Node) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            return 1, len(node.value)
        children = (
            [part for pair in node.value for part in pair]
            if isinstance(node, yaml.MappingNode)
            else node.value
        )
        sizes = [self._sizes[id(child)] for child in children]
        return 1 + sum(values for values, _ in sizes), sum(characters for _, characters in sizes)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        value = super().construct_object(node, deep)
        return Written(value, node.value) if isinstance(node, yaml.ScalarNode) else value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        """Keys are names, so each keeps its text (``on:`` is "on", ``010:`` is "010")."""
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise RefusedYAML(
                    problem="a key is a list or mapping; keys must be plain names",
                    problem_mark=key_node.start_mark,
                )
            mapping[self.construct_object(key_node).text] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_unknown_tag(self, node: yaml.Node) -> Any:
        raise RefusedYAML(
            problem=f"the tag {clipped(node.tag)} is refused: config files are plain YAML data, and Python "
            "object tags (!!python/...) would run code when loaded",
            problem_mark=node.start_mark,
        )


def _refuse_repeated_keys(node: yaml.MappingNode) -> None:
    """A mapping whose own keys (merge keys' aside: ``<<: *base`` then ``KEY:`` overrides on purpose)
    repeat one is refused at the second, naming the first's line. Checked as the mapping is composed,
    before merge keys are flattened into it."""
    first_lines: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        if key_node.value in first_lines:
            raise RefusedYAML(
                problem=f"the key '{clipped(key_node.value)}' is given twice in one mapping (first on line "
                f"{first_lines[key_node.value]}); YAML would keep only the last value and silently drop the "
                "first. Keep one of them, with every entry you need in it",
                problem_mark=key_node.start_mark,
            )
        first_lines[key_node.value] = key_node.start_mark.line + 1


_MERGE_TAG = "tag:yaml.org,2002:merge"
# Tags outside plain YAML data (the safe loader's "undefined") get the refusal above.
_ConfigLoader.add_constructor(None, _ConfigLoader.construct_unknown_tag)
