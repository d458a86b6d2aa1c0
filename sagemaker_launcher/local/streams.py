"""A local run's output: every host's lines prefixed ``[algo-N]`` (``[algo-N/R]`` for rank R of several
processes), and the last lines of each process kept for its failure reason.

An interactive process (the first host's, when the launcher has a terminal) keeps that terminal for its
standard input and output, so pdb's and pudb's screens pass through untouched; its error output is
still prefixed and kept. torchrun's workers' lines arrive tagged ``[default<R>]:`` (its ``--tee``
option), which is turned into the rank's prefix.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import IO

# Lines of a process's error output kept for the failure reason of a script that crashed without a
# failure file.
ERROR_TAIL_LINES = 40
# torchrun --tee: each worker line starts "[<role><local rank>]:" (role "default").
_TORCHRUN_TAG = re.compile(r"^\[default(\d+)\]:")
_PRINT_LOCK = threading.Lock()


def printed(line: str, error: bool) -> None:
    """Print one whole line to stdout or stderr; lines of several threads never mix."""
    with _PRINT_LOCK:
        stream = sys.stderr if error else sys.stdout
        stream.write(line + "\n")
        stream.flush()


class Pump:
    """Copies one stream of a host's process to the terminal, prefixed, keeping its last lines by rank."""

    def __init__(
        self, stream: IO[bytes], host: str, error: bool, echo: Callable[[str, bool], None] = printed
    ) -> None:
        self.host = host
        self.tails: dict[int | None, deque[str]] = {}
        self._muted = threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(stream, error, echo), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[bytes], error: bool, echo: Callable[[str, bool], None]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode(errors="replace").rstrip("\r\n")
                tag = _TORCHRUN_TAG.match(line)
                rank = int(tag[1]) if tag else None
                if tag:
                    line = line[tag.end() :]
                prefix = f"[{self.host}/{rank}]" if rank is not None else f"[{self.host}]"
                if not self._muted.is_set():
                    echo(f"{prefix} {line}", error)
                self.tails.setdefault(rank, deque(maxlen=ERROR_TAIL_LINES)).append(line)

    def mute(self) -> None:
        """Stop echoing (the lines are still kept): after an interrupt, processes report it at length."""
        self._muted.set()

    def finish(self) -> dict[int | None, list[str]]:
        """The last lines of each rank (None: the process's own), once the stream has closed."""
        self._thread.join()
        return {rank: list(lines) for rank, lines in self.tails.items()}
