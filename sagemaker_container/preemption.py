"""SIGTERM handling: a spot interruption or StopTrainingJob only raises a flag here.

The training loop polls the flag between steps, so the step in flight finishes, a checkpoint is
saved and the job exits with ``StoppedBySignal`` well within SageMaker's grace period.
"""

from __future__ import annotations

import signal
from types import FrameType


class StopFlag:
    """Set once SIGTERM arrives, after ``install``."""

    def __init__(self) -> None:
        self.requested = False

    def install(self) -> None:
        """Route SIGTERM to this flag instead of ending the process."""
        signal.signal(signal.SIGTERM, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
