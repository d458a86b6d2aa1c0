"""Shared helpers of the container tests: a temporary /opt/ml tree, and runs of main.py against it."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CONTAINER_DIR = REPO / "sagemaker_container"
MAIN = CONTAINER_DIR / "main.py"
# Variables of the real contract that must not leak from the test's own environment.
_CONTRACT_PREFIXES = ("SM_", "SAGEMAKER_", "MASTER_")


def make_tree(
    base: Path,
    data_dir: Path | None,
    hyperparameters: dict[str, Any] | None = None,
    training_config: dict[str, Any] | None = None,
    resource_config: dict[str, Any] | None = None,
) -> Path:
    """An /opt/ml-shaped tree: config files, the data channels and optionally a config channel.

    Hyperparameter values are JSON-encoded as the launcher sends them, except strings, which are
    written as they are (as SageMaker's tuner sends them).
    """
    config_dir = base / "input" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    encoded = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in (hyperparameters or {}).items()
    }
    (config_dir / "hyperparameters.json").write_text(json.dumps(encoded))
    if resource_config is not None:
        (config_dir / "resourceconfig.json").write_text(json.dumps(resource_config))
    if data_dir is not None:
        for channel in ("train", "validation"):
            shutil.copytree(data_dir / channel, base / "input" / "data" / channel)
    if training_config is not None:
        channel = base / "input" / "data" / "config"
        channel.mkdir(parents=True)
        (channel / "training_config.yaml").write_text(yaml.safe_dump(training_config))
        (channel / "record.json").write_text("{}")
    return base


def job_env(base: Path, **extra: str) -> dict[str, str]:
    """The environment of a job run against ``base``, with nothing inherited from a real contract.

    One intra-op thread per job: the test machine's few cores are shared, and OpenMP threads that
    spin against other processes make tiny steps many times slower.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_CONTRACT_PREFIXES)}
    env.update(SAGEMAKER_BASE_DIR=str(base), PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    env.update(extra)
    return env


def run_job(base: Path, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run main.py to the end, as the toolkit does (from its folder), capturing its output."""
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        cwd=CONTAINER_DIR,
        env=job_env(base, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_job(base: Path, log: Path | None = None, **env: str) -> subprocess.Popen[str]:
    """Start main.py in the background, stdout and stderr merged into ``log`` or else one text pipe."""
    with open(log, "w") if log else contextlib.nullcontext(subprocess.PIPE) as output:
        return subprocess.Popen(
            [sys.executable, str(MAIN)],
            cwd=CONTAINER_DIR,
            env=job_env(base, **env),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )


def final_weights(base: Path) -> dict[str, Any]:
    """The state dict the job exported to the model dir."""
    import torch

    return torch.load(base / "model" / "model.pth", weights_only=True)["state_dict"]


def assert_same_weights(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Bitwise equality of two state dicts."""
    import torch

    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), f"weights differ in {name}"


def read_metrics(base: Path) -> dict[str, Any]:
    """The job's metrics.json."""
    return json.loads((base / "output" / "data" / "metrics.json").read_text())


def container_module(name: str) -> ModuleType:
    """Import a module of sagemaker_container the way main.py does, e.g. ``digits.job_config``."""
    if str(CONTAINER_DIR) not in sys.path:
        # Appended, so the container's package names never shadow anything else in the test process.
        sys.path.append(str(CONTAINER_DIR))
    return importlib.import_module(name)


def write_digits_data(out_dir: Path) -> Path:
    """Run scripts/make_digits_data.py's function into ``out_dir`` and return ``out_dir``."""
    spec = importlib.util.spec_from_file_location(
        "make_digits_data", REPO / "scripts" / "make_digits_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_digits_data(out_dir)
    return out_dir
