"""The one rule for a missing tool: skip on a laptop that lacks it, fail under CI (``CI=true``).

CI installs every tool the tests need (.ci/run), so there a missing one is a broken setup that a
skip would hide.
"""

from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where nothing may be skipped for a missing tool."""
    return os.environ.get("CI", "").lower() == "true"


def missing(message: str, how_to_get_it: str) -> None:
    """Skip the calling test because of ``message``; fail it instead under CI."""
    if under_ci():
        pytest.fail(f"{message} (CI=true requires it; {how_to_get_it})", pytrace=False)
    pytest.skip(f"{message}; {how_to_get_it}")
