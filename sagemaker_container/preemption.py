"""SIGTERM handling: a spot interruption or StopTrainingJob only raises a flag here.

The training loop polls the flag between steps, so the step in flight finishes, a checkpoint is
saved and the job exits with ``StoppedBySignal`` well within SageMaker's grace period.
In the image, SIGTERM reaches only PID 1, and the toolkit's ``train`` neither forwards it nor
survives it. Start it as ``tini -g -- sh -c "trap '' TERM; exec train"``: tini signals the whole
process group, ``train`` keeps ignoring the signal (an inherited disposition) and waits for this
script, which replaces the ignore with the handler below.
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
