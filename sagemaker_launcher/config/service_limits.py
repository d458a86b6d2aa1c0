r"""The SageMaker API's own field limits, read from the service model that botocore ships.

botocore's client-side validation checks types and some lengths but not patterns, so a bad job
name or tag would only fail at the service after uploads were made. Reading min, max, pattern
and enum from the model keeps our checks in step with the API without copying numbers.

The patterns are Java regular expressions, matched here with Java's meaning: ``\p{Z}`` is the
Unicode separators (space, not tab or newline), ``\d``, ``\w`` and ``\s`` are ASCII, and ``.``
stops at every line terminator.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
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
def _shapes() -> dict[str, Any]:
    import botocore.loaders

    return botocore.loaders.create_loader().load_service_model("sagemaker", "service-2")["shapes"]


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
