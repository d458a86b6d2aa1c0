"""list, show, logs, fetch, stop and reproduce against the loopback AWS endpoint.

Jobs come from the real launcher; their states are set through moto's in-process backend (moto
marks every job Completed at once), log streams are seeded with the logs client, and artifacts are
uploaded as SageMaker would.
"""

from __future__ import annotations

import getpass
import io
import json
import re
import subprocess
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from support.aws import ACCOUNT, BUCKET, REGION, ROLE_ARN, described, s3_json, s3_keys, training_jobs
from support.commands import REPO_ROOT, run_cli, write_yaml

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


# ---------------------------------------------------------------------------------------------- #
# Helpers
# ---------------------------------------------------------------------------------------------- #
def launch(tmp_path: Path, experiment: str, *overrides: str) -> str:
    """Launch a job with the real launcher from the example config; returns its name."""
    config = write_yaml(
        tmp_path / f"{experiment}.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs" / "sagemaker_config.yaml"),
            "S3": {"EXPERIMENT_NAME": experiment},
        },
    )
    output = run_cli("--config", str(config), *overrides).output
    return re.search(r"Started training job (\S+)", output).group(1)


def backend_job(name: str) -> Any:
    """moto's own object for a training job, to set what real SageMaker would change over time."""
    from moto.backends import get_backend

    return get_backend("sagemaker")[ACCOUNT][REGION].training_jobs[name]


def foreign_job(name: str) -> None:
    """A training job made without this tool: no launcher tags, no record."""
    import boto3

    boto3.client("sagemaker", region_name=REGION).create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/x:1",
            "TrainingInputMode": "File",
        },
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/elsewhere/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    described(boto3.client("sagemaker", region_name=REGION), name)


def seed_logs(job: str, lines: dict[str, list[tuple[int, str]]]) -> None:
    """Write ``{host: [(ms offset, message)]}`` as SageMaker would, one stream per host."""
    import boto3

    logs = boto3.client("logs", region_name=REGION)
    if not logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"]:
        logs.create_log_group(logGroupName=LOG_GROUP)
    now = int(time.time() * 1000)
    for host, events in lines.items():
        stream = f"{job}/{host}-1700000000"
        if not logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=stream)["logStreams"]:
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        logs.put_log_events(
            logGroupName=LOG_GROUP,
            logStreamName=stream,
            logEvents=[{"timestamp": now + offset, "message": message} for offset, message in events],
        )


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar of regular files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def put_object(uri: str, data: bytes) -> None:
    import boto3

    bucket, key = uri.removeprefix("s3://").split("/", 1)
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)


def output_uri(job: str, experiment: str) -> str:
    return f"s3://{BUCKET}/{experiment}/{job}/output/output.tar.gz"


def model_uri(job: str, experiment: str) -> str:
    return f"s3://{BUCKET}/{experiment}/{job}/output/model.tar.gz"


# ---------------------------------------------------------------------------------------------- #
# list
# ---------------------------------------------------------------------------------------------- #
def test_list_shows_launched_jobs_newest_first_and_filters(aws: str, tmp_path: Path, end_job: Any) -> None:
    older = launch(tmp_path, "exp-a")
    newer = launch(tmp_path, "exp-b")
    foreign_job("made-elsewhere")
    end_job(older)
    job = backend_job(older)
    job.enable_managed_spot_training = True
    job.training_time_in_seconds, job.billable_time_in_seconds = 1000, 300
    end_job(newer, "Failed", "AlgorithmError: boom")

    lines = run_cli("list").output.splitlines()
    assert lines[0].split() == [
        "JOB",
        "EXPERIMENT",
        "STATUS",
        "INSTANCES",
        "SPOT",
        "SAVED",
        "DURATION",
        "LAUNCHED",
        "BY",
        "COMMIT",
    ]
    assert [line.split()[0] for line in lines[1:]] == [newer, older]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout[
        :8
    ]
    older_row = lines[2].split()
    assert older_row[1:8] == ["exp-a", "Completed", "ml.g5.xlarge", "x1", "70%", "16m40s", getpass.getuser()]
    assert older_row[8].startswith(commit)
    assert lines[1].split()[1:3] == ["exp-b", "Failed"]

    assert "made-elsewhere" in run_cli("list", "--all").output
    only_a = run_cli("list", "--experiment", "exp-a").output
    assert older in only_a and newer not in only_a
    failed = run_cli("list", "--status", "failed").output
    assert newer in failed and older not in failed
    assert [line.split()[0] for line in run_cli("list", "--limit", "1").output.splitlines()[1:]] == [newer]
    assert "No training jobs match" in run_cli("list", "--experiment", "nothing-here").output


# ---------------------------------------------------------------------------------------------- #
# show
# ---------------------------------------------------------------------------------------------- #
def test_show_prints_status_record_configs_metrics_and_artifacts(
    aws: str, tmp_path: Path, end_job: Any
) -> None:
    name = launch(tmp_path, "exp-a", "SOLVER.BASE_LR", "0.02")
    end_job(name, "Failed", "AlgorithmError: CUDA out of memory")
    job = backend_job(name)
    job.final_metric_data_list = [{"MetricName": "train:progress", "Value": 100.0, "Timestamp": 0}]

    output = run_cli("show", name).output
    assert f"Job {name}: Failed" in output
    assert "failure reason: AlgorithmError: CUDA out of memory" in output
    assert f"launched by:    {getpass.getuser()}@" in output
    assert "SOLVER.BASE_LR 0.02" in output  # the recorded command line
    assert "git commit:" in output
    assert f"s3://{BUCKET}/exp-a/{name}/config/sagemaker_config.yaml" in output
    assert "Final metrics (from FinalMetricDataList):\n  train:progress: 100" in output
    assert f"model:          {model_uri(name, 'exp-a')}" in output
    assert f"output:         {output_uri(name, 'exp-a')}" in output
    assert "EXPERIMENT_NAME: exp-a" not in output

    with_configs = run_cli("show", name, "--configs").output
    assert "    EXPERIMENT_NAME: exp-a" in with_configs
    assert "BASE_LR: 0.02" in with_configs

    # Without metrics from the service, the training's own metrics.json in output.tar.gz is read.
    job.final_metric_data_list = []
    metrics = {"final": {"epoch": 3, "validation:accuracy": 0.97}, "epochs": []}
    put_object(output_uri(name, "exp-a"), tar_gz({"metrics.json": json.dumps(metrics).encode()}))
    output = run_cli("show", name).output
    assert f"Final metrics (from metrics.json in {output_uri(name, 'exp-a')}):" in output
    assert "  validation:accuracy: 0.97" in output


def test_show_and_logs_work_for_a_job_this_tool_did_not_launch(
    aws: str, end_job: Callable[..., None]
) -> None:
    foreign_job("made-elsewhere")
    end_job("made-elsewhere")  # finished now, not after the dialect's lifecycle steps (slow under load)
    seed_logs("made-elsewhere", {"algo-1": [(0, "hello")]})

    output = run_cli("show", "made-elsewhere").output
    assert "Job made-elsewhere: Completed" in output
    assert "was not launched by this tool" in output
    assert "model:          s3://my-team-sagemaker/elsewhere/made-elsewhere/output/model.tar.gz" in output
    assert run_cli("logs", "made-elsewhere").stdout == "[algo-1] hello\n"

    refused = run_cli("reproduce", "made-elsewhere", expect_exit=1).output
    assert "Cannot reproduce: Job made-elsewhere was not launched by this tool" in refused


@pytest.mark.parametrize("command", ["show", "logs", "fetch", "stop", "reproduce"])
def test_unknown_job_is_one_clear_error(aws: str, command: str) -> None:
    result = run_cli(command, "no-such-job", expect_exit=1)
    assert result.output.startswith(f"Error: No training job named 'no-such-job' in region {REGION}.")
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------- #
# logs
# ---------------------------------------------------------------------------------------------- #
def test_logs_prints_every_host_in_time_order(aws: str, tmp_path: Path, end_job: Any) -> None:
    name = launch(tmp_path, "exp-a")
    end_job(name)
    result = run_cli("logs", name)
    assert result.stdout == ""
    assert f"No log lines for job {name} (Completed)" in result.stderr

    seed_logs(name, {"algo-1": [(0, "start 1"), (20, "epoch 1")], "algo-2": [(10, "start 2")]})
    expected = "[algo-1] start 1\n[algo-2] start 2\n[algo-1] epoch 1\n"
    assert run_cli("logs", name).stdout == expected
    # A job that has already ended: --follow prints and returns at once.
    started = time.monotonic()
    assert run_cli("logs", name, "--follow").stdout == expected
    assert time.monotonic() - started < 3


def test_logs_follow_polls_until_the_job_ends(
    aws: str, aws_dialect: Any, tmp_path: Path, end_job: Any
) -> None:
    aws_dialect.knobs.lifecycle_step_s = 60  # the job keeps training until the test ends it
    name = launch(tmp_path, "exp-a")
    seed_logs(name, {"algo-1": [(0, "epoch 1")]})

    def finish() -> None:
        time.sleep(0.6)
        seed_logs(name, {"algo-1": [(5, "epoch 2")]})
        end_job(name, "Failed", "AlgorithmError: loss is NaN")

    worker = threading.Thread(target=finish)
    worker.start()
    result = run_cli("logs", name, "--follow", "--poll-seconds", "0.2", expect_exit=1)
    worker.join()
    assert result.stdout == "[algo-1] epoch 1\n[algo-1] epoch 2\n"
    assert f"Error: Job {name} ended Failed: AlgorithmError: loss is NaN." in result.stderr


# ---------------------------------------------------------------------------------------------- #
# fetch
# ---------------------------------------------------------------------------------------------- #
def test_fetch_downloads_and_unpacks_both_archives(aws: str, tmp_path: Path) -> None:
    name = launch(tmp_path, "exp-a")
    put_object(model_uri(name, "exp-a"), tar_gz({"model.pt": b"weights", "code/inference.py": b"print()"}))
    put_object(output_uri(name, "exp-a"), tar_gz({"metrics.json": b"{}"}))
    dest = tmp_path / "fetched"

    output = run_cli("fetch", name, "--dest", str(dest)).output
    assert f"model: {dest / name / 'model'}" in output
    assert (dest / name / "model" / "model.pt").read_bytes() == b"weights"
    assert (dest / name / "model" / "code" / "inference.py").is_file()
    assert (dest / name / "output" / "metrics.json").read_bytes() == b"{}"
    assert sorted(p.name for p in (dest / name).iterdir()) == ["model", "output"]  # no leftover downloads

    again = run_cli("fetch", name, "--dest", str(dest), expect_exit=1).output
    assert "already exists. Remove it, or fetch into another folder with --dest." in again


# ---------------------------------------------------------------------------------------------- #
# stop
# ---------------------------------------------------------------------------------------------- #
def test_stop_asks_sagemaker_and_the_job_goes_stopping_then_stopped(
    aws: str, aws_dialect: Any, tmp_path: Path
) -> None:
    import boto3

    aws_dialect.knobs.lifecycle_step_s = 1.5  # each stage lasts long enough to stop the job in one
    name = launch(tmp_path, "exp-a")
    files = sorted(s3_keys())
    said = run_cli("stop", name).output
    assert f"Asked SageMaker to stop job {name}" in said
    assert aws_dialect.requests["SageMaker.StopTrainingJob"].json == {"TrainingJobName": name}
    assert "is already stopping" in run_cli("stop", name).output
    client = boto3.client("sagemaker", region_name=REGION)
    deadline = time.monotonic() + 20
    while (job := described(client, name))["TrainingJobStatus"] != "Stopped":
        assert job["TrainingJobStatus"] == "Stopping" and time.monotonic() < deadline, job[
            "TrainingJobStatus"
        ]
        time.sleep(0.2)
    assert [step["Status"] for step in job["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    assert sorted(s3_keys()) == files, "stopping a job keeps its configs, record and request"
    assert f"Job {name}: Stopped" in run_cli("show", name).output
    ended = run_cli("stop", name, expect_exit=1).output
    assert f"Error: Job {name} already ended with status Stopped at " in ended


def test_stop_refuses_ended_jobs(aws: str, tmp_path: Path, end_job: Any) -> None:
    name = launch(tmp_path, "exp-a")
    end_job(name)
    ended = run_cli("stop", name, expect_exit=1).output
    assert f"Error: Job {name} already ended with status Completed at " in ended
    assert "there is nothing to stop" in ended and "Traceback" not in ended


# ---------------------------------------------------------------------------------------------- #
# reproduce
# ---------------------------------------------------------------------------------------------- #
def test_reproduce_launches_a_child_from_the_recorded_configs(aws: str, tmp_path: Path) -> None:
    parent = launch(tmp_path, "exp-a", "SOLVER.BASE_LR", "0.02")

    dry = run_cli("reproduce", parent, "--dry-run", "SOLVER.EPOCHS", "3").stdout
    request = json.loads(dry)
    assert {"Key": "sm-launcher:parent-job", "Value": parent} in request["Tags"]
    assert request["HyperParameters"]["SOLVER.BASE_LR"] == "0.02"
    assert request["HyperParameters"]["SOLVER.EPOCHS"] == "3"
    assert len(training_jobs()) == 1

    output = run_cli("reproduce", parent, "SOLVER.EPOCHS", "3").output
    child = re.search(r"Started training job (\S+), reproducing " + re.escape(parent), output).group(1)
    described = {job["TrainingJobName"]: job for job in training_jobs()}[child]
    assert described["HyperParameters"]["SOLVER.BASE_LR"] == "0.02"
    assert described["HyperParameters"]["SOLVER.EPOCHS"] == "3"
    record = s3_json(f"exp-a/{child}/config/record.json")
    assert record["parent_job"] == parent
    assert f"reproduce {parent} SOLVER.EPOCHS 3" in record["command_line"]
    import boto3

    tags = boto3.client("sagemaker", region_name=REGION).list_tags(ResourceArn=described["TrainingJobArn"])[
        "Tags"
    ]
    assert {"Key": "sm-launcher:parent-job", "Value": parent} in tags
    assert f"reproduces:     {parent}" in run_cli("show", child).output


# ---------------------------------------------------------------------------------------------- #
# Permissions
# ---------------------------------------------------------------------------------------------- #
@pytest.fixture
def limited_identity(aws: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Switch to an IAM user allowed everything but sagemaker:Search and s3:GetObject, with IAM enforced."""
    import boto3

    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName="limited")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["sagemaker:Search", "s3:GetObject"], "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="limited", PolicyName="limited", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    # boto3's default session keeps the credentials it first read; start a new one.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    requests.post(f"{aws}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        yield
    finally:
        requests.post(f"{aws}/moto-api/reset-auth", data=b"inf", timeout=10)


def test_missing_permissions_are_named(tmp_path: Path, aws: str, request: pytest.FixtureRequest) -> None:
    name = launch(tmp_path, "exp-a")
    request.getfixturevalue("limited_identity")

    listed = run_cli("list", expect_exit=1).output
    denied = (
        "Error: Listing training jobs was denied: your AWS identity lacks the 'sagemaker:Search' permission"
    )
    assert f"{denied}, or a policy forbids the call." in listed
    shown = run_cli("show", name, expect_exit=1).output
    assert f"Error: Reading s3://{BUCKET}/exp-a/{name}/config/record.json was denied" in shown
    assert "lacks the 's3:GetObject' permission" in shown


def test_rejected_credentials_are_named(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    requests.post(f"{aws}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        listed = run_cli("list", expect_exit=1).output
    finally:
        requests.post(f"{aws}/moto-api/reset-auth", data=b"inf", timeout=10)
    assert listed.startswith("Error: Listing training jobs: AWS rejected your credentials (")
    assert "InvalidClientTokenId" in listed
