"""One contract in every mode: ``parity`` runs a probe as a job's entry point in host mode and in Docker
and names every difference; none may be unexplained. Also: a local run's folder holds the same files as
a SageMaker job's prefix.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import boto3
import pytest
from support.aws import BUCKET, REGION, ROLE_ARN
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.docker import TRAINING_IMAGE, require_image
from support.own_code import write_points

from sagemaker_launcher.local.parity import compare, report


def probe_config(tmp_path: Path, instance_type: str) -> Path:
    """A team's own script with its arguments and a channel (the parity check brings its own probe)."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("import sys\nprint('training with', sys.argv[1:])\n")
    return write_yaml(
        tmp_path / f"probe_{instance_type}.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": instance_type,
                "BASE_JOB_NAME": "probe",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
            },
            "IMAGE": {"URI": TRAINING_IMAGE},
            "S3": {"EXPERIMENT_NAME": "probe"},
            "INPUTS": {"training": str(write_points(tmp_path / "data" / "training"))},
            "TRAINING": {"DEFAULTS": ""},
            "HYPERPARAMETERS": {"epochs": 2, "backend": "gloo", "note": "1.10"},
            "LOCAL": {"RUNS_DIR": str(tmp_path / f"runs_{instance_type}")},
        },
    )


@pytest.mark.parametrize("hosts", [1, 2])
def test_parity_finds_no_unexplained_difference_between_host_mode_and_docker(
    tmp_path: Path, hosts: int
) -> None:
    """The user's check, run as the suite's bar: zero unexplained differences, with 1 and 2 hosts."""
    require_image(TRAINING_IMAGE)
    config = probe_config(tmp_path, "local_process")
    done = subprocess.run(
        python_command("parity", "--config", str(config), "SAGEMAKER.INSTANCE_COUNT", str(hosts)),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.endswith("0 unexplained."), done.stdout[-4000:]
    assert "UNEXPLAINED" not in done.stdout
    # What is left is explained, and the job's own arguments and channel reached both sides alike.
    found = [line.split(": ")[1] for line in done.stdout.splitlines() if line.startswith("explained: ")]
    assert "env.SM_NETWORK_INTERFACE_NAME" in found
    shared = ("argv", "input_files", "env.SM_HP", "config.hyper")
    assert not [path for path in found if path.startswith(shared)]
    assert not list(Path(tmp_path).glob("runs_*")), "the parity runs belong in a scratch folder"


def test_an_unexplained_difference_is_named_and_fails_the_check() -> None:
    host = {
        "env": {"SM_HOSTS": '["algo-1"]', "SM_NETWORK_INTERFACE_NAME": "lo", "SM_CUSTOM": "1"},
        "argv": ["--a", "1"],
    }
    docker = {"env": {"SM_HOSTS": '["algo-1"]', "SM_NETWORK_INTERFACE_NAME": "eth0"}, "argv": ["--a", "2"]}
    differences = list(compare(host, docker))
    assert [(d.path, d.reason is None) for d in differences] == [
        ("argv", True),
        ("env.SM_CUSTOM", True),
        ("env.SM_NETWORK_INTERFACE_NAME", False),
    ]
    lines = report(differences)
    assert lines[0].startswith('UNEXPLAINED: argv: host mode ["--a", "1"], Docker ["--a", "2"]')
    assert lines[-1].startswith("3 difference(s), 2 unexplained.")


def test_a_local_run_is_laid_out_as_its_sagemaker_twin(aws: str, tmp_path: Path) -> None:
    config = probe_config(tmp_path, "local_process")
    command = python_command("--config", str(config))
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [local_job] = [p.parent.parent for p in tmp_path.rglob("config/record.json") if "hosts" not in p.parts]
    local_files = {
        path.relative_to(local_job).as_posix()
        for path in local_job.rglob("*")
        if path.is_file() and path.relative_to(local_job).parts[0] != "hosts"
    }

    data = tmp_path / "data" / "training"
    boto3.client("s3", region_name=REGION).upload_file(str(data / "points.npz"), BUCKET, "data/points.npz")
    launched = run_cli(
        "--config",
        str(config),
        "SAGEMAKER.INSTANCE_TYPE",
        "ml.m5.xlarge",
        "SAGEMAKER.ROLE_ARN",
        ROLE_ARN,
        "SAGEMAKER.REGION",
        REGION,
        "S3.BUCKET",
        BUCKET,
        "INPUTS.training",
        f"s3://{BUCKET}/data/",
    ).output
    job_name = re.search(r"Started training job (\S+)", launched)[1]
    prefix = f"probe/{job_name}/"
    listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    s3_files = {item["Key"].removeprefix(prefix) for item in listing["Contents"]}
    # SageMaker writes output/ when the job ends (the loopback endpoint runs no job), and keeps a job's
    # status itself, where a local run keeps status.json.
    assert s3_files == local_files - {"output/model.tar.gz", "output/output.tar.gz", "status.json"}
    assert {"config/request.json", "config/record.json", "code/sourcedir.tar.gz"} <= s3_files
    record = json.loads((local_job / "config/record.json").read_text())
    assert record["code"]["uri"].endswith(f"{local_job.name}/code/sourcedir.tar.gz")
