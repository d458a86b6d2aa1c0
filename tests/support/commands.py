"""Running the launcher as users do: in process through click, or as ``python run_sagemaker_job.py``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, expect_exit: int | None = 0) -> Result:
    """Invoke ``run_sagemaker_job.py`` with ``args``; check its exit code unless ``expect_exit`` is None."""
    from sagemaker_launcher.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if expect_exit is not None:
        assert result.exit_code == expect_exit, f"exit {result.exit_code}\n{result.output}"
    return result


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    """Write a YAML experiment file and return its path."""
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def python_command(*args: str) -> Sequence[str]:
    """``python run_sagemaker_job.py ARGS`` with this interpreter, for subprocess tests."""
    return [sys.executable, str(REPO_ROOT / "run_sagemaker_job.py"), *args]


def local_launch_command(config: str, runs: Path, digits: Path, *overrides: str) -> Sequence[str]:
    """The launcher on ``config`` (relative to the repository), its channels pointed at ``digits``
    and its runs kept under ``runs``."""
    return python_command(
        "--config",
        str(REPO_ROOT / config),
        "LOCAL.RUNS_DIR",
        str(runs),
        "INPUTS.train",
        str(digits / "train"),
        "INPUTS.validation",
        str(digits / "validation"),
        *overrides,
    )
