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
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
# Lines of a host's stderr kept for the failure reason of a script that crashed without a failure file.
ERROR_TAIL_LINES = 20


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


@dataclass(frozen=True)
class HostExit:
    """How one host's process ended: its exit code and the last lines it wrote to stderr."""

    code: int
    error_tail: list[str]


class _StderrTail:
    """Passes a process's stderr through to ``echo`` line by line, keeping its last lines.

    SageMaker reports a crashed script by the tail of its error output; this keeps the same text.
    """

    def __init__(self, stream: IO[bytes], echo: Callable[[str], None]) -> None:
        self.lines: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        self._thread = threading.Thread(target=self._pump, args=(stream, echo), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes], echo: Callable[[str], None]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip("\n")
                echo(line)
                self.lines.append(line)

    def finish(self) -> list[str]:
        """The last lines, once the stream has closed."""
        self._thread.join()
        return list(self.lines)


def run_hosts(
    trees: list[HostTree],
    source_dir: Path,
    entry_point: str,
    job_environment: Mapping[str, str],
    echo: Callable[[str], None],
    python_path: Path | None = None,
) -> dict[str, HostExit]:
    """Run the entry point once per host and return how each host's process ended.

    ``job_environment`` is SAGEMAKER.ENVIRONMENT, which SageMaker sets in the container too;
    ``python_path`` holds the code folder's own requirements when they had to be installed. The
    first host inherits the terminal; the others get no stdin, so only one prompt waits. Each
    host's stderr passes through ``echo``.
    """
    port = str(free_port())
    processes: dict[str, tuple[subprocess.Popen[bytes], _StderrTail]] = {}
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
        if python_path is not None:
            environment["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(python_path), environment.get("PYTHONPATH")])
            )
        process = subprocess.Popen(
            [sys.executable, entry_point, *arguments],
            cwd=source_dir,
            env=environment,
            stdin=None if index == 0 else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        processes[tree.host] = (process, _StderrTail(process.stderr, echo))

    def wait_all() -> dict[str, HostExit]:
        return {host: HostExit(process.wait(), tail.finish()) for host, (process, tail) in processes.items()}

    try:
        return wait_all()
    except KeyboardInterrupt:
        echo("Interrupted: waiting for the hosts to stop.")
        wait_all()
        raise KeyboardInterrupt("the hosts have stopped; the run's files stay in its folder") from None
