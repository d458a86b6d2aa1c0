"""The job's debugger: pdb (or debugpy) served on a TCP port, at a breakpoint or on a failure.

Standard library only (debugpy when ``DEBUGGER.ADAPTER`` is ``debugpy``), so it runs beside any code:

- ``breakpoint()`` with ``PYTHONBREAKPOINT=job_debugger.set_trace`` waits for a debugger on this
  process's port, where no terminal can be attached.
- **Hold on failure**: with ``SM_LAUNCHER_HOLD_ON_FAILURE_SECONDS`` above 0, a process whose code
  raises serves a post-mortem debugger on the failing frame for at most that many seconds, then ends as
  it would have (exit code 1, its traceback already on stderr); quitting the debugger ends it at once.
- **The runner**: ``python job_debugger.py ARGS`` runs the script ``SM_LAUNCHER_ENTRY_POINT`` names as
  ``python SCRIPT ARGS`` would, and holds on its failure. The launcher makes it the job's program when
  the hold is on, so any script gets the hold unmodified.

Ports: host h (``algo-<h+1>``) and local rank r of the P processes on each host listen on
``PORT + h * P + r`` (torchrun's ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE``; one process: r = 0, P = 1), so
hosts sharing one loopback never collide. The debugger binds ``127.0.0.1`` unless
``SM_LAUNCHER_DEBUGGER_BIND`` says otherwise (Docker local mode binds the container's interfaces and
publishes the port on the host's loopback only). Messages go to stdout: stderr stays the script's own,
so the failure reason is the one it would be without the hold.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import traceback
from types import FrameType, TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pdb

# This file's name beside the job's code, where it is the job's program when the hold is on.
RUNNER_FILE = "job_debugger.py"
PORT_ENV = "SM_LAUNCHER_DEBUGGER_PORT"
ADAPTER_ENV = "SM_LAUNCHER_DEBUGGER_ADAPTER"
HOLD_ENV = "SM_LAUNCHER_HOLD_ON_FAILURE_SECONDS"
BIND_ENV = "SM_LAUNCHER_DEBUGGER_BIND"
ENTRY_POINT_ENV = "SM_LAUNCHER_ENTRY_POINT"
DEFAULT_PORT = 4444
DEFAULT_ADAPTER = "pdb"
ADAPTERS = ("pdb", "debugpy")
LOOPBACK = "127.0.0.1"
# Every line this module prints starts so.
MESSAGE_PREFIX = "job_debugger: "
# A Python script's exit code when it ends with an uncaught exception.
FAILED_EXIT_CODE = 1


def rank_port(base: int, host_index: int, per_host: int, local_rank: int) -> int:
    """The port of local rank ``local_rank`` of ``per_host`` processes on host ``host_index`` (0-based)."""
    return base + host_index * per_host + local_rank


def host_index(host: str, hosts: list[str]) -> int:
    """0 for algo-1, 1 for algo-2, ...; a host named otherwise counts by its place in ``hosts``."""
    prefix, _, number = host.rpartition("-")
    if prefix == "algo" and number.isdigit():
        return int(number) - 1
    return hosts.index(host) if host in hosts else 0


def this_port() -> int:
    """This process's port, by the rule above."""
    host = os.environ.get("SM_CURRENT_HOST", "algo-1")
    hosts = json.loads(os.environ.get("SM_HOSTS", "[]"))
    return rank_port(
        int(os.environ.get(PORT_ENV) or DEFAULT_PORT),
        host_index(host, hosts),
        int(os.environ.get("LOCAL_WORLD_SIZE") or 1),
        int(os.environ.get("LOCAL_RANK") or 0),
    )


def set_trace(frame: FrameType | None = None) -> None:
    """``breakpoint()``: wait for a debugger on this process's port, then stop in the caller's frame."""
    frame = frame or sys._getframe().f_back
    if _adapter() == "debugpy":
        _debugpy_session(f"breakpoint() at {_where(frame)}", None)
        return
    debugger = _pdb_session(f"breakpoint() at {_where(frame)}")
    debugger.set_trace(frame)


def hold_on_failure(error: BaseException) -> None:
    """Serve a post-mortem debugger on ``error``'s failing frame for the hold's seconds; at once when the
    hold is off. Returns when the debugger quits; ends the process when the time is up."""
    seconds = float(os.environ.get(HOLD_ENV) or 0)
    if seconds <= 0 or error.__traceback__ is None:
        return
    if threading.current_thread() is threading.main_thread():
        # A stop (StopTrainingJob, spot reclaim, Ctrl-C locally) ends the hold, whatever handler the
        # script had installed.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    timer = threading.Timer(seconds, _hold_over, args=(seconds,))
    timer.daemon = True
    timer.start()
    innermost = _innermost(error.__traceback__)
    what = f"{type(error).__name__} at {_where(innermost.tb_frame, innermost.tb_lineno)}"
    try:
        if _adapter() == "debugpy":
            _debugpy_session(
                f"{what}; held for up to {seconds:g} s", (type(error), error, error.__traceback__)
            )
        else:
            debugger = _pdb_session(f"{what}; held for up to {seconds:g} s (post-mortem)")
            debugger.reset()
            debugger.interaction(None, error.__traceback__)
    except OSError as failure:
        _say(f"the hold could not serve a debugger ({failure}); the process ends now")
    finally:
        timer.cancel()
    _say("the debugger quit: the process ends with its failure")


def run_entry_point(arguments: list[str]) -> None:
    """Run ``SM_LAUNCHER_ENTRY_POINT`` as ``python SCRIPT ARGS`` does (as ``__main__``, its folder first on
    ``sys.path``), holding on its failure; exits as the script would."""
    import builtins

    import __main__

    script = os.path.abspath(os.environ[ENTRY_POINT_ENV])
    with open(script, "rb") as source:
        code = compile(source.read(), script, "exec")
    sys.argv = [os.environ[ENTRY_POINT_ENV], *arguments]
    sys.path[0] = os.path.dirname(script)
    namespace = __main__.__dict__
    namespace.clear()
    namespace.update(
        __name__="__main__", __file__=script, __builtins__=builtins, __package__=None, __spec__=None
    )
    try:
        exec(code, namespace)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as error:
        # What Python prints for an uncaught exception, without this runner's own frame.
        traceback.print_exception(
            type(error), error, error.__traceback__.tb_next if error.__traceback__ else None
        )
        sys.stderr.flush()
        hold_on_failure(error)
        sys.exit(FAILED_EXIT_CODE)


def _adapter() -> str:
    """pdb, or debugpy where it is installed (else pdb, saying why)."""
    adapter = os.environ.get(ADAPTER_ENV) or DEFAULT_ADAPTER
    if adapter == "debugpy":
        try:
            import debugpy  # noqa: F401
        except ImportError:
            _say("DEBUGGER.ADAPTER is debugpy, but debugpy is not installed where the job runs: pdb serves")
            return "pdb"
    return adapter


def _pdb_session(what: str) -> pdb.Pdb:
    """Accept one connection on this process's port and return a pdb talking over it."""
    import pdb

    port = this_port()
    bind = os.environ.get(BIND_ENV) or LOOPBACK
    with socket.create_server((bind, port)) as server:
        _say(f"{what}; pdb waits on port {port} ({_attach_hint(port)})")
        connection, _ = server.accept()
    stream = connection.makefile("rw", buffering=1, encoding="utf-8", errors="replace")
    debugger = pdb.Pdb(stdin=stream, stdout=stream)
    debugger.use_rawinput = False
    return debugger


def _debugpy_session(
    what: str, excinfo: tuple[type[BaseException], BaseException, TracebackType] | None
) -> None:
    """Listen for a DAP client (VS Code, PyCharm) on this process's port, then stop on the failing frame
    (``excinfo``) or here."""
    import debugpy

    port = this_port()
    debugpy.listen((os.environ.get(BIND_ENV) or LOOPBACK, port))
    _say(f"{what}; debugpy waits on port {port} ({_attach_hint(port)})")
    debugpy.wait_for_client()
    if excinfo is None:
        debugpy.breakpoint()
    else:
        debugpy.trigger_exception_handler(excinfo, as_uncaught=False)


def _attach_hint(port: int) -> str:
    job = os.environ.get("TRAINING_JOB_NAME", "JOB")
    host = os.environ.get("SM_CURRENT_HOST", "algo-1")
    rank = os.environ.get("LOCAL_RANK") or "0"
    return f"python run_sagemaker_job.py attach {job} --host {host} --rank {rank}"


def _hold_over(seconds: float) -> None:
    """The hold's time is up: end the process with the failure it had."""
    _say(f"no debugger quit within {seconds:g} s (DEBUGGER.HOLD_ON_FAILURE_SECONDS): the process ends")
    sys.stderr.flush()
    os._exit(FAILED_EXIT_CODE)


def _innermost(trace: TracebackType) -> TracebackType:
    while trace.tb_next is not None:
        trace = trace.tb_next
    return trace


def _where(frame: FrameType | None, line: int | None = None) -> str:
    if frame is None:
        return "?"
    return f"{os.path.basename(frame.f_code.co_filename)}:{line or frame.f_lineno} in {frame.f_code.co_name}"


def _say(message: str) -> None:
    print(f"{MESSAGE_PREFIX}{message}", file=sys.stdout, flush=True)


def _main() -> None:
    # Imported by its own name, so that clearing __main__ for the script leaves this module whole.
    import job_debugger

    job_debugger.run_entry_point(sys.argv[1:])


if __name__ == "__main__":
    _main()
