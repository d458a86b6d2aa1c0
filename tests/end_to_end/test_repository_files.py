"""The repository's own files agree with each other and pass their linters."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support.ci import missing
from support.commands import REPO_ROOT


def requirement_lines(path: Path) -> set[str]:
    """Requirement specifiers of a pip file, following ``-r`` includes."""
    lines: set[str] = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines |= requirement_lines(path.parent / line[3:].strip())
        elif line:
            lines.add(line)
    return lines


def test_conda_environment_matches_the_pip_requirements() -> None:
    environment = yaml.safe_load((REPO_ROOT / "environment.yaml").read_text())
    [pip_section] = [entry for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert set(pip_section["pip"]) == requirement_lines(REPO_ROOT / "requirements-dev.txt")
    python = next(entry for entry in environment["dependencies"] if str(entry).startswith("python="))
    assert python == f"python={sys.version_info.major}.{sys.version_info.minor}"


def test_ruff_is_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "script", [*sorted(p.name for p in REPO_ROOT.glob("*.sh")), "scripts/provision_docker.sh"]
)
def test_shell_scripts_are_shellcheck_clean(script: str) -> None:
    if shutil.which("shellcheck") is None:
        missing("shellcheck is not installed", "install it, e.g. apt-get install shellcheck")
    done = subprocess.run(["shellcheck", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
