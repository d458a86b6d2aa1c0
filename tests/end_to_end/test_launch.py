"""Launching against a real AWS API endpoint on loopback: what the server and S3 hold afterwards."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.aws import BUCKET, ROLE_ARN, s3_json, s3_keys, s3_text, training_jobs
from support.commands import REPO_ROOT, run_cli, write_yaml

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
JOB_NAME = re.compile(r"Started training job (\S+)")


def launched_job_name(output: str) -> str:
    match = JOB_NAME.search(output)
    assert match, output
    return match.group(1)


def tags_of(job: dict[str, Any]) -> dict[str, str]:
    import boto3

    tags = boto3.client("sagemaker").list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def test_example_config_launches_with_record_configs_and_tags(aws: str) -> None:
    name = launched_job_name(run_cli("--config", EXAMPLE, "SOLVER.BASE_LR", "0.01").output)

    [job] = training_jobs()
    assert job["TrainingJobName"] == name
    assert name.startswith("digits-")
    assert job["RoleArn"] == ROLE_ARN
    assert job["AlgorithmSpecification"]["TrainingImage"] == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training:v1"
    )
    assert job["ResourceConfig"] == {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    prefix = f"digits-baseline/{name}/"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    assert channels == {
        "train": "s3://my-team-sagemaker/datasets/digits/train/",
        "validation": "s3://my-team-sagemaker/datasets/digits/validation/",
        "config": f"s3://{BUCKET}/{prefix}config/",
    }
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/digits-baseline/"
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/{prefix}output/model.tar.gz"
    assert job["CheckpointConfig"] == {
        "S3Uri": f"s3://{BUCKET}/{prefix}checkpoints/",
        "LocalPath": "/opt/ml/checkpoints",
    }
    hyperparameters = job["HyperParameters"]
    assert hyperparameters["SOLVER.BASE_LR"] == "0.01"
    assert hyperparameters["SEED"] == "7"
    assert json.loads(hyperparameters["MODEL.CONV_CHANNELS"]) == [32, 64]

    assert sorted(s3_keys()) == [
        f"{prefix}config/{file}"
        for file in ("record.json", "request.json", "sagemaker_config.yaml", "training_config.yaml")
    ]
    training = yaml.safe_load(s3_text(f"{prefix}config/training_config.yaml"))
    assert training["SOLVER"]["BASE_LR"] == 0.01 and training["SEED"] == 7
    assert yaml.safe_load(s3_text(f"{prefix}config/sagemaker_config.yaml"))["S3"]["EXPERIMENT_NAME"] == (
        "digits-baseline"
    )
    record = s3_json(f"{prefix}config/record.json")
    assert record["job_name"] == name
    assert re.fullmatch(r"[0-9a-f]{40}", record["git"]["commit"])
    assert isinstance(record["git"]["dirty"], bool)
    assert record["command_line"].endswith("--config " + EXAMPLE + " SOLVER.BASE_LR 0.01")
    assert record["launched_by"]["user"] and record["launched_by"]["host"]
    assert record["launched_by"]["aws_identity"].startswith("arn:aws:")
    assert record["image_uri"] == job["AlgorithmSpecification"]["TrainingImage"]
    assert record["code"] == {
        "source": "image",
        "path": "/opt/ml/code",
        "entry_point": "main.py",
        "commit": record["git"]["commit"],
    }
    assert record["record_version"] == 4
    assert record["debugger"]["hold_on_failure_seconds"] == 0 and not record["debugger"]["module_added"]
    assert record["debugger"]["program"] == "main.py"
    assert record["processes"] == "torchrun, one process per GPU"
    assert "sagemaker" not in record["packages"]
    assert tags_of(job) == {
        "sm-launcher:experiment": "digits-baseline",
        "sm-launcher:git-commit": record["git"]["commit"],
        "sm-launcher:config": f"s3://{BUCKET}/{prefix}config/",
        "team": "vision",
    }


def test_two_launches_in_the_same_second_get_distinct_valid_names(aws: str) -> None:
    names = {launched_job_name(run_cli("--config", EXAMPLE).output) for _ in range(2)}
    assert len(names) == 2
    assert {job["TrainingJobName"] for job in training_jobs()} == names
    assert all(re.fullmatch(r"digits-\d{8}-\d{6}-[0-9a-f]{4}", name) for name in names)


def test_spot_and_checkpoint_settings_reach_the_job(aws: str, tmp_path: Path) -> None:
    config = write_yaml(
        tmp_path / "spot.yaml",
        {
            "_BASE_": EXAMPLE,
            "SAGEMAKER": {"USE_SPOT_INSTANCES": True, "MAX_RUN_SECONDS": 1800, "MAX_WAIT_SECONDS": 3600},
            "CHECKPOINT_SYNC": {"S3_URI": f"s3://{BUCKET}/shared-checkpoints/run-1/", "LOCAL_PATH": "/ckpt"},
        },
    )
    run_cli("--config", str(config))
    [job] = training_jobs()
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}
    assert job["CheckpointConfig"] == {
        "S3Uri": f"s3://{BUCKET}/shared-checkpoints/run-1/",
        "LocalPath": "/ckpt",
    }


def test_checkpoint_sync_can_be_turned_off(aws: str) -> None:
    run_cli("--config", EXAMPLE, "CHECKPOINT_SYNC.ENABLED", "false")
    [job] = training_jobs()
    assert "CheckpointConfig" not in job


def test_local_inputs_are_uploaded_under_the_job_prefix(aws: str, tmp_path: Path) -> None:
    data = tmp_path / "digits"
    (data / "nested").mkdir(parents=True)
    (data / "a.bin").write_bytes(b"\x00" * 1024)
    (data / "nested/b.txt").write_text("hello")
    name = launched_job_name(run_cli("--config", EXAMPLE, "INPUTS.extra", str(data)).output)

    [job] = training_jobs()
    prefix = f"digits-baseline/{name}/"
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    assert channels["extra"] == f"s3://{BUCKET}/{prefix}inputs/extra/"
    assert s3_text(f"{prefix}inputs/extra/nested/b.txt") == "hello"
    assert len(s3_text(f"{prefix}inputs/extra/a.bin")) == 1024


def test_source_dir_is_uploaded_and_run_in_script_mode(aws: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "__pycache__").mkdir(parents=True)
    (code / "train.py").write_text("print('training')\n")
    (code / "requirements.txt").write_text("yacs\n")
    (code / "__pycache__/train.cpython-311.pyc").write_bytes(b"cache")
    name = launched_job_name(
        run_cli(
            "--config",
            EXAMPLE,
            "SAGEMAKER.SOURCE_DIR",
            str(code),
            "SAGEMAKER.ENTRY_POINT",
            "train.py",
            "TRAINING.CONFIG_FILE",
            "",
            "HYPERPARAMETERS.backend",
            "gloo",
        ).output
    )

    [job] = training_jobs()
    archive_uri = f"s3://{BUCKET}/digits-baseline/{name}/code/sourcedir.tar.gz"
    hyperparameters = job["HyperParameters"]
    assert json.loads(hyperparameters["sagemaker_submit_directory"]) == archive_uri
    assert json.loads(hyperparameters["sagemaker_program"]) == "train.py"
    # A folder without the example's defaults gets its own arguments only, encoded once, not twice.
    assert hyperparameters["backend"] == '"gloo"'
    assert not any(key.startswith("SOLVER.") for key in hyperparameters)
    archive = tmp_path / "sourcedir.tar.gz"
    import boto3

    boto3.client("s3").download_file(BUCKET, archive_uri.split(f"{BUCKET}/", 1)[1], str(archive))
    with tarfile.open(archive) as bundle:
        assert sorted(bundle.getnames()) == ["requirements.txt", "train.py"]
    record = s3_json(f"digits-baseline/{name}/config/record.json")
    assert record["code"] == {
        "source": "uploaded",
        "source_dir": str(code),
        "uri": archive_uri,
        "entry_point": "train.py",
        "commit": record["git"]["commit"],
    }


def test_dry_run_prints_exactly_the_request_a_launch_sends(aws: str) -> None:
    dry = run_cli("--config", EXAMPLE, "SOLVER.EPOCHS", "3", "--dry-run")
    request = json.loads(dry.stdout)
    assert s3_keys() == [] and training_jobs() == []

    name = launched_job_name(run_cli("--config", EXAMPLE, "SOLVER.EPOCHS", "3").output)
    sent = s3_json(f"digits-baseline/{name}/config/request.json")
    assert json.loads(json.dumps(request).replace(request["TrainingJobName"], name)) == sent
    [job] = training_jobs()
    for field in ("HyperParameters", "InputDataConfig", "OutputDataConfig", "ResourceConfig", "RoleArn"):
        assert job[field] == sent[field], field
    assert tags_of(job) == {tag["Key"]: tag["Value"] for tag in sent["Tags"]}


def test_dry_run_sends_nothing_even_with_no_reachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("--config", EXAMPLE, "--dry-run")
    assert json.loads(result.stdout)["TrainingJobName"].startswith("digits-")


def test_wait_reports_a_failed_job_and_exits_non_zero(aws: str) -> None:
    from moto.backends import get_backend

    jobs = get_backend("sagemaker")["123456789012"]["us-east-1"].training_jobs
    result = run_cli("--config", EXAMPLE, expect_exit=None)
    name = launched_job_name(result.output)
    jobs[name].training_job_status = "Failed"
    jobs[name].failure_reason = "AlgorithmError: CUDA out of memory"

    from sagemaker_launcher.cli.group import follow_logs
    from sagemaker_launcher.errors import LauncherError

    with pytest.raises(LauncherError, match="ended Failed: AlgorithmError: CUDA out of memory"):
        follow_logs(name, "us-east-1")


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    [
        ("ml.g5.xlarge", "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training:v1"),
        ("local", "digits-training:v1"),
        ("local_gpu", "digits-training:v1"),
    ],
)
def test_repository_and_tag_name_ecr_for_sagemaker_and_the_local_engine_otherwise(
    instance_type: str, expected: str
) -> None:
    from sagemaker_launcher.config.loading import load_configs
    from sagemaker_launcher.config.spec_building import image_uri

    # The example extends team_base.yaml, which sets a role ARN: local modes must still not get ECR.
    configs = load_configs(EXAMPLE, ["SAGEMAKER.INSTANCE_TYPE", instance_type])
    assert configs.sagemaker.SAGEMAKER.ROLE_ARN
    assert image_uri(configs.sagemaker) == expected
