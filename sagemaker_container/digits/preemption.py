"""SIGTERM handling: a spot interruption or StopTrainingJob only raises a flag here.

The training loop polls the flag between steps, so the step in flight finishes, a checkpoint is
saved and the job exits with ``StoppedBySignal`` well within SageMaker's grace period.
In the image, SIGTERM reaches only PID 1, which passes it to its process group
(docker/forward_sigterm.py); the toolkit's ``train`` ignores it. A script run once per host gets it
there; under torchrun (one process per GPU) the workers run in sessions of their own, and torchrun
sends each of them SIGTERM, then SIGKILL 30 s later: checkpointing must fit in that time.
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
