"""TensorBoard: the digits example's event files hold the metrics it reports, and every job's request
sends them to its own prefix, so ``tensorboard --logdir`` on an experiment shows all of its jobs.

A real host-mode run of configs/local_process.yaml (two epochs), read back with TensorBoard's own
reader; the request on moto's endpoint; and a run of the container without the tensorboard package.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from support.aws import BUCKET, training_jobs
from support.commands import REPO_ROOT, local_launch_command, run_cli
from support.container import make_tree, run_job
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image

from sagemaker_container.sagemaker_contract.names import METRICS_FILE, TENSORBOARD_OUTPUT_DIR

EPOCHS = 2
BASE_LR = 0.003
LEARNING_RATE_TAG = "train:learning_rate"


def scalars(folder: Path) -> dict[str, dict[int, float]]:
    """Every scalar of the event files in ``folder``: tag -> step -> value."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {
        tag: {event.step: event.value for event in events.Scalars(tag)} for tag in events.Tags()["scalars"]
    }


@pytest.mark.parametrize("config", ["local_process.yaml", "local.yaml"], ids=["host mode", "docker"])
def test_a_local_run_leaves_event_files_that_read_back_as_its_metrics(
    tmp_path: Path, digits: Path, config: str
) -> None:
    if config == "local.yaml":
        require_image(TRAINING_IMAGE)
    runs = tmp_path / "runs"
    try:
        done = subprocess.run(
            local_launch_command(f"configs/{config}", runs, digits, "SOLVER.EPOCHS", str(EPOCHS)),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=300,
            check=False,
        )
    finally:
        for container_root in runs.glob("*/*/container"):
            remove_local_mode_leftovers(str(container_root))
    assert done.returncode == 0, done.stderr[-3000:]
    [job] = (runs / "digits-local").iterdir()
    # Where SageMaker would sync them (the job's tensorboard/): copied from the first host's folder
    # in host mode, unpacked from output.tar.gz (SDK local mode packs the whole output folder) in Docker.
    [events] = (job / "tensorboard").glob("events.out.tfevents.*")
    if config == "local_process.yaml":
        assert (
            job / "hosts" / "algo-1" / TENSORBOARD_OUTPUT_DIR / events.name
        ).read_bytes() == events.read_bytes()
    assert f"tensorboard --logdir {job.parent}" in done.stderr
    with tarfile.open(job / "output" / "output.tar.gz") as bundle:
        [member] = [name for name in bundle.getnames() if name.removeprefix("./").endswith(METRICS_FILE)]
        metrics = json.load(bundle.extractfile(member))

    written = scalars(job / "tensorboard")
    assert set(written) == {"train:loss", "validation:loss", "validation:accuracy", LEARNING_RATE_TAG}
    for record in metrics["epochs"]:
        for name, value in record.items():
            if name != "epoch":
                assert written[name][record["epoch"]] == pytest.approx(value, rel=1e-6), name
    assert sorted(written["train:loss"]) == list(range(1, EPOCHS + 1))
    # Cosine decay to zero over both epochs: half the base rate after the first, zero after the last.
    assert written[LEARNING_RATE_TAG] == {
        1: pytest.approx(BASE_LR / 2, rel=1e-5),
        2: pytest.approx(0, abs=1e-9),
    }


def test_the_request_sends_the_event_files_to_the_jobs_prefix(aws: str) -> None:
    config = str(REPO_ROOT / "configs/sagemaker_config.yaml")
    request = json.loads(run_cli("--config", config, "--dry-run").stdout)
    name = request["TrainingJobName"]
    # No LocalPath: the container's default, /opt/ml/output/tensorboard, is where the example writes.
    assert request["TensorBoardOutputConfig"] == {
        "S3OutputPath": f"s3://{BUCKET}/digits-baseline/{name}/tensorboard/"
    }
    launched = run_cli("--config", config).output
    [job] = training_jobs()
    assert job["TrainingJobName"] in launched
    assert job["TensorBoardOutputConfig"] == {
        "S3OutputPath": f"s3://{BUCKET}/digits-baseline/{job['TrainingJobName']}/tensorboard/"
    }


def test_without_the_tensorboard_package_the_job_trains_and_says_so_once(
    tmp_path: Path, digits: Path
) -> None:
    blocked = tmp_path / "blocked"
    (blocked / "tensorboard").mkdir(parents=True)
    (blocked / "tensorboard" / "__init__.py").write_text(
        'raise ImportError("tensorboard is not installed here")\n'
    )
    base = make_tree(tmp_path / "opt_ml", digits, hyperparameters={"SOLVER.EPOCHS": EPOCHS})
    done = run_job(base, PYTHONPATH=str(blocked))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("TensorBoard files are skipped: tensorboard is not installed here") == 1
    assert not (base / TENSORBOARD_OUTPUT_DIR).exists()
    assert (base / "output" / "data" / METRICS_FILE).is_file()
