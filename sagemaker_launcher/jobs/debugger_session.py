"""Carrying out an attach plan: the port forwarder in the background, then a shell, or the debugger.

pdb is spoken over TCP from this terminal: what the job's pdb writes is shown, each line typed is sent.
Leaving (``q``, Ctrl-D, Ctrl-C) closes the connection, which quits pdb: a held failure then ends the job
at once. For debugpy the editor attaches itself; this keeps the forwarder open and says how.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from typing import BinaryIO

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.attach import AttachPlan

LOOPBACK = "127.0.0.1"
RETRY_SECONDS = 1.0
_CHUNK = 65536


def carry_out(plan: AttachPlan, wait_seconds: float) -> int:
    """Run ``plan``; the exit code of the shell, else 0 once the debugger conversation ends."""
    if plan.shell is not None:
        return subprocess.call(plan.shell, cwd=plan.cwd)
    forwarder = None
    if plan.forwarder:
        forwarder = subprocess.Popen(
            plan.forwarder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    try:
        assert plan.local_port is not None
        if plan.adapter == "debugpy":
            _say(_editor_hint(plan))
            if forwarder is not None:
                _say("Keeping the SSM session open; Ctrl-C ends it.")
                forwarder.wait()
            return 0
        _say(f"Waiting for the debugger of {plan.where} (it listens at a breakpoint or a held failure)...")
        connection, first = _connect(plan.local_port, time.monotonic() + wait_seconds, forwarder)
        _say(
            f"Attached to {plan.where}. 'c' lets it go on; 'q', Ctrl-D or Ctrl-C quits pdb "
            "(a held failure then ends)."
        )
        converse(connection, first, sys.stdin.buffer, sys.stdout.buffer)
        return 0
    finally:
        if forwarder is not None and forwarder.poll() is None:
            forwarder.terminate()
            try:
                forwarder.wait(timeout=10)
            except subprocess.TimeoutExpired:
                forwarder.kill()


def converse(connection: socket.socket, first: bytes, terminal_in: BinaryIO, terminal_out: BinaryIO) -> None:
    """Relay between the terminal and the debugger's connection until either side ends."""
    terminal_out.write(first)
    terminal_out.flush()
    with connection, selectors.DefaultSelector() as selector:
        selector.register(connection, selectors.EVENT_READ)
        selector.register(terminal_in, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is connection:
                    data = connection.recv(_CHUNK)
                    if not data:
                        return
                    terminal_out.write(data)
                    terminal_out.flush()
                else:
                    typed = os.read(terminal_in.fileno(), _CHUNK)
                    if not typed:
                        connection.shutdown(socket.SHUT_WR)
                        selector.unregister(terminal_in)
                    else:
                        connection.sendall(typed)


def _connect(
    port: int, deadline: float, forwarder: subprocess.Popen[bytes] | None
) -> tuple[socket.socket, bytes]:
    """A connection on which the debugger has spoken. A forwarder (SSM, docker's proxy) accepts before the
    far end listens and then closes at once: that is retried; a connection pdb accepted is never dropped."""
    while True:
        if forwarder is not None and forwarder.poll() is not None:
            error = forwarder.stderr.read().decode(errors="replace").strip() if forwarder.stderr else ""
            raise LauncherError(
                f"The SSM session ended before the debugger answered (exit {forwarder.returncode}): "
                f"{error or 'no message'}. Check that the job has SAGEMAKER.ENABLE_REMOTE_DEBUG, its role "
                "may open SSM channels and you may start sessions (README, 'Debugging on SageMaker')."
            )
        try:
            connection = socket.create_connection((LOOPBACK, port), timeout=RETRY_SECONDS)
        except OSError:
            connection = None
        if connection is not None:
            connection.settimeout(None)
            try:
                first = connection.recv(_CHUNK)
            except OSError:
                first = b""
            if first:
                return connection, first
            connection.close()
        if time.monotonic() > deadline:
            raise LauncherError(
                f"No debugger answered on {LOOPBACK}:{port} in time. It listens only at a breakpoint "
                "(PYTHONBREAKPOINT job_debugger.set_trace) or while a failure is held "
                "(DEBUGGER.HOLD_ON_FAILURE_SECONDS); the job's log says when ('job_debugger: ... waits on "
                "port N'). Attach again then, or pass --wait with more seconds."
            )
        time.sleep(RETRY_SECONDS)


def _editor_hint(plan: AttachPlan) -> str:
    """The launch configuration an editor needs to attach, with the path mapping back to SOURCE_DIR."""
    configuration = {
        "name": f"Attach: {plan.where}",
        "type": "debugpy",
        "request": "attach",
        "connect": {"host": LOOPBACK, "port": plan.local_port},
        "pathMappings": [
            {"localRoot": plan.source_dir or "${workspaceFolder}", "remoteRoot": plan.remote_code}
        ],
        "justMyCode": False,
    }
    return (
        f"debugpy of {plan.where} is reached on {LOOPBACK}:{plan.local_port}. In VS Code, add to "
        f".vscode/launch.json and start it (PyCharm: a 'Python Debug Server' run configuration):\n"
        + json.dumps(configuration, indent=2)
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
