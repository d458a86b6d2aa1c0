"""Running code from a team's folder inside the launcher (its TRAINING.DEFAULTS module), contained.

The launcher imports that module to check configs before a job starts. Whatever the module does then
stays inside these bounds: what it prints goes to stderr (a dry run's stdout stays the request alone),
an ``exit()``, a hang past ``TIME_LIMIT_S`` or any exception becomes one ``LauncherError`` paragraph
naming the module, and the launcher's own command goes on or fails cleanly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

from sagemaker_launcher.errors import LauncherError

# Longest a defaults module may take to import, build its config or judge its values (seconds);
# SM_LAUNCHER_CODE_TIME_LIMIT changes it, e.g. for a module that is slow to import.
TIME_LIMIT_S = 30.0
TIME_LIMIT_VARIABLE = "SM_LAUNCHER_CODE_TIME_LIMIT"


class _TimeLimit(BaseException):
    """Raised inside the contained code when its time is up (not an Exception: none of its handlers
    catch it)."""


@contextlib.contextmanager
def contained(what: str, where: str, fix: str) -> Iterator[None]:
    """Run the block as code of the team's: ``what`` names it ("importing TRAINING.DEFAULTS = 'x:y'"),
    ``where`` the config, ``fix`` what to do about a failure."""
    seconds = _time_limit_seconds()
    try:
        with _output_to_stderr(), _time_limit(seconds):
            yield
    except LauncherError:
        raise
    except KeyboardInterrupt:
        raise
    except _TimeLimit:
        raise LauncherError(
            f"{where}: {what} did not finish within {seconds:g} s, so the launcher stopped waiting. The "
            "launcher runs that code to check configs before a job starts: it must not wait or loop on "
            f"import. {fix}"
        ) from None
    except SystemExit as error:
        raise LauncherError(
            f"{where}: {what} called exit({error.code!r}). The launcher runs that code to check configs "
            f"before a job starts, so it must not exit on import. {fix}"
        ) from None
    except BaseException as error:
        raise LauncherError(f"{where}: {what} failed with {type(error).__name__}: {error}. {fix}") from None


def _time_limit_seconds() -> float:
    text = os.environ.get(TIME_LIMIT_VARIABLE, "")
    try:
        seconds = float(text) if text else TIME_LIMIT_S
    except ValueError:
        seconds = TIME_LIMIT_S
    return seconds if seconds > 0 else TIME_LIMIT_S


@contextlib.contextmanager
def _output_to_stderr() -> Iterator[None]:
    """Python's and the file descriptor's standard output both go to stderr for the block."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        saved = None
    try:
        if saved is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (in the main thread; elsewhere the block runs unbounded)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
