"""The processes of a local run, one or more per host, waited for together and stopped together.

When one fails the others are stopped (SIGTERM, then SIGKILL after a grace period), as torchrun stops
a failed worker's peers and SageMaker a failed host's. An interrupt (Ctrl-C, SIGTERM, SIGHUP) stops
them all the same way, quietly: their own reports of the interrupt are not echoed.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_launcher.interrupts import ignoring_interrupts
from sagemaker_launcher.local.streams import Pump, printed

# After one process fails, the others get SIGTERM and this long before SIGKILL, as torchrun gives them.
STOP_GRACE_S = 30.0
# After an interrupt, the same, shorter: the user asked to stop.
INTERRUPT_GRACE_S = 10.0
_POLL_S = 0.1


@dataclass
class Started:
    """One started process of a host (a script, torchrun or ``docker run``), and how it ended."""

    host: str
    command: list[str]
    process: subprocess.Popen[bytes]
    pumps: list[Pump]
    # How to stop and to kill it; a container is stopped through the engine, not its client process.
    stop: Callable[[], None]
    kill: Callable[[], None]
    code: int | None = None
    ended: float = 0.0
    tails: dict[int | None, list[str]] = field(default_factory=dict)
    # The real exit code once the process ended, when it is not the process's own (a container's).
    exit_status: Callable[[], int] | None = None

    @classmethod
    def popen(
        cls,
        host: str,
        command: list[str],
        cwd: Path | None,
        environment: Mapping[str, str] | None,
        keeps_terminal: bool,
        stop: Callable[[subprocess.Popen[bytes]], None] | None = None,
        kill: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> Started:
        """Start ``command``; its error output (and, unless it keeps the terminal, its output) is pumped."""
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(environment) if environment is not None else None,
            stdin=None if keeps_terminal else subprocess.DEVNULL,
            stdout=None if keeps_terminal else subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        pumps = [Pump(process.stderr, host, error=True)]  # type: ignore[arg-type]
        if not keeps_terminal:
            pumps.append(Pump(process.stdout, host, error=False))  # type: ignore[arg-type]
        return cls(
            host,
            command,
            process,
            pumps,
            stop=lambda: (stop or subprocess.Popen.terminate)(process),
            kill=lambda: (kill or subprocess.Popen.kill)(process),
        )

    def finish(self) -> None:
        """Collect the last lines of every stream, once the process has ended."""
        for pump in self.pumps:
            for rank, lines in pump.finish().items():
                self.tails.setdefault(rank, []).extend(lines)


def wait_all(started: Sequence[Started]) -> list[Started]:
    """Wait for every process; the first failure stops the rest. An interrupt stops them all, then is
    raised again once they have ended."""
    try:
        _wait(list(started), STOP_GRACE_S)
    except KeyboardInterrupt:
        with ignoring_interrupts():
            for entry in started:
                for pump in entry.pumps:
                    pump.mute()
            running = [entry for entry in started if entry.code is None]
            for entry in running:
                entry.stop()
            _wait(running, INTERRUPT_GRACE_S, stopping=True)
            for entry in started:
                entry.finish()
        raise
    for entry in started:
        entry.finish()
    return list(started)


def _wait(started: list[Started], grace: float, stopping: bool = False) -> None:
    kill_at: float | None = time.monotonic() + grace if stopping else None
    running = [entry for entry in started if entry.code is None]
    while running:
        for entry in list(running):
            entry.code = entry.process.poll()
            if entry.code is None:
                continue
            if entry.exit_status is not None:
                entry.code = entry.exit_status()
            entry.ended = time.monotonic()
            running.remove(entry)
            if entry.code and kill_at is None and running:
                printed(
                    f"A process of host {entry.host} exited with code {entry.code}: stopping the others.",
                    True,
                )
                kill_at = time.monotonic() + grace
                for other in running:
                    other.stop()
        if kill_at is not None and time.monotonic() > kill_at:
            for other in running:
                other.kill()
            kill_at = time.monotonic() + grace
        if running:
            time.sleep(_POLL_S)


def first_failure(started: Sequence[Started]) -> Started | None:
    """The process that failed first, whose failure stopped the others."""
    failed = [entry for entry in started if entry.code]
    return min(failed, key=lambda entry: entry.ended) if failed else None
