"""Host mode (``local_process``): the entry point runs here as plain processes, no Docker, no AWS.

Each host gets its ``/opt/ml``-shaped tree (``host_trees``) and the ``SM_*`` environment and arguments
that the sagemaker-training toolkit itself computes for it, plus what the image adds (the job's name,
``SM_DLC_TORCH_VERSION``), so the script sees what it sees on SageMaker. Each host starts the processes
the image's toolkit would: the script once, or PyTorch's own ``torch.distributed.run`` (torchrun) with
one process per GPU or ``sagemaker_mpi_num_of_processes_per_host``, all hosts meeting on loopback.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.config.run_modes import LOOPBACK, free_port
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.local.host_trees import HostTree, Rewrites
from sagemaker_launcher.local.processes import Started, wait_all
from sagemaker_launcher.spec.request import processes_per_host

# Computes one host's environment in a fresh interpreter: the toolkit fixes its paths from
# SAGEMAKER_BASE_DIR when it is imported, and each host has its own.
# Reading the environment also exports variables (SAGEMAKER_JOB_NAME, SAGEMAKER_REGION), which the
# script inherits in the container: those are passed on too.
_TOOLKIT_ENVIRONMENT = """
import json, os, sys
before = dict(os.environ)
from sagemaker_training import environment
env = environment.Environment()
exported = {key: value for key, value in os.environ.items() if before.get(key) != value}
json.dump({"env": {**exported, **env.to_env_vars()}, "args": env.to_cmd_args()}, sys.stdout)
"""
# The image's toolkit sets this to torch.__version__ (sagemaker_pytorch_container/training.py).
TORCH_VERSION_ENV = "SM_DLC_TORCH_VERSION"


def toolkit_environment(tree: HostTree, job_name: str) -> tuple[dict[str, str], list[str]]:
    """The ``SM_*`` variables and script arguments the toolkit gives this host (it reads the job's name
    from the variable SageMaker sets in every container)."""
    done = subprocess.run(
        [sys.executable, "-c", _TOOLKIT_ENVIRONMENT],
        env={**os.environ, names.BASE_DIR_ENV: str(tree.base_dir), names.JOB_NAME_ENV: job_name},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if "No module named 'sagemaker_training'" in done.stderr:
            raise LauncherError(
                "local_process runs need the sagemaker-training toolkit to build the SM_* environment; "
                "install it with: pip install -r requirements.txt"
            )
        raise LauncherError(f"The sagemaker-training toolkit could not read {tree.base_dir}:\n{done.stderr}")
    computed = json.loads(done.stdout)
    return computed["env"], computed["args"]


def torch_version() -> str | None:
    """torch's version as ``torch.__version__`` gives it (``2.13.0+cpu``), without importing torch."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def start_hosts(
    trees: Sequence[HostTree],
    request: Mapping[str, Any],
    python: Path,
    interactive: bool,
    rewrites: Rewrites,
) -> list[Started]:
    """Start the entry point on every host, as its toolkit would; returns the started processes.

    ``python`` is the interpreter (the launcher's, or the cached environment holding the code's
    requirements). With ``interactive`` the first host keeps the terminal's input and output.
    """
    job_name = request["TrainingJobName"]
    with ThreadPoolExecutor(max_workers=len(trees)) as pool:
        computed = list(pool.map(lambda tree: toolkit_environment(tree, job_name), trees))
    port = str(free_port())
    started = []
    for index, (tree, (variables, arguments)) in enumerate(zip(trees, computed, strict=True)):
        environment = {
            **os.environ,
            **{
                key: rewrites.path(value, tree.base_dir, f"environment {key}")
                for key, value in (request.get("Environment") or {}).items()
            },
            **variables,
            names.BASE_DIR_ENV: str(tree.base_dir),
            names.JOB_NAME_ENV: job_name,
            names.MASTER_ADDR_ENV: LOOPBACK,
            names.MASTER_PORT_ENV: port,
            "PYTHONUNBUFFERED": "1",
        }
        version = torch_version()
        if version:
            environment[TORCH_VERSION_ENV] = version
        per_host = processes_per_host(
            json.loads(variables["SM_FRAMEWORK_PARAMS"]), int(variables["SM_NUM_GPUS"])
        )
        keeps_terminal = interactive and index == 0
        entry_point = variables["SM_USER_ENTRY_POINT"]
        if per_host is None:
            command = [str(python), entry_point, *arguments]
        else:
            command = [
                str(python), "-m", "torch.distributed.run",
                "--nnodes", str(len(trees)), "--nproc_per_node", str(per_host),
                "--master_addr", LOOPBACK, "--master_port", port, "--node_rank", str(index),
                *([] if keeps_terminal else ["--tee", "3"]),
                entry_point, *arguments,
            ]  # fmt: skip
        started.append(Started.popen(tree.host, command, tree.code_dir, environment, keeps_terminal))
    return started


def run_hosts(
    trees: Sequence[HostTree], request: Mapping[str, Any], python: Path, interactive: bool, rewrites: Rewrites
) -> list[Started]:
    """Start every host and wait for them all; after a failure the others are stopped."""
    return wait_all(start_hosts(trees, request, python, interactive, rewrites))
