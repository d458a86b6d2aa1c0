"""Two hosts as two local processes on loopback: they train together and agree on the weights."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from support.container import final_weights, make_tree, start_job, write_digits_data

from sagemaker_launcher.config.run_modes import free_port

HOSTS = ["algo-1", "algo-2"]
# How long the second host must keep waiting, after training, while the first one is held.
WORKER_GRACE_S = 3
DIGEST = re.compile(r"Host (algo-\d) final weights sha256=([0-9a-f]{64})")


def _wait_for(condition: Callable[[], bool], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_two_hosts_train_together_and_agree(tmp_path: Path) -> None:
    data_dir = write_digits_data(tmp_path / "digits")
    hyperparameters = {"SOLVER.EPOCHS": 2}
    bases = [
        make_tree(
            tmp_path / host, data_dir, hyperparameters, resource_config={"current_host": host, "hosts": HOSTS}
        )
        for host in HOSTS
    ]
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port())}
    # The second host reads its channels through SM_CHANNEL_*, as the toolkit exports them.
    channels = {
        "SM_CHANNEL_TRAIN": str(data_dir / "train"),
        "SM_CHANNEL_VALIDATION": str(data_dir / "validation"),
    }
    # metrics.json as a named pipe holds the first host at its last write until the test reads it.
    metrics_pipe = bases[0] / "output" / "data" / "metrics.json"
    metrics_pipe.parent.mkdir(parents=True)
    os.mkfifo(metrics_pipe)
    logs = [tmp_path / f"{host}.log" for host in HOSTS]
    first = start_job(bases[0], logs[0], **env)
    second = start_job(bases[1], logs[1], **env, **channels)
    try:
        _wait_for(lambda: "final weights" in logs[1].read_text() or second.poll() is not None)
        # The final barrier: the second host must not end while the first is still writing.
        time.sleep(WORKER_GRACE_S)
        assert second.poll() is None, logs[1].read_text()
        metrics = json.loads(metrics_pipe.read_text())
        assert second.wait(timeout=60) == 0, logs[1].read_text()
        assert first.wait(timeout=60) == 0, logs[0].read_text()
    finally:
        first.kill()
        second.kill()
    first_output, second_output = (log.read_text() for log in logs)

    digests = dict(DIGEST.findall(first_output) + DIGEST.findall(second_output))
    assert set(digests) == set(HOSTS)
    assert digests["algo-1"] == digests["algo-2"]
    assert "[metric]" in first_output and "[metric]" not in second_output
    assert len(metrics["epochs"]) == 2
    assert final_weights(bases[0])
    assert not (bases[1] / "model").exists() and not (bases[1] / "output" / "data").exists()
    assert not (bases[1] / "checkpoints").exists()
    assert sorted(path.name for path in (bases[0] / "checkpoints").iterdir()) == [
        "checkpoint-e0001-s000000.pt",
        "checkpoint-e0002-s000000.pt",
    ]
