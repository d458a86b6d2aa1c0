"""PID 1 of the training image: runs SageMaker's command and passes SIGTERM on to the training script.

SageMaker stops a job, or reclaims a spot instance, by sending SIGTERM to the container's PID 1,
then SIGKILL after a grace period. The toolkit's ``train`` command ignores SIGTERM as PID 1 and does
not forward it, so the training script would never get the chance to save a checkpoint. This
process runs the command (``train``) with SIGTERM ignored and, on SIGTERM, sends it to its whole
process group: ``train`` keeps ignoring it and waits, while the training script, which installs
its own handler, checkpoints and exits. Under the per-GPU launch torchrun is in that group instead,
and passes SIGTERM on to each of its workers (they run in sessions of their own), then SIGKILLs
them 30 s later. Staying in one process group keeps the container's terminal for ``docker attach``.
"""

import os
import signal
import subprocess
import sys


def main(command: list[str]) -> int:
    """Run ``command`` and return its exit code, forwarding SIGTERM to the process group once."""

    def forward(signum: int, _frame: object) -> None:
        signal.signal(signum, signal.SIG_IGN)
        os.killpg(os.getpgrp(), signum)

    child = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    signal.signal(signal.SIGTERM, forward)
    # Ctrl-C on an attached terminal reaches the whole group; the command decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["train"]))
