"""What the job spec decides once, as users meet it: how a team's script starts, the request with the
SageMaker SDK absent, tuning trials that never resume each other, a reproduced trial's own values,
images pinned by digest, and a team's SDK defaults file filling only what the YAML left alone."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from support.aws import BUCKET, REGION, ROLE_ARN, aws_environment, described, s3_json, training_jobs
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.container import make_tree, run_job

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training"


def own_script(tmp_path: Path, **sagemaker: Any) -> Path:
    """A team's script in a folder with no training_default_config.py, TRAINING.DEFAULTS left as it is."""
    code = tmp_path / "src"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text("import sys\nprint(sys.argv)\n")
    return write_yaml(
        tmp_path / "own.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs/team_base.yaml"),
            "SAGEMAKER": {"SOURCE_DIR": str(code), "ENTRY_POINT": "train.py", **sagemaker},
            "HYPERPARAMETERS": {"epochs": 3},
        },
    )


def test_a_teams_script_runs_once_per_host_unless_processes_per_host_says_otherwise(
    aws: str, tmp_path: Path
) -> None:
    config = str(own_script(tmp_path, INSTANCE_TYPE="ml.g5.12xlarge"))
    result = run_cli("--config", config, "--dry-run")
    hyperparameters = json.loads(result.stdout)["HyperParameters"]
    assert not [name for name in hyperparameters if "distributed" in name or "processes_per_host" in name]
    assert "has no training_default_config.py (TRAINING.DEFAULTS)" in result.stderr
    forced = json.loads(run_cli("--config", config, "SAGEMAKER.PROCESSES_PER_HOST", "4", "--dry-run").stdout)
    assert forced["HyperParameters"]["sagemaker_torch_distributed_enabled"] == "true"
    assert forced["HyperParameters"]["sagemaker_mpi_num_of_processes_per_host"] == "4"


# ---------------------------------------------------------------------------------------------- #
# No SageMaker SDK anywhere on the launch path
# ---------------------------------------------------------------------------------------------- #
def without_the_sdk(tmp_path: Path, endpoint: str) -> dict[str, str]:
    """An environment in which ``import sagemaker`` raises, as where the SDK is not installed."""
    blocker = tmp_path / "no-sdk" / "sagemaker"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('the SageMaker SDK is not installed here')\n")
    path = os.pathsep.join(filter(None, [str(blocker.parent), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **aws_environment(endpoint), "PYTHONPATH": path}


def test_launches_and_every_dry_run_work_without_the_sagemaker_sdk(aws: str, tmp_path: Path) -> None:
    env = without_the_sdk(tmp_path, aws)

    def launcher(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            python_command(*args), capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=180
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr[-2000:])
        return done

    blocked = subprocess.run(
        [os.sys.executable, "-c", "import sagemaker"], capture_output=True, text=True, env=env, check=False
    )
    assert "the SageMaker SDK is not installed here" in blocked.stderr
    sweep = write_yaml(
        tmp_path / "bayesian.yaml",
        {
            "_BASE_": EXAMPLE,
            "SWEEP": {
                "STRATEGY": "bayesian",
                "PARAMETERS": {"SOLVER.BASE_LR": {"MIN": 0.001, "MAX": 0.1, "SCALE": "log"}},
                "OBJECTIVE": {"METRIC": "validation:accuracy"},
            },
        },
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("1\n")
    local = ["--config", str(REPO_ROOT / "configs/local_process.yaml")]
    dry_runs = [
        ["--config", EXAMPLE],
        [*local, "INPUTS.train", str(data), "INPUTS.validation", str(data)],
        ["sweep", "--config", str(sweep)],
    ]
    for args in dry_runs:
        assert json.loads(launcher(*args, "--dry-run").stdout)
    started = launcher("--config", EXAMPLE).stdout
    name = re.search(r"Started training job (\S+)", started).group(1)
    assert json.loads(launcher("reproduce", name, "--dry-run").stdout)["TrainingJobName"] != name
    launcher("sweep", "--config", str(sweep))
    assert len(training_jobs()) == 1


# ---------------------------------------------------------------------------------------------- #
# Tuning trials, and reproducing one
# ---------------------------------------------------------------------------------------------- #
def test_tuning_trials_sharing_a_checkpoint_folder_never_resume_each_other(
    digits: Path, tmp_path: Path
) -> None:
    """A tuning job gives its trials one CheckpointConfig; the example keeps each job's checkpoints under
    its own name and resumes from those only, as a spot job restarting with its name does."""
    shared = tmp_path / "shared-checkpoints"
    training = {"SOLVER": {"EPOCHS": 1}}
    for trial in ("tuning-001-aaaa", "tuning-002-bbbb"):
        base = make_tree(tmp_path / trial, digits, training_config=training)
        checkpoint_config = base / "input/config/checkpointconfig.json"
        checkpoint_config.write_text(json.dumps({"LocalPath": str(shared), "S3Uri": "s3://b/ckpt/"}))
        done = run_job(base, TRAINING_JOB_NAME=trial)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "training from scratch" in done.stderr + done.stdout
    assert sorted(path.name for path in shared.iterdir()) == ["tuning-001-aaaa", "tuning-002-bbbb"]
    # The same name again (a spot restart) resumes from its own folder.
    again = make_tree(tmp_path / "restart", digits, training_config={"SOLVER": {"EPOCHS": 2}})
    (again / "input/config/checkpointconfig.json").write_text(json.dumps({"LocalPath": str(shared)}))
    resumed = run_job(again, TRAINING_JOB_NAME="tuning-001-aaaa")
    assert resumed.returncode == 0 and "Resum" in resumed.stderr + resumed.stdout, resumed.stderr[-2000:]


def test_reproducing_a_tuning_trial_runs_the_values_the_tuner_chose(aws: str) -> None:
    sweep_id = "digits-261204-120000-abcd"
    parent_request = json.loads(run_cli("--config", EXAMPLE, "--dry-run").stdout)
    # The tuning job's launch: its config channel, as the launcher stages it.
    name = re.search(r"Started training job (\S+)", run_cli("--config", EXAMPLE).output).group(1)
    record = s3_json(f"digits-baseline/{name}/config/record.json")
    # A trial the tuner started: the definition's hyperparameters with its own values, the tuning job's tags.
    hyperparameters = {
        **parent_request["HyperParameters"],
        "SOLVER.BASE_LR": "0.0123",
        "SOLVER.OPTIMIZER": '"sgd"',
    }
    hyperparameters.pop("sagemaker_job_name", None)
    trial = f"{sweep_id}-003-7f2e1c9a"
    client = boto3.client("sagemaker", region_name=REGION)
    client.create_training_job(
        TrainingJobName=trial,
        AlgorithmSpecification=parent_request["AlgorithmSpecification"],
        RoleArn=ROLE_ARN,
        InputDataConfig=parent_request["InputDataConfig"],
        OutputDataConfig=parent_request["OutputDataConfig"],
        ResourceConfig=parent_request["ResourceConfig"],
        StoppingCondition=parent_request["StoppingCondition"],
        HyperParameters=hyperparameters,
        Tags=[
            {"Key": "sm-launcher:config", "Value": record["locations"]["config"]},
            {"Key": "sm-launcher:experiment", "Value": "digits-baseline"},
        ],
    )
    described(client, trial)
    result = run_cli("reproduce", trial, "--dry-run")
    request = json.loads(result.stdout)
    assert request["HyperParameters"]["SOLVER.BASE_LR"] == "0.0123"
    assert request["HyperParameters"]["SOLVER.OPTIMIZER"] == '"sgd"'
    assert "SOLVER.BASE_LR=0.0123 SOLVER.OPTIMIZER=sgd" in result.stderr
    # The user's own override still wins over the trial's value.
    mine = json.loads(run_cli("reproduce", trial, "--dry-run", "SOLVER.BASE_LR", "0.5").stdout)
    assert mine["HyperParameters"]["SOLVER.BASE_LR"] == "0.5"


# ---------------------------------------------------------------------------------------------- #
# Images by digest
# ---------------------------------------------------------------------------------------------- #
def test_the_record_pins_the_image_by_digest_and_reproduce_runs_that_image(aws: str) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName="digits-training")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + "a" * 64,
                "size": 1,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
    )
    pushed = ecr.put_image(repositoryName="digits-training", imageManifest=manifest, imageTag="v1")
    digest = pushed["image"]["imageId"]["imageDigest"]
    name = re.search(r"Started training job (\S+)", run_cli("--config", EXAMPLE).output).group(1)
    record = s3_json(f"digits-baseline/{name}/config/record.json")
    assert record["image"] == {"uri": f"{IMAGE}:v1", "digest": digest, "note": None}
    # v1 moves on; the reproduced job runs the image the parent ran.
    ecr.put_image(
        repositoryName="digits-training",
        imageManifest=manifest.replace('"layers": []', '"layers": [], "x": 1'),
        imageTag="v1",
    )
    request = json.loads(run_cli("reproduce", name, "--dry-run").stdout)
    assert request["AlgorithmSpecification"]["TrainingImage"] == f"{IMAGE}@{digest}"
    # An image ECR does not know is recorded with the reason, never a failed launch.
    other = re.search(
        r"Started training job (\S+)", run_cli("--config", EXAMPLE, "IMAGE.TAG", "v9").output
    ).group(1)
    note = s3_json(f"digits-baseline/{other}/config/record.json")["image"]
    assert note["digest"] is None and note["note"].startswith("the digest could not be read")


# ---------------------------------------------------------------------------------------------- #
# A team's SDK defaults file
# ---------------------------------------------------------------------------------------------- #
SDK_DEFAULTS = """\
SchemaVersion: '1.0'
SageMaker:
  TrainingJob:
    EnableNetworkIsolation: true
    EnableInterContainerTrafficEncryption: true
    Environment: {SHARED: from-file, MINE: from-file}
    Tags: [{Key: team, Value: from-file}, {Key: cost-center, Value: cv-42}]
    VpcConfig: {Subnets: [subnet-0abc1234], SecurityGroupIds: [sg-0abc1234]}
"""


def test_an_sdk_defaults_file_fills_only_what_the_yaml_left_and_tags_merge(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    defaults = tmp_path / "config.yaml"
    defaults.write_text(SDK_DEFAULTS)
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(tmp_path))  # a folder holding config.yaml
    config = write_yaml(
        tmp_path / "exp.yaml",
        {
            "_BASE_": EXAMPLE,
            "NETWORK": {"ENABLE_NETWORK_ISOLATION": False},
            "SAGEMAKER": {"ENVIRONMENT": {"MINE": "from-yaml"}},
        },
    )
    request = json.loads(run_cli("--config", str(config), "--dry-run").stdout)
    assert "EnableNetworkIsolation" not in request, "the YAML's explicit false wins over the file"
    assert request["EnableInterContainerTrafficEncryption"] is True
    assert request["Environment"] == {"SHARED": "from-file", "MINE": "from-yaml"}
    tags = {tag["Key"]: tag["Value"] for tag in request["Tags"]}
    assert tags["team"] == "vision" and tags["cost-center"] == "cv-42", "the job's own tag wins by key"
    assert request["VpcConfig"] == {"Subnets": ["subnet-0abc1234"], "SecurityGroupIds": ["sg-0abc1234"]}
    name = re.search(r"Started training job (\S+)", run_cli("--config", str(config)).output).group(1)
    filled = s3_json(f"digits-baseline/{name}/config/record.json")["sdk_defaults"]
    assert filled == {
        key: str(defaults)
        for key in (
            "NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC", "NETWORK.SUBNETS", "NETWORK.SECURITY_GROUP_IDS",
            "SAGEMAKER.ENVIRONMENT.SHARED", "SAGEMAKER.TAGS.cost-center",
        )
    }  # fmt: skip
    assert yaml.safe_load(  # the resolved config says what the job ran with, the file's values included
        boto3.client("s3")
        .get_object(Bucket=BUCKET, Key=f"digits-baseline/{name}/config/sagemaker_config.yaml")["Body"]
        .read()
    )["NETWORK"]["SUBNETS"] == ["subnet-0abc1234"]
