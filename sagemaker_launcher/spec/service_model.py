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

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
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


# The operations whose requests are checked; the extract holds every shape their inputs reach.
CHECKED_OPERATIONS = ("CreateTrainingJob", "CreateHyperParameterTuningJob")
# Where extracts are kept, one per botocore model file (its path, size and time in the name).
_CACHE_DIR = "~/.cache/sm-launcher/service-models"


@functools.cache
def _model() -> dict[str, Any]:
    """The checked operations and the shapes they reach: about 1% of botocore's SageMaker model, which
    costs about 0.15 s to import and read on every command. Kept as an extract on disk per model file;
    built from the whole model (and written, where the cache folder can be) when missing or unreadable."""
    cached = _extract_path()
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            extract = json.loads(cached.read_text(encoding="utf-8"))
            if isinstance(extract, dict) and set(extract) == {"operations", "shapes"}:
                return extract
    model = _whole_model()
    extract = _extract(model)
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
            partial.write_text(json.dumps(extract), encoding="utf-8")
            os.replace(partial, cached)
    return extract


@functools.cache
def _whole_model() -> dict[str, Any]:
    import botocore.loaders

    return botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH")).load_service_model(
        "sagemaker", "service-2"
    )


def _extract_path() -> Path | None:
    """The extract's file for the model botocore would load; None where that cannot be told cheaply
    (``AWS_DATA_PATH`` may point botocore at another model)."""
    found = importlib.util.find_spec("botocore")
    if os.environ.get("AWS_DATA_PATH") or found is None or not found.submodule_search_locations:
        return None
    files = sorted(Path(found.submodule_search_locations[0], "data", "sagemaker").glob("*/service-2.json*"))
    if not files:
        return None
    state = files[-1].stat()
    key = hashlib.sha256(f"{files[-1]}:{state.st_size}:{state.st_mtime_ns}".encode()).hexdigest()[:16]
    return Path(_CACHE_DIR).expanduser() / f"sagemaker-{files[-1].parent.name}-{key}.json"


def _shape(name: str) -> dict[str, Any]:
    """One shape of the model: from the extract, or the whole model for a shape the checked
    operations do not reach."""
    shapes = _model()["shapes"]
    return shapes[name] if name in shapes else _whole_model()["shapes"][name]


def _extract(model: dict[str, Any]) -> dict[str, Any]:
    """The checked operations' inputs and every shape they reach."""
    shapes = model["shapes"]
    operations = {name: {"input": model["operations"][name]["input"]} for name in CHECKED_OPERATIONS}
    kept: dict[str, Any] = {}
    pending = [operation["input"]["shape"] for operation in operations.values()]
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        shape = kept[name] = shapes[name]
        members = [
            *shape.get("members", {}).values(),
            *(shape[part] for part in ("member", "key", "value") if part in shape),
        ]
        pending += [member["shape"] for member in members]
    return {"operations": operations, "shapes": kept}


def request_problems(operation: str, request: Any, skipped: Iterable[str] = ()) -> list[str]:
    """What in ``request`` the API's ``operation`` would refuse, as ``Field.Path: problem`` lines.

    ``skipped`` are field paths, list items written ``[]`` (``InputDataConfig[].DataSource.FileDataSource``),
    whose problems (and their members') do not count: a local run's request holds ``file://`` locations
    and no role, which only the local executor reads.
    """
    operations = _model()["operations"]
    found = operations[operation] if operation in operations else _whole_model()["operations"][operation]
    shape = found["input"]["shape"]
    problems: list[tuple[str, str]] = []
    _check(shape, request, "", problems)
    fields = tuple(skipped)

    def counts(path: str) -> bool:
        general = re.sub(r"\[\d+\]", "[]", path)
        return not any(general == field or general.startswith(f"{field}.") for field in fields)

    return [f"{path or 'the request'}: {problem}" for path, problem in problems if counts(path)]


def _check(shape_name: str, value: Any, path: str, problems: list[tuple[str, str]]) -> None:
    shape = _shape(shape_name)
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
    shape = _shape(shape_name)
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
