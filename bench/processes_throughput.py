"""The digits job's CPU throughput with one training process and with two, at the same global batch.

    .venv/bin/python bench/processes_throughput.py [--epochs 20] [--rounds 3] [--batch 64] [--threads 1]

Both sides run ``main.py`` as torchrun starts it (RANK, LOCAL_RANK, WORLD_SIZE, ...), on one host:
one process with SOLVER.BATCH_SIZE = batch, and two gloo ranks with batch / 2 each, each process
with ``--threads`` intra-op threads. A side's time runs from the end of its first epoch to the end
of its last (start-up and the first epoch's warm-up left out), as seen on rank 0's output, so it
covers training, validation and the per-epoch checkpoint, as the job runs them. Rounds alternate
which side goes first; the median round counts. Wall time: the point is what a second process buys.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import argument_parser

REPO = Path(__file__).resolve().parents[1]
MAIN = REPO / "sagemaker_container" / "main.py"
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

import numpy as np  # noqa: E402
from make_digits_data import make_digits_data  # noqa: E402

from sagemaker_launcher.config.run_modes import free_port  # noqa: E402

EPOCH_END = "[metric] validation:accuracy="


def seconds_per_run(
    work: Path, channels: dict[str, Path], processes: int, batch: int, epochs: int, threads: int
) -> float:
    """Seconds from the end of epoch 1 to the end of the last epoch, for ``processes`` ranks."""
    base = Path(tempfile.mkdtemp(dir=work))
    config = base / "input" / "config"
    config.mkdir(parents=True)
    hyperparameters = {"SOLVER.EPOCHS": str(epochs), "SOLVER.BATCH_SIZE": str(batch // processes)}
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("SM_", "SAGEMAKER_"))},
        "SAGEMAKER_BASE_DIR": str(base),
        "SM_CHANNEL_TRAIN": str(channels["train"].parent),
        "SM_CHANNEL_VALIDATION": str(channels["validation"].parent),
        "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": str(threads),
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(free_port()),
        "WORLD_SIZE": str(processes),
        "LOCAL_WORLD_SIZE": str(processes),
    }
    ranks = [
        subprocess.Popen(
            [sys.executable, str(MAIN)],
            cwd=MAIN.parent,
            env={**environment, "RANK": str(rank), "LOCAL_RANK": str(rank)},
            stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for rank in range(processes)
    ]
    ends = [time.perf_counter() for line in ranks[0].stdout if line.startswith(EPOCH_END)]
    if any(rank.wait() for rank in ranks) or len(ends) != epochs:
        sys.exit(f"the {processes}-process run failed")
    return ends[-1] - ends[0]


def main() -> None:
    """Measure both sides and print samples per second and their ratio."""
    parser = argument_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=20, help="Epochs per run (the first is warm-up).")
    parser.add_argument("--rounds", type=int, default=3, help="Runs per side, alternating.")
    parser.add_argument("--batch", type=int, default=64, help="Global batch: per process, batch / processes.")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads per process.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        channels = make_digits_data(work / "digits")
        with np.load(channels["train"]) as arrays:
            samples = len(arrays["labels"]) * (args.epochs - 1)
        seconds: dict[int, list[float]] = {1: [], 2: []}
        for round_index in range(args.rounds):
            order = [1, 2] if round_index % 2 == 0 else [2, 1]
            for processes in order:
                seconds[processes].append(
                    seconds_per_run(work, channels, processes, args.batch, args.epochs, args.threads)
                )
    rates = {processes: samples / statistics.median(times) for processes, times in seconds.items()}
    print(
        f"global batch {args.batch}, {args.threads} thread(s) per process, {os.cpu_count()} CPU(s), "
        f"{args.epochs - 1} timed epochs x {args.rounds} rounds (median round)"
    )
    for processes, rate in rates.items():
        print(f"{processes} process{'es' if processes > 1 else '  '}: {rate:8.0f} samples/s")
    print(f"ratio 2/1: {rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
