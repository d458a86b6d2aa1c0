"""Interrupts, handled alike everywhere: Ctrl-C, SIGTERM and SIGHUP all stop a command as Ctrl-C does.

The command line's edge turns SIGTERM and SIGHUP into ``KeyboardInterrupt`` (``raise_on_termination``),
so every clean-up written for Ctrl-C also runs when a terminal closes or a scheduler stops the
launcher; ``ignoring_interrupts`` keeps a clean-up itself from being cut short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")


def raise_on_termination() -> None:
    """Make SIGTERM and SIGHUP raise ``KeyboardInterrupt`` in the main thread, as Ctrl-C does."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _interrupt)


@contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Hold off Ctrl-C, SIGTERM and SIGHUP for the block (a clean-up that must finish)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in INTERRUPT_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
