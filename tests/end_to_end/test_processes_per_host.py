"""SAGEMAKER.PROCESSES_PER_HOST end to end: the request's switch, host mode and Docker local mode.

The launcher runs as users run it. Host mode starts the processes the image's toolkit would (one
per GPU, here one or a forced number on the CPU) with torchrun's variables, on loopback; Docker
local mode runs the real image, whose toolkit starts torchrun. Docker tests skip without an
engine, and fail under CI.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from support.commands import REPO_ROOT, local_launch_command, python_command, run_cli, write_yaml
from support.docker import stop_first_container_after_an_epoch
from support.own_code import write_points

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
RUN_TIMEOUT = 420
MIN_ACCURACY = 0.95
# Every rank logs its digest; SDK local mode names hosts algo-N-<suffix>.
DIGEST = re.compile(r"Host (algo-\d+)\S* final weights sha256=([0-9a-f]{64}) \(rank (\d+)\)")

# A plain DDP script as teams write it for torchrun: everything from the environment (env://).
DDP_SCRIPT = """\
import json, os

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
total = torch.tensor([dist.get_rank() + 1.0])
dist.all_reduce(total)
names = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"]
seen = {name: os.environ[name] for name in [*names, "SM_CURRENT_HOST"]}
seen["sum"] = total.item()
with open(os.path.join(os.environ["SM_MODEL_DIR"], "rank%s.json" % seen["RANK"]), "w") as handle:
    json.dump(seen, handle)
dist.barrier()
dist.destroy_process_group()
"""
# Rank 1 fails at once; the others would wait for ten minutes.
FAILING_SCRIPT = """\
import os, time

if os.environ["RANK"] == "1":
    raise RuntimeError("rank 1 gives up")
time.sleep(600)
"""


def launch(config: str, runs: Path, digits: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    """The launcher on an example config, channels pointed at ``digits``, runs kept under ``runs``."""
    command = local_launch_command(config, runs, digits, *overrides)
    return subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=RUN_TIMEOUT, check=False
    )


def own_script_config(tmp_path: Path, script: str, **sagemaker: Any) -> Path:
    """An experiment running ``script`` in host mode, with no training config."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(script)
    return write_yaml(
        tmp_path / "own.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": "local_process",
                "BASE_JOB_NAME": "own-ddp",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
                **sagemaker,
            },
            "INPUTS": {"training": str(write_points(tmp_path / "points"))},
            "TRAINING": {"DEFAULTS": ""},
            "LOCAL": {"RUNS_DIR": str(tmp_path / "runs"), "REQUIREMENTS_CACHE_DIR": str(tmp_path / "cache")},
        },
    )


def run_own(config: Path) -> subprocess.CompletedProcess[str]:
    """The launcher on an experiment file of its own."""
    command = python_command("--config", str(config))
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=RUN_TIMEOUT)


def only_job(runs: Path) -> Path:
    [job] = [path.parent.parent for path in runs.rglob("config/record.json") if "hosts" not in path.parts]
    return job


def final_accuracy(job: Path) -> float:
    """From output.tar.gz: metrics.json at its top (host mode) or under data/ (SDK local mode)."""
    with tarfile.open(job / "output/output.tar.gz") as archive:
        members = {member.name.removeprefix("./"): member for member in archive.getmembers()}
        member = members.get("metrics.json") or members["data/metrics.json"]
        return json.loads(archive.extractfile(member).read())["final"]["validation:accuracy"]


def assert_ranks_agree(output: str, world: int) -> None:
    digests = {int(rank): digest for _, digest, rank in DIGEST.findall(output)}
    assert sorted(digests) == list(range(world)), output[-3000:]
    assert len(set(digests.values())) == 1, digests


# ---------------------------------------------------------------------------------------------- #
# The request
# ---------------------------------------------------------------------------------------------- #
def test_dry_run_switches_on_the_images_per_gpu_launch(aws: str, tmp_path: Path) -> None:
    def hyperparameters(*args: str) -> dict[str, str]:
        return json.loads(run_cli(*args, "--dry-run").stdout)["HyperParameters"]

    example = hyperparameters("--config", EXAMPLE, "SAGEMAKER.INSTANCE_TYPE", "ml.g5.12xlarge")
    assert example["sagemaker_torch_distributed_enabled"] == "true"
    # The toolkit counts the instance's GPUs itself.
    assert "sagemaker_mpi_num_of_processes_per_host" not in example
    forced = hyperparameters("--config", EXAMPLE, "SAGEMAKER.PROCESSES_PER_HOST", "2")
    assert forced["sagemaker_mpi_num_of_processes_per_host"] == "2"

    own = own_script_config(
        tmp_path,
        DDP_SCRIPT,
        INSTANCE_TYPE="ml.g5.12xlarge",
        ROLE_ARN="arn:aws:iam::123456789012:role/SageMakerRole",
        REGION="us-east-1",
    )
    own_args = ("--config", str(own), "S3.BUCKET", "my-team-sagemaker", "IMAGE.URI", "team/image:v1")
    plain = hyperparameters(*own_args)
    assert not {name for name in plain if "torch_distributed" in name or "processes_per_host" in name}
    per_process = hyperparameters(*own_args, "SAGEMAKER.PROCESSES_PER_HOST", "4")
    assert per_process["sagemaker_torch_distributed_enabled"] == "true"
    assert per_process["sagemaker_mpi_num_of_processes_per_host"] == "4"


def test_bad_processes_per_host_settings_are_refused(tmp_path: Path) -> None:
    negative = run_cli("--config", EXAMPLE, "SAGEMAKER.PROCESSES_PER_HOST", "-1", "--dry-run", expect_exit=1)
    assert "SAGEMAKER.PROCESSES_PER_HOST = -1 must be at least 0." in negative.output
    config = own_script_config(tmp_path, "echo hello\n", PROCESSES_PER_HOST=2)
    (tmp_path / "code" / "train.sh").write_text("echo hello\n")
    shell = run_cli("--config", str(config), "SAGEMAKER.ENTRY_POINT", "train.sh", expect_exit=1)
    assert "SAGEMAKER.ENTRY_POINT = 'train.sh' cannot be started by torchrun (it is not a .py script)" in (
        shell.output
    )


# ---------------------------------------------------------------------------------------------- #
# Host mode
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize("hosts", [1, 2])
def test_host_mode_trains_the_example_on_two_processes_per_host(
    tmp_path: Path, digits: Path, hosts: int
) -> None:
    # The same global batch as one process's default 64, so the accuracy bar holds.
    batch = str(64 // (2 * hosts))
    done = launch(
        "configs/local_process.yaml",
        tmp_path,
        digits,
        "SAGEMAKER.INSTANCE_COUNT",
        str(hosts),
        "SAGEMAKER.PROCESSES_PER_HOST",
        "2",
        "SOLVER.BATCH_SIZE",
        batch,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    plural = "s" if hosts > 1 else ""
    world = f"world size {2 * hosts}: {hosts} host{plural} x 2 processes, device cpu, precision fp32 (auto)"
    assert world in output
    assert_ranks_agree(output, 2 * hosts)
    assert final_accuracy(only_job(tmp_path)) >= MIN_ACCURACY


def test_own_ddp_script_gets_torchruns_variables_on_every_process(tmp_path: Path) -> None:
    config = own_script_config(tmp_path, DDP_SCRIPT, INSTANCE_COUNT=2, PROCESSES_PER_HOST=2)
    done = run_own(config)
    assert done.returncode == 0, done.stderr[-3000:]
    job = only_job(tmp_path / "runs")
    seen = {
        int(path.stem.removeprefix("rank")): json.loads(path.read_text())
        for path in job.glob("hosts/*/model/rank*.json")
    }
    assert sorted(seen) == [0, 1, 2, 3]
    for rank, variables in seen.items():
        assert variables["SM_CURRENT_HOST"] == f"algo-{rank // 2 + 1}"
        assert (variables["LOCAL_RANK"], variables["WORLD_SIZE"], variables["LOCAL_WORLD_SIZE"]) == (
            str(rank % 2),
            "4",
            "2",
        )
        assert variables["MASTER_ADDR"] == "127.0.0.1"
        assert variables["sum"] == 1 + 2 + 3 + 4
    assert len({variables["MASTER_PORT"] for variables in seen.values()}) == 1


def test_a_failed_rank_stops_the_others_and_names_its_error(tmp_path: Path) -> None:
    config = own_script_config(tmp_path, FAILING_SCRIPT, PROCESSES_PER_HOST=2)
    started = time.monotonic()
    done = run_own(config)
    assert done.returncode == 1, done.stderr[-3000:]
    assert time.monotonic() - started < 60, "the waiting rank was not stopped"
    assert "Host algo-1 exited with code 1: ExecuteUserScriptError:\nExitCode 1" in done.stderr
    # The failing rank's own traceback, not torchrun's summary of it.
    assert 'RuntimeError: rank 1 gives up"\nCommand "' in done.stderr


# ---------------------------------------------------------------------------------------------- #
# Docker local mode
# ---------------------------------------------------------------------------------------------- #
def test_docker_trains_the_example_on_two_containers_of_two_processes(
    docker_runs: Path, digits: Path
) -> None:
    done = launch(
        "configs/local.yaml",
        docker_runs,
        digits,
        "SAGEMAKER.INSTANCE_COUNT",
        "2",
        "SAGEMAKER.PROCESSES_PER_HOST",
        "2",
        "SOLVER.BATCH_SIZE",
        "16",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    # The image's own toolkit starts the processes.
    assert output.count("torchrun --nnodes 2 --nproc_per_node 2") == 2
    assert "world size 4: 2 hosts x 2 processes, device cpu, precision fp32 (auto)" in output
    assert_ranks_agree(output, 4)
    assert final_accuracy(only_job(docker_runs)) >= MIN_ACCURACY


def test_docker_stop_reaches_every_process_which_checkpoint(docker_runs: Path, digits: Path) -> None:
    """SageMaker's stop: SIGTERM to PID 1, which torchrun passes on to each of its workers."""
    command = local_launch_command(
        "configs/local.yaml", docker_runs, digits, "SAGEMAKER.PROCESSES_PER_HOST", "2", "SOLVER.EPOCHS", "200"
    )
    code, text = stop_first_container_after_an_epoch(command, RUN_TIMEOUT)
    assert code == 1, text[-3000:]
    assert len(re.findall(r"Sending process \d+ closing signal SIGTERM", text)) == 2, text[-3000:]
    assert "SIGKILL" not in text
    assert "Host algo-1 exited with code 1: Stopped by SIGTERM: checkpoint saved" in text
