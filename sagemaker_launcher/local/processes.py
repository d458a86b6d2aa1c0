"""Host mode (``local_process``): the entry point runs here as plain processes, no Docker, no AWS.

Each host gets an ``/opt/ml``-shaped tree and the ``SM_*`` environment and arguments that the
sagemaker-training toolkit itself computes for it, so the script sees what it sees on SageMaker.
Each host starts the processes the image's toolkit would (distribution.py): the script once, or
once per GPU (or SAGEMAKER.PROCESSES_PER_HOST) with the variables torchrun sets, all meeting on
loopback. The first process of the first host keeps the terminal, so ``breakpoint()`` stops in pdb
right there (and ``PYTHONBREAKPOINT=pudb.set_trace`` gives pudb).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.launch.distribution import processes_per_host
from sagemaker_launcher.local.layout import HostTree

# Computes one host's environment in a fresh interpreter: the toolkit fixes its paths from
# SAGEMAKER_BASE_DIR when it is imported, and each host has its own.
_TOOLKIT_ENVIRONMENT = """
import json, sys
from sagemaker_training import environment
env = environment.Environment()
json.dump({"env": env.to_env_vars(), "args": env.to_cmd_args()}, sys.stdout)
"""
# Lines of a process's stderr kept for the failure reason of a script that crashed without a failure file.
ERROR_TAIL_LINES = 20
# After one process fails, the others get SIGTERM and this long before SIGKILL, as torchrun gives them.
STOP_GRACE_S = 30
_POLL_S = 0.1


def toolkit_environment(tree: HostTree) -> tuple[dict[str, str], list[str]]:
    """The ``SM_*`` variables and script arguments the toolkit gives this host."""
    done = subprocess.run(
        [sys.executable, "-c", _TOOLKIT_ENVIRONMENT],
        env={**os.environ, names.BASE_DIR_ENV: str(tree.base_dir)},
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


def rank_environment(
    host_index: int, host_count: int, local_rank: int, per_host: int, address: str, port: str
) -> dict[str, str]:
    """The variables torchrun gives one of its workers: its place in the job and the rendezvous."""
    rank = host_index * per_host + local_rank
    return {
        names.RANK_ENV: str(rank),
        names.LOCAL_RANK_ENV: str(local_rank),
        "GROUP_RANK": str(host_index),
        "ROLE_RANK": str(rank),
        names.WORLD_SIZE_ENV: str(host_count * per_host),
        names.LOCAL_WORLD_SIZE_ENV: str(per_host),
        "GROUP_WORLD_SIZE": str(host_count),
        "ROLE_WORLD_SIZE": str(host_count * per_host),
        names.MASTER_ADDR_ENV: address,
        names.MASTER_PORT_ENV: port,
    }


@dataclass
class _Process:
    """One started process of a host, with its stderr tail, and its exit code and time once it ended."""

    host: str
    process: subprocess.Popen[bytes]
    tail: _StderrTail
    code: int | None = None
    ended: float = 0.0


def run_hosts(
    trees: list[HostTree],
    source_dir: Path,
    entry_point: str,
    job_environment: Mapping[str, str],
    echo: Callable[[str], None],
    python_path: Path | None = None,
) -> dict[str, HostExit]:
    """Run the entry point on every host, as many times as its toolkit would; say how each host ended.

    ``job_environment`` is SAGEMAKER.ENVIRONMENT, which SageMaker sets in the container too;
    ``python_path`` holds the code folder's own requirements when they had to be installed. The
    first process inherits the terminal; the others get no stdin, so only one prompt waits. Each
    process's stderr passes through ``echo``. When one process fails, the others are stopped, as
    torchrun stops a failed worker's peers and SageMaker a failed host's.
    """
    address, port = "127.0.0.1", str(free_port())
    started: list[_Process] = []
    for host_index, tree in enumerate(trees):
        variables, arguments = toolkit_environment(tree)
        framework_parameters = json.loads(variables["SM_FRAMEWORK_PARAMS"])
        per_host = processes_per_host(framework_parameters, int(variables["SM_NUM_GPUS"]))
        environment = {
            **os.environ,
            **job_environment,
            **variables,
            names.BASE_DIR_ENV: str(tree.base_dir),
            names.MASTER_ADDR_ENV: address,
            names.MASTER_PORT_ENV: port,
            "PYTHONUNBUFFERED": "1",
        }
        if python_path is not None:
            environment["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(python_path), environment.get("PYTHONPATH")])
            )
        if per_host and per_host > 1:
            # torchrun's default: several processes' thread pools would otherwise fight for the cores.
            environment.setdefault("OMP_NUM_THREADS", "1")
        for local_rank in range(per_host or 1):
            ranked = environment
            if per_host:
                ranked = {
                    **environment,
                    **rank_environment(host_index, len(trees), local_rank, per_host, address, port),
                }
            process = subprocess.Popen(
                [sys.executable, entry_point, *arguments],
                cwd=source_dir,
                env=ranked,
                stdin=None if not started else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            started.append(_Process(tree.host, process, _StderrTail(process.stderr, echo)))
    try:
        _wait(started, echo)
    except KeyboardInterrupt:
        echo("Interrupted: waiting for the hosts to stop.")
        _wait(started, echo)
    return _host_exits(started)


def _wait(started: list[_Process], echo: Callable[[str], None]) -> None:
    """Wait for every process; after the first failure, stop the rest (SIGTERM, then SIGKILL)."""
    kill_at: float | None = None
    running = [entry for entry in started if entry.code is None]
    while running:
        for entry in list(running):
            entry.code = entry.process.poll()
            if entry.code is None:
                continue
            entry.ended = time.monotonic()
            running.remove(entry)
            if entry.code and kill_at is None and running:
                echo(f"A process of host {entry.host} exited with code {entry.code}: stopping the others.")
                kill_at = time.monotonic() + STOP_GRACE_S
                for other in running:
                    other.process.terminate()
        if kill_at is not None and time.monotonic() > kill_at:
            for other in running:
                other.process.kill()
        if running:
            time.sleep(_POLL_S)


def _host_exits(started: list[_Process]) -> dict[str, HostExit]:
    """Each host's first failure in exit order (its code and error tail), else code 0."""
    exits: dict[str, HostExit] = {}
    for entry in sorted(started, key=lambda entry: entry.ended):
        tail = entry.tail.finish()
        if entry.host not in exits or (entry.code and not exits[entry.host].code):
            exits[entry.host] = HostExit(entry.code or 0, tail)
    return exits
