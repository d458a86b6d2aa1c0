"""main.py as torchrun starts it: 2 hosts x 2 processes on loopback (gloo, CPU), and its precision rule.

Each process gets torchrun's variables, as SageMaker's per-GPU launch gives them; the two hosts
have a tree each. Ranks must agree on the weights, and a SIGTERM (which torchrun passes to every
worker) mid-epoch followed by a restart must end bitwise equal to the uninterrupted 4-process run.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from support.container import (
    assert_same_weights,
    container_module,
    final_weights,
    make_tree,
    read_metrics,
    start_job,
    write_digits_data,
)

from sagemaker_launcher.config.run_modes import free_port

HOSTS = ["algo-1", "algo-2"]
PROCESSES_PER_HOST = 2
# Small batches make long epochs (45 steps per rank), so a SIGTERM sent just after epoch 1's
# checkpoint lands mid-way through epoch 2.
HYPERPARAMETERS = {"SOLVER.EPOCHS": 3, "SOLVER.BATCH_SIZE": 8, "CHECKPOINT.KEEP_LAST": 2}
DIGEST = re.compile(r"Host (algo-\d) final weights sha256=([0-9a-f]{64}) \(rank (\d)\)")
WAIT_S = 180


def _trees(root: Path, data_dir: Path) -> list[Path]:
    configs = [{"current_host": host, "hosts": HOSTS} for host in HOSTS]
    return [
        make_tree(root / config["current_host"], data_dir, HYPERPARAMETERS, None, config)
        for config in configs
    ]


def _start_world(bases: list[Path], logs: Path) -> list[subprocess.Popen[str]]:
    """Every rank, with the variables torchrun sets; rank 0's output comes through a pipe."""
    logs.mkdir(exist_ok=True)
    port = str(free_port())
    processes = []
    for host_index, base in enumerate(bases):
        for local_rank in range(PROCESSES_PER_HOST):
            rank = host_index * PROCESSES_PER_HOST + local_rank
            variables = {
                "RANK": str(rank),
                "LOCAL_RANK": str(local_rank),
                "WORLD_SIZE": str(len(bases) * PROCESSES_PER_HOST),
                "LOCAL_WORLD_SIZE": str(PROCESSES_PER_HOST),
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": port,
            }
            processes.append(start_job(base, None if rank == 0 else logs / f"rank{rank}.log", **variables))
    return processes


def _finish(processes: list[subprocess.Popen[str]], logs: Path) -> tuple[list[int], str]:
    """Every rank's exit code, and all ranks' output together."""
    try:
        rank0 = processes[0].communicate(timeout=WAIT_S)[0]
        codes = [process.wait(timeout=WAIT_S) for process in processes]
    finally:
        for process in processes:
            process.kill()
    return codes, rank0 + "".join(path.read_text() for path in sorted(logs.glob("rank*.log")))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_data(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[list[Path], str]:
    """The reference: the 4-process job run start to end in one go; its trees and output."""
    root = tmp_path_factory.mktemp("uninterrupted")
    bases = _trees(root, data_dir)
    codes, output = _finish(_start_world(bases, root / "logs"), root / "logs")
    assert codes == [0, 0, 0, 0], output[-3000:]
    return bases, output


def test_four_ranks_train_together_and_agree(uninterrupted: tuple[list[Path], str]) -> None:
    bases, output = uninterrupted
    assert "world size 4: 2 hosts x 2 processes, device cpu, precision fp32 (auto)" in output
    digests = {(host, int(rank)): digest for host, digest, rank in DIGEST.findall(output)}
    assert sorted(digests) == [("algo-1", 0), ("algo-1", 1), ("algo-2", 2), ("algo-2", 3)]
    assert len(set(digests.values())) == 1
    # Global rank 0 alone writes the model, the metrics and the checkpoints.
    assert len(read_metrics(bases[0])["epochs"]) == 3
    assert not (bases[1] / "model").exists() and not (bases[1] / "checkpoints").exists()
    assert output.count("[metric] validation:accuracy") == 3


def test_sigterm_mid_epoch_then_restart_ends_bitwise_equal(
    tmp_path: Path, data_dir: Path, uninterrupted: tuple[list[Path], str]
) -> None:
    bases = _trees(tmp_path, data_dir)
    processes = _start_world(bases, tmp_path / "logs")
    try:
        for line in processes[0].stdout:
            if "checkpoint-e0001-s000000.pt" in line:
                time.sleep(0.1)
                for process in processes:
                    process.send_signal(signal.SIGTERM)
                break
    finally:
        codes, output = _finish(processes, tmp_path / "logs")
    assert codes == [143] * 4, output[-3000:]
    assert "Stopped by SIGTERM" in (bases[0] / "output" / "failure").read_text()
    names = sorted(path.name for path in (bases[0] / "checkpoints").iterdir())
    epoch, step = map(int, re.fullmatch(r"checkpoint-e(\d+)-s(\d+)\.pt", names[-1]).groups())
    assert epoch < 3 and step > 0, "the SIGTERM checkpoint should sit mid-way through an epoch"

    # A restarted job runs on fresh instances: only the checkpoints carry over.
    for base in bases:
        (base / "output" / "failure").unlink()
    codes, output = _finish(_start_world(bases, tmp_path / "logs"), tmp_path / "logs")
    assert codes == [0] * 4, output[-3000:]
    assert f"Resumed from {bases[0] / 'checkpoints'}" in output
    reference = uninterrupted[0][0]
    assert_same_weights(final_weights(bases[0]), final_weights(reference))
    assert read_metrics(bases[0]) == read_metrics(reference)


def test_precision_follows_the_device_and_the_setting() -> None:
    precision = container_module("digits.precision")
    cpu = torch.device("cpu")
    auto = precision.choose("auto", cpu)
    assert (auto.name, auto.autocast_dtype, auto.uses_scaler) == ("fp32", None, False)
    assert auto.describe() == "fp32 (auto)"
    forced = precision.choose("fp16", cpu)
    assert (forced.autocast_dtype, forced.uses_scaler, forced.describe()) == (
        torch.float16,
        True,
        "fp16 (SOLVER.PRECISION)",
    )
    assert precision.choose("bf16", cpu).autocast_dtype is torch.bfloat16
    assert not precision.choose("bf16", cpu).uses_scaler


def test_ranks_without_a_gpu_of_their_own_all_train_on_the_cpu() -> None:
    distributed = container_module("digits.distributed")

    def gpu(host: str, uuid: str | None) -> dict[str, object]:
        return {"host": host, "uuid": uuid, "visible": 1}

    # Two hosts rehearsed on one machine with one GPU: both would take it.
    shared = distributed.gpu_sharing_problem([gpu("algo-1", "GPU-a"), gpu("algo-2", "GPU-a")])
    assert shared == "ranks 0 and 1 would share GPU GPU-a on algo-2"
    # Two processes on a host with one GPU: the second has none.
    short = distributed.gpu_sharing_problem([gpu("algo-1", "GPU-a"), gpu("algo-1", None)])
    assert short == "rank 1 has no GPU of its own (1 GPU(s) visible on algo-1)"
    assert distributed.gpu_sharing_problem([gpu("algo-1", "GPU-a"), gpu("algo-2", "GPU-b")]) is None
    assert distributed.gpu_sharing_problem([None, None]) is None
