"""The job's top-level guard: turns any exception into the failure file and an exit code.

SageMaker shows the failure file's first 1024 characters as the job's FailureReason, so user errors
are reported as their message alone and internal errors as type, message and innermost frames.
With the hold on failure switched on, an internal error first serves a debugger on its failing frame.
The processes of one host share the file; the first failure is kept, as the toolkit keeps it: when
one rank fails, the others stop because of it, and their reasons would hide the cause.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from . import paths
from .job_errors import StoppedBySignal, UserError

FAILURE_REASON_LIMIT = 1024
MESSAGE_LIMIT = 600
INNERMOST_FRAMES = 3
FAILED_EXIT_CODE = 1
# 128 + SIGTERM, what a shell reports for a process ended by the signal.
STOPPED_EXIT_CODE = 143


def run_guarded(job: Callable[[], None]) -> int:
    """Run ``job`` and return the process exit code, writing the failure file if it raises."""
    try:
        job()
    except StoppedBySignal as stop:
        reason = f"Stopped by SIGTERM: {stop}"
        print(reason, file=sys.stderr, flush=True)
        write_failure(reason)
        return STOPPED_EXIT_CODE
    except UserError as error:
        reason = f"{type(error).__name__}: {error}"
        print(f"ERROR: {reason}", file=sys.stderr, flush=True)
        write_failure(reason)
        _hold(error)
        return FAILED_EXIT_CODE
    except Exception as error:
        traceback.print_exc()
        sys.stderr.flush()
        write_failure(describe_internal_error(error))
        _hold(error)
        return FAILED_EXIT_CODE
    return 0


def _hold(error: Exception) -> None:
    """With DEBUGGER.HOLD_ON_FAILURE_SECONDS, a debugger on the failing frame first (job_debugger.py)."""
    from job_debugger import hold_on_failure

    hold_on_failure(error)


def describe_internal_error(error: BaseException) -> str:
    """Type, message (shortened) and the innermost frames, where the error was raised."""
    message = str(error)
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 3] + "..."
    lines = [f"Internal error {type(error).__name__}: {message}", "Innermost frames:"]
    for frame in traceback.extract_tb(error.__traceback__)[-INNERMOST_FRAMES:]:
        lines.append(f"  {Path(frame.filename).name}:{frame.lineno} in {frame.name}: {frame.line}")
    return "\n".join(lines)


def write_failure(reason: str) -> None:
    """Write the failure file, cut to SageMaker's FailureReason size, unless one exists; never raises."""
    path = paths.failure_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x") as file:
            file.write(reason[:FAILURE_REASON_LIMIT])
    except FileExistsError:
        print(f"Kept the failure file {path} an earlier failure wrote.", file=sys.stderr, flush=True)
    except OSError as error:
        print(f"Could not write the failure file {path}: {error}", file=sys.stderr, flush=True)
