"""Training throughput of the job's loop against a bare PyTorch loop, on the same model and data.

The job's side is what main.py runs per epoch minus validation: the resumable sampler, the
stop-flag poll, autocast and gradient-scaler calls (off on CPU), on-device loss sums, and the
atomic checkpoint saved every epoch (serialized on the training thread, written in the
background). The bare side is a plain DataLoader and the five-line step.
Rounds alternate between the two, swapping which goes first, and the median round counts. Time
is the process's CPU time (every thread's, the checkpoint writer's too): on a shared machine, wall
time also counts what other tenants take, which moved single runs here by 10-20%.

    .venv/bin/python bench/train_overhead.py [--epochs 5] [--rounds 9] [--threads 1]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_support import argument_parser

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "sagemaker_container"))
sys.path.insert(0, str(REPO / "scripts"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from make_digits_data import make_digits_data  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402
from yacs.config import CfgNode  # noqa: E402

from digits import builders, checkpoints, digits_data, engine  # noqa: E402
from digits.preemption import StopFlag  # noqa: E402
from training_default_config import get_training_cfg_defaults  # noqa: E402


def job_loop(
    cfg: CfgNode, dataset: TensorDataset, checkpoint_dir: Path, save_seconds: list[float]
) -> Callable[[int], float]:
    """Epochs of the job's own training path; returns a runner giving seconds for n epochs.

    Each checkpoint save's time on the training thread is appended to ``save_seconds``; as in
    main.py the state is serialized there and written by a background thread, whose last write
    is waited for inside the timing.
    """
    torch.manual_seed(cfg.SEED)
    network = builders.build_network(cfg)
    loader = digits_data.train_loader(dataset, cfg.SOLVER.BATCH_SIZE, 0, 1, cfg.SEED, 0, False)
    optimizer = builders.build_optimizer(network, cfg)
    scheduler = builders.build_scheduler(optimizer, cfg, len(loader))
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    stop_flag = StopFlag()
    state = {"epoch": 0}
    writer = checkpoints.BackgroundWriter(checkpoint_dir, cfg.CHECKPOINT.KEEP_LAST)

    def run(epochs: int) -> float:
        started = time.process_time()
        for _ in range(epochs):
            progress = engine.EpochProgress()
            digits_data.start_epoch(loader, cfg.SEED, state["epoch"], 0)
            engine.train_epoch(
                network, loader, optimizer, scheduler, scaler, progress, lambda: stop_flag.requested
            )
            state["epoch"] += 1
            snapshot = {
                "model": network.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "epoch": state["epoch"],
            }
            save_started = time.process_time()
            writer.submit(snapshot, state["epoch"], 0)
            save_seconds.append(time.process_time() - save_started)
        writer.wait()
        return time.process_time() - started

    return run


def bare_loop(cfg: CfgNode, dataset: TensorDataset) -> Callable[[int], float]:
    """Epochs of a plain PyTorch loop on the same network, optimizer and schedule."""
    torch.manual_seed(cfg.SEED)
    network = builders.build_network(cfg)
    generator = torch.Generator().manual_seed(cfg.SEED)
    loader = DataLoader(dataset, batch_size=cfg.SOLVER.BATCH_SIZE, shuffle=True, generator=generator)
    optimizer = builders.build_optimizer(network, cfg)
    scheduler = builders.build_scheduler(optimizer, cfg, len(loader))

    def run(epochs: int) -> float:
        started = time.process_time()
        for _ in range(epochs):
            network.train()
            for images, labels in loader:
                optimizer.zero_grad()
                loss = F.cross_entropy(network(images), labels)
                loss.backward()
                optimizer.step()
                scheduler.step()
        return time.process_time() - started

    return run


def main() -> None:
    """Measure both loops and print samples per second and their ratio."""
    parser = argument_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="Epochs per timed round.")
    parser.add_argument("--rounds", type=int, default=9, help="Timed rounds per loop, alternating.")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (shared CPUs: 1).")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = get_training_cfg_defaults()
    # Long enough that the cosine schedule never reaches its end during the benchmark.
    cfg.SOLVER.EPOCHS = (args.rounds + 1) * args.epochs
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["SAGEMAKER_BASE_DIR"] = scratch
        files = make_digits_data(Path(scratch) / "data")
        os.environ["SM_CHANNEL_TRAIN"] = str(files["train"].parent)
        dataset = digits_data.load_split("train", cfg.DATA.FILE_NAME, cfg.MODEL.NUM_CLASSES)
        save_seconds: list[float] = []
        loops = {
            "job": job_loop(cfg, dataset, Path(scratch) / "checkpoints", save_seconds),
            "bare": bare_loop(cfg, dataset),
        }
        for run in loops.values():
            run(1)  # warm-up
        seconds: dict[str, list[float]] = {name: [] for name in loops}
        for round_index in range(args.rounds):
            # Swap which loop goes first each round, so neither always runs on the other's leftovers.
            order = list(loops.items())
            for name, run in order if round_index % 2 == 0 else reversed(order):
                seconds[name].append(run(args.epochs))
    samples = len(dataset) * args.epochs
    rates = {name: samples / statistics.median(times) for name, times in seconds.items()}
    print(f"torch {torch.__version__}, {args.threads} thread(s), batch {cfg.SOLVER.BATCH_SIZE}, ", end="")
    print(f"{len(dataset)} samples x {args.epochs} epochs x {args.rounds} rounds (median round)")
    for name, rate in rates.items():
        print(f"{name:>5} loop: {rate:10.0f} samples/s")
    ratio = rates["job"] / rates["bare"]
    print(f"ratio job/bare: {ratio:.3f} (machinery overhead {100 * (1 - ratio):+.1f}%)")
    save_ms, epoch_ms = 1000 * statistics.median(save_seconds), 1000 * len(dataset) / rates["job"]
    share = 100 * save_ms / epoch_ms
    print(f"checkpoint save: {save_ms:.1f} ms of each {epoch_ms:.0f} ms job epoch ({share:.1f}%)")


if __name__ == "__main__":
    main()
