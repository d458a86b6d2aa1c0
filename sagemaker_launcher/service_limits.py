"""The SageMaker API's own field limits, read from the service model that botocore ships.

botocore's client-side validation checks types and some lengths but not patterns, so a bad job
name or tag would only fail at the service after uploads were made. Reading min, max, pattern
and enum from the model keeps our checks in step with the API without copying numbers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

# Java-style Unicode classes in the model's patterns and their closest Python ``re`` spelling
# (``\w`` also admits "_", which every such pattern in the model allows anyway).
_UNICODE_CLASSES = {r"\p{L}": r"\w", r"\p{Z}": r"\s", r"\p{N}": r"\d"}


@dataclass(frozen=True)
class FieldLimits:
    """Bounds of one shape: string length or integer value or list/map size, pattern, allowed values."""

    name: str
    min: int | None
    max: int | None
    pattern: str | None
    enum: tuple[str, ...]

    def matches(self, text: str) -> bool:
        """Whether ``text`` matches the whole pattern (true when the shape has none)."""
        return self.pattern is None or _compiled(self.pattern).fullmatch(text) is not None


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


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(_python_pattern(pattern))


def _python_pattern(pattern: str) -> str:
    """Translate the model's Java regex dialect to Python's (only ``\\p{..}`` classes differ)."""
    for java, python in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, python)
    return pattern
