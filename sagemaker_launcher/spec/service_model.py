r"""The SageMaker API's own field limits, read from the service model that botocore ships.

botocore's client-side validation checks types and some lengths but not patterns, so a bad job
name or tag would only fail at the service after uploads were made. Reading min, max, pattern
and enum from the model keeps our checks in step with the API without copying numbers.

The patterns are Java regular expressions, matched here with Java's meaning: ``\p{Z}`` is the
Unicode separators (space, not tab or newline), ``\d``, ``\w`` and ``\s`` are ASCII, and ``.``
stops at every line terminator.

``request_problems`` checks a whole request against its operation's input shape (required members,
lengths, counts, patterns, allowed values), so a request is refused before anything is uploaded.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# Java's "\p{Name}" / "\P{Name}" / "\pN" property classes.
_PROPERTY = re.compile(r"\\([pP])(?:\{(\w+)\}|([A-Za-z]))")
# Java's "." outside a class: anything but a line terminator (Python's "." only stops at "\n").
_JAVA_DOT = r"[^\n\r\x85\u2028\u2029]"


@dataclass(frozen=True)
class FieldLimits:
    """Bounds of one shape: string length or integer value or list/map size, pattern, allowed values."""

    name: str
    min: int | None
    max: int | None
    pattern: str | None
    enum: tuple[str, ...]

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches the whole pattern as the service's Java regex would; true without one."""
        if self.pattern is None:
            return True
        alphabet = "".join(sorted(set(text))) if _PROPERTY.search(self.pattern) else ""
        return _compiled(self.pattern, alphabet).fullmatch(text) is not None


@functools.cache
def _model() -> dict[str, Any]:
    import botocore.loaders

    return botocore.loaders.create_loader().load_service_model("sagemaker", "service-2")


def _shapes() -> dict[str, Any]:
    return _model()["shapes"]


def request_problems(operation: str, request: Any, skipped: Iterable[str] = ()) -> list[str]:
    """What in ``request`` the API's ``operation`` would refuse, as ``Field.Path: problem`` lines.

    ``skipped`` are field paths, list items written ``[]`` (``InputDataConfig[].DataSource.FileDataSource``),
    whose problems (and their members') do not count: a local run's request holds ``file://`` locations
    and no role, which only the local executor reads.
    """
    shape = _model()["operations"][operation]["input"]["shape"]
    problems: list[tuple[str, str]] = []
    _check(shape, request, "", problems)
    fields = tuple(skipped)

    def counts(path: str) -> bool:
        general = re.sub(r"\[\d+\]", "[]", path)
        return not any(general == field or general.startswith(f"{field}.") for field in fields)

    return [f"{path or 'the request'}: {problem}" for path, problem in problems if counts(path)]


def _check(shape_name: str, value: Any, path: str, problems: list[tuple[str, str]]) -> None:
    shape = _shapes()[shape_name]
    kind = shape["type"]
    limits = field(shape_name)
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append((path, "must be an object"))
            return
        for member in shape.get("required", ()):
            if member not in value:
                problems.append((_join(path, member), "is required"))
        for member, item in value.items():
            if member not in shape["members"]:
                problems.append((_join(path, member), "is not a field of the API"))
                continue
            _check(shape["members"][member]["shape"], item, _join(path, member), problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append((path, "must be a list"))
            return
        _count(limits, len(value), path, problems)
        for index, item in enumerate(value):
            _check(shape["member"]["shape"], item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append((path, "must be a mapping"))
            return
        _count(limits, len(value), path, problems)
        for key, item in value.items():
            _check(shape["key"]["shape"], key, f"{path}.{key}(name)", problems)
            _check(shape["value"]["shape"], item, f"{path}.{key}", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append((path, "must be text"))
        elif limits.enum and value not in limits.enum:
            problems.append((path, f"{value[:80]!r} is not one of {', '.join(limits.enum[:12])}"))
        elif not (limits.min or 0) <= len(value) <= (limits.max or len(value)):
            problems.append((path, f"must be {limits.min or 0} to {limits.max} characters, not {len(value)}"))
        elif not limits.matches(value):
            problems.append((path, f"{value[:80]!r} does not match the pattern {limits.pattern}"))
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append((path, "must be a whole number"))
        elif (limits.min is not None and value < limits.min) or (
            limits.max is not None and value > limits.max
        ):
            problems.append((path, f"{value} is outside {limits.min}..{limits.max}"))
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append((path, "must be true or false"))


def _count(limits: FieldLimits, size: int, path: str, problems: list[tuple[str, str]]) -> None:
    if (limits.min is not None and size < limits.min) or (limits.max is not None and size > limits.max):
        problems.append((path, f"has {size} entries; the API takes {limits.min or 0} to {limits.max}"))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


@functools.cache
def field(shape_name: str) -> FieldLimits:
    """Return the limits of a shape of the SageMaker service model, e.g. ``field("TrainingJobName")``."""
    shape = _shapes()[shape_name]
    return FieldLimits(
        name=shape_name,
        min=shape.get("min"),
        max=shape.get("max"),
        pattern=shape.get("pattern"),
        enum=tuple(shape.get("enum", ())),
    )


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str, alphabet: str) -> re.Pattern[str]:
    return re.compile(_python_pattern(pattern, alphabet), re.ASCII)


def _python_pattern(pattern: str, alphabet: str) -> str:
    r"""The model's Java ``pattern`` in Python's dialect, exact for texts made of ``alphabet``'s characters.

    ``re`` has no Unicode property classes, and building one from the whole Unicode table costs about
    0.2 s; a class only has to decide the characters of the text it is matched against, so each
    ``\p{..}`` becomes the members of ``alphabet`` that have the property. The ``re.ASCII`` flag
    gives ``\d``, ``\w``, ``\s`` and ``\b`` Java's ASCII meaning.
    """
    parts: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        prop = _PROPERTY.match(pattern, index)
        if prop:
            members = _members(pattern, prop, alphabet)
            parts.append(members if in_class else f"[{members}]")
            index = prop.end()
            continue
        if char == "\\":
            parts.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "." and not in_class:
            char = _JAVA_DOT
        parts.append(char)
        index += 1
    return "".join(parts)


def _members(pattern: str, prop: re.Match[str], alphabet: str) -> str:
    """The characters of ``alphabet`` in the class ``prop`` names, escaped for use inside ``[...]``."""
    has = _property(prop[2] or prop[3], pattern)
    wanted = prop[1] == "p"
    members = "".join(char for char in alphabet if has(char) == wanted)
    # One character the text lacks keeps the class non-empty without admitting any of the text.
    absent = next(chr(code) for code in range(0x10FFFF, -1, -1) if chr(code) not in alphabet)
    return re.escape(members + absent)


def _property(name: str, pattern: str) -> Callable[[str], bool]:
    """Java's meaning of one property name: a Unicode general category, or an ASCII POSIX class."""
    if name == "Alnum":
        return lambda char: char.isascii() and char.isalnum()
    if re.fullmatch(r"[CLMNPSZ][a-z]?", name):
        return lambda char: unicodedata.category(char).startswith(name)
    raise ValueError(f"The service model's pattern {pattern!r} uses \\p{{{name}}}, which has no translation.")
