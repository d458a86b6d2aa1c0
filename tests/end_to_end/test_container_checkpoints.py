"""Spot behaviour: SIGTERM mid-epoch then a restart, a corrupt newest checkpoint, atomic writes."""

from __future__ import annotations

import re
import shutil
import signal
import time
from pathlib import Path

import pytest
from support.container import (
    assert_same_weights,
    container_module,
    final_weights,
    make_tree,
    read_metrics,
    run_job,
    start_job,
    write_digits_data,
)

# Small batches make long epochs (180 steps), so a SIGTERM sent just after epoch 1's checkpoint
# lands mid-way through epoch 2.
HYPERPARAMETERS = {"SOLVER.EPOCHS": 3, "SOLVER.BATCH_SIZE": 8, "CHECKPOINT.KEEP_LAST": 2}
CHECKPOINT_NAME = re.compile(r"checkpoint-e(\d+)-s(\d+)\.pt")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_data(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """The reference: the same job run start to end in one go."""
    base = make_tree(tmp_path_factory.mktemp("uninterrupted"), data_dir, hyperparameters=HYPERPARAMETERS)
    completed = run_job(base)
    assert completed.returncode == 0, completed.stderr
    return base


def _checkpoint_positions(base: Path) -> list[tuple[int, int]]:
    names = sorted(path.name for path in (base / "checkpoints").iterdir())
    return [(int(match[1]), int(match[2])) for match in map(CHECKPOINT_NAME.fullmatch, names)]


def test_sigterm_mid_epoch_then_restart_ends_bitwise_equal(
    tmp_path: Path, data_dir: Path, uninterrupted: Path
) -> None:
    base = make_tree(tmp_path, data_dir, hyperparameters=HYPERPARAMETERS)
    process = start_job(base)
    try:
        for line in process.stdout:
            if "checkpoint-e0001-s000000.pt" in line:
                time.sleep(0.1)
                process.send_signal(signal.SIGTERM)
                break
        output = process.stdout.read()
        assert process.wait(timeout=120) == 143, output
    finally:
        process.kill()
    assert "Stopped by SIGTERM" in (base / "output" / "failure").read_text()
    assert not (base / "model").exists()
    epoch, step = _checkpoint_positions(base)[-1]
    assert epoch < 3 and step > 0, "the SIGTERM checkpoint should sit mid-way through an epoch"

    # A restarted job runs on a fresh instance: only the checkpoints carry over.
    (base / "output" / "failure").unlink()
    completed = run_job(base)
    assert completed.returncode == 0, completed.stderr
    assert f"Resumed from {base / 'checkpoints'}" in completed.stderr
    assert_same_weights(final_weights(base), final_weights(uninterrupted))
    assert read_metrics(base) == read_metrics(uninterrupted)


def test_corrupt_newest_checkpoint_falls_back_to_the_one_before(
    tmp_path: Path, data_dir: Path, uninterrupted: Path
) -> None:
    base = make_tree(tmp_path, data_dir, hyperparameters=HYPERPARAMETERS)
    shutil.copytree(uninterrupted / "checkpoints", base / "checkpoints")
    assert _checkpoint_positions(base) == [(2, 0), (3, 0)]
    newest = base / "checkpoints" / "checkpoint-e0003-s000000.pt"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])

    completed = run_job(base)
    assert completed.returncode == 0, completed.stderr
    assert f"Skipping checkpoint {newest}" in completed.stderr
    assert "Resumed from" in completed.stderr and "checkpoint-e0002-s000000.pt" in completed.stderr
    assert [line for line in completed.stdout.splitlines() if line.endswith("epoch=3")], (
        "epoch 3 was not retrained"
    )
    assert_same_weights(final_weights(base), final_weights(uninterrupted))


def test_save_is_atomic_and_keeps_the_last_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints = container_module("digits.checkpoints")
    (tmp_path / ".tmp-checkpoint-stale").write_bytes(b"left by a crash")
    for epoch in range(1, 5):
        checkpoints.save({"epoch": epoch}, tmp_path, epoch, 0, keep_last=2)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "checkpoint-e0003-s000000.pt",
        "checkpoint-e0004-s000000.pt",
    ]
    assert checkpoints.load_newest(tmp_path, ["epoch"])[1] == {"epoch": 4}

    def crash_mid_write(state: object, file: object) -> None:
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", crash_mid_write)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save({"epoch": 5}, tmp_path, 5, 0, keep_last=2)
    assert sorted(path.name for path in tmp_path.iterdir())[-1] == "checkpoint-e0004-s000000.pt"
    assert len(list(tmp_path.iterdir())) == 2
