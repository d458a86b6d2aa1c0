"""Host mode (``local_process``): the entry point runs here as a plain process, no Docker, no AWS.

Each host gets an ``/opt/ml``-shaped tree and the ``SM_*`` environment and arguments that the
sagemaker-training toolkit itself computes for it, so the script sees what it sees on SageMaker.
The first host keeps the terminal, so ``breakpoint()`` stops in pdb right there (and
``PYTHONBREAKPOINT=pudb.set_trace`` gives pudb). Several hosts run as processes on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.local_layout import HostTree

# Computes one host's environment in a fresh interpreter: the toolkit fixes its paths from
# SAGEMAKER_BASE_DIR when it is imported, and each host has its own.
_TOOLKIT_ENVIRONMENT = """
import json, sys
from sagemaker_training import environment
env = environment.Environment()
json.dump({"env": env.to_env_vars(), "args": env.to_cmd_args()}, sys.stdout)
"""
DISTRIBUTED_PORT_ENV = "MASTER_PORT"
DISTRIBUTED_ADDRESS_ENV = "MASTER_ADDR"


def toolkit_environment(tree: HostTree) -> tuple[dict[str, str], list[str]]:
    """The ``SM_*`` variables and script arguments the toolkit gives this host."""
    done = subprocess.run(
        [sys.executable, "-c", _TOOLKIT_ENVIRONMENT],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(tree.base_dir)},
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


def free_port() -> int:
    """A TCP port nobody listens on now, for the hosts' rendezvous."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_hosts(
    trees: list[HostTree],
    source_dir: Path,
    entry_point: str,
    job_environment: Mapping[str, str],
    echo: Callable[[str], None],
) -> dict[str, int]:
    """Run the entry point once per host and return each host's exit code.

    ``job_environment`` is SAGEMAKER.ENVIRONMENT, which SageMaker sets in the container too. The
    first host inherits the terminal; the others get no stdin, so only one prompt waits.
    """
    port = str(free_port())
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for index, tree in enumerate(trees):
        variables, arguments = toolkit_environment(tree)
        environment = {
            **os.environ,
            **job_environment,
            **variables,
            "SAGEMAKER_BASE_DIR": str(tree.base_dir),
            DISTRIBUTED_ADDRESS_ENV: "127.0.0.1",
            DISTRIBUTED_PORT_ENV: port,
            "PYTHONUNBUFFERED": "1",
        }
        processes[tree.host] = subprocess.Popen(
            [sys.executable, entry_point, *arguments],
            cwd=source_dir,
            env=environment,
            stdin=None if index == 0 else subprocess.DEVNULL,
        )
    try:
        return {host: process.wait() for host, process in processes.items()}
    except KeyboardInterrupt:
        echo("Interrupted: waiting for the hosts to stop.")
        return {host: process.wait() for host, process in processes.items()}
