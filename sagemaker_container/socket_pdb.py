"""pdb over TCP, for stopping at a breakpoint where no terminal can be attached.

Enable it for a run with ``SAGEMAKER.ENVIRONMENT.PYTHONBREAKPOINT socket_pdb.set_trace`` (and
``SAGEMAKER.ENVIRONMENT.SOCKET_PDB_PORT`` to change the port from 4444). At ``breakpoint()`` the
job logs where it waits; connect with ``nc HOST PORT`` (or telnet, or an editor's socket console)
and debug as usual; ``c`` lets the job go on. With several hosts, host N listens on PORT + N - 1.
"""

from __future__ import annotations

import json
import os
import pdb
import socket
import sys
from types import FrameType

PORT_ENV = "SOCKET_PDB_PORT"
DEFAULT_PORT = 4444


def _port() -> int:
    """The base port, offset by this host's position so hosts sharing one address do not collide."""
    hosts = json.loads(os.environ.get("SM_HOSTS", "[]"))
    current = os.environ.get("SM_CURRENT_HOST")
    offset = hosts.index(current) if current in hosts else 0
    return int(os.environ.get(PORT_ENV, DEFAULT_PORT)) + offset


def set_trace(frame: FrameType | None = None) -> None:
    """Wait for one debugger connection, then break in the caller's frame over it."""
    port = _port()
    with socket.create_server(("0.0.0.0", port)) as server:
        address = socket.gethostbyname(socket.gethostname())
        print(
            f"socket_pdb: waiting on {address}:{port}; connect with: nc {address} {port}",
            file=sys.stderr,
            flush=True,
        )
        connection, _ = server.accept()
    stream = connection.makefile("rw", buffering=1, encoding="utf-8", errors="replace")
    debugger = pdb.Pdb(stdin=stream, stdout=stream)
    debugger.use_rawinput = False
    debugger.set_trace(frame or sys._getframe().f_back)
