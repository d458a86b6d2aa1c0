"""A launch under real faults: a cut link, a stall and Ctrl-C, a rejected or lost CreateTrainingJob,
no credentials, no endpoint, no bucket, an SDK defaults file the SDK refuses. Either the job exists
with all its files, or nothing of it is left in S3, and the output is one paragraph, never a traceback.

The launcher runs as a real process and reaches the loopback AWS endpoint through a fault proxy
(tests/support/aws_dialect.py's ``faulty_endpoint``); the checks read the bucket and the jobs from that
endpoint, with the dialect's first-call throttling and not-found-after-create window switched off.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from support.aws import BUCKET, aws_environment, s3_keys, s3_text, training_jobs
from support.aws_dialect import AwsDialect, Faults, faulty_endpoint, operation_marker
from support.commands import REPO_ROOT, python_command, run_cli

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
CREATE_TARGET = operation_marker("SageMaker.CreateTrainingJob")
CREATE_TUNING_TARGET = operation_marker("SageMaker.CreateHyperParameterTuningJob")


@pytest.fixture(autouse=True)
def _only_the_faults(aws: str, session_dialect: AwsDialect | None) -> None:
    """Retries are off in these launches, so a throttled first call would end them before any fault does;
    and the jobs are read back (support.aws.training_jobs) the moment a launch ends, inside the window in
    which a new job is not found yet. Both dialect behaviours have their own tests (test_aws_dialect.py)."""
    if session_dialect:
        session_dialect.knobs.throttle_first_calls = False
        session_dialect.knobs.not_found_after_create = 0


def input_folder(tmp_path: Path, files: int = 40, size: int = 64 * 1024) -> Path:
    """A local channel big enough that the upload is under way when the fault strikes."""
    folder = tmp_path / "extra"
    folder.mkdir()
    for index in range(files):
        (folder / f"part-{index:02d}.bin").write_bytes(os.urandom(size))
    return folder


def launch(endpoint: str, *overrides: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **aws_environment(endpoint), "AWS_MAX_ATTEMPTS": "1", **environment}
    return subprocess.run(
        python_command("--config", EXAMPLE, *overrides),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=180,
        check=False,
    )


def assert_nothing_left(done: subprocess.CompletedProcess[str], exit_code: int = 1) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == exit_code, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert s3_keys() == [], "a failed launch left objects in the bucket"
    assert training_jobs() == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_link_cut_mid_upload_leaves_nothing(aws: str, tmp_path: Path) -> None:
    folder = input_folder(tmp_path)
    with faulty_endpoint(aws, Faults(cut_after_bytes=900_000)) as proxy:
        done = launch(proxy, "INPUTS.extra", str(folder))
    assert_nothing_left(done)
    assert "connection to AWS broke" in done.stderr
    assert "No job was created, and the" in done.stderr and "were removed" in done.stderr


def test_ctrl_c_during_the_upload_exits_130_and_leaves_nothing(aws: str, tmp_path: Path) -> None:
    folder = input_folder(tmp_path)
    faults = Faults(stall_after_bytes=700_000)
    with faulty_endpoint(aws, faults) as proxy:
        env = {**os.environ, **aws_environment(proxy), "AWS_MAX_ATTEMPTS": "1"}
        process = subprocess.Popen(
            python_command("--config", EXAMPLE, "INPUTS.extra", str(folder)),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert faults.stalled.wait(60), "the upload never reached the stall"
        process.send_signal(signal.SIGINT)
        faults.released.set()
        stdout, stderr = process.communicate(timeout=120)
    assert_nothing_left(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), 130)
    assert "Interrupted: No job was created" in stderr


def test_a_rejected_create_training_job_leaves_nothing(aws: str) -> None:
    with faulty_endpoint(aws, Faults(reject_marker=CREATE_TARGET)) as proxy:
        done = launch(aws, AWS_ENDPOINT_URL_SAGEMAKER=proxy)
    assert_nothing_left(done)
    assert "ValidationException: rejected by the test proxy" in done.stderr
    assert "No job was created" in done.stderr


def test_a_lost_answer_after_the_job_was_created_keeps_the_job_and_its_files(aws: str) -> None:
    with faulty_endpoint(aws, Faults(drop_answer_marker=CREATE_TARGET)) as proxy:
        done = launch(aws, AWS_ENDPOINT_URL_SAGEMAKER=proxy)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    [job] = training_jobs()
    assert f"Training job {job['TrainingJobName']} was created all the same" in done.stderr
    keys = s3_keys()
    assert {key.rsplit("/", 1)[1] for key in keys} >= {"record.json", "request.json", "sagemaker_config.yaml"}


def tuning_launch(endpoint: str, tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """A bayesian sweep's launch (one tuning job) with a local input folder to stage as well."""
    config = tmp_path / "tuning.yaml"
    config.write_text(
        json.dumps(
            {
                "_BASE_": EXAMPLE,
                "INPUTS": {"extra": str(input_folder(tmp_path, files=4))},
                "SWEEP": {
                    "STRATEGY": "bayesian",
                    "PARAMETERS": {"SOLVER.BASE_LR": {"MIN": 0.001, "MAX": 0.1, "SCALE": "log"}},
                    "OBJECTIVE": {"METRIC": "validation:accuracy"},
                },
            }
        )
    )
    env = {**os.environ, **aws_environment(endpoint), "AWS_MAX_ATTEMPTS": "1", **environment}
    return subprocess.run(
        python_command("sweep", "--config", str(config)),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=180,
        check=False,
    )


def tuning_jobs() -> list[str]:
    import boto3

    summaries = boto3.client("sagemaker").list_hyper_parameter_tuning_jobs()[
        "HyperParameterTuningJobSummaries"
    ]
    return [summary["HyperParameterTuningJobName"] for summary in summaries]


def test_a_rejected_tuning_job_leaves_nothing(aws: str, tmp_path: Path) -> None:
    with faulty_endpoint(aws, Faults(reject_marker=CREATE_TUNING_TARGET)) as proxy:
        done = tuning_launch(aws, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=proxy)
    assert_nothing_left(done)
    assert tuning_jobs() == []
    assert "ValidationException: rejected by the test proxy" in done.stderr
    assert "No job was created, and the" in done.stderr and "were removed" in done.stderr


def test_a_lost_answer_after_the_tuning_job_was_created_keeps_it_and_its_files(
    aws: str, tmp_path: Path
) -> None:
    with faulty_endpoint(aws, Faults(drop_answer_marker=CREATE_TUNING_TARGET)) as proxy:
        done = tuning_launch(aws, tmp_path, AWS_ENDPOINT_URL_SAGEMAKER=proxy)
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    [name] = tuning_jobs()
    assert f"Tuning job {name} was created all the same" in done.stderr
    assert f"run_sagemaker_job.py list --sweep {name}'" in done.stderr
    names = {key.rsplit("/", 1)[1] for key in s3_keys()}
    assert names >= {"record.json", "request.json", "sagemaker_config.yaml", "part-00.bin"}


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:{port}"}, "could not reach the AWS endpoint"),
        ({"AWS_ENDPOINT_URL_SAGEMAKER": "http://127.0.0.1:{port}"}, "could not reach the AWS endpoint"),
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials found"),
    ],
)
def test_an_unreachable_or_unauthenticated_aws_writes_nothing(
    aws: str, environment: dict[str, str], expected: str
) -> None:
    port = closed_port()
    resolved = {name: value.format(port=port) for name, value in environment.items()}
    done = launch(aws, **resolved)
    assert_nothing_left(done)
    assert expected in done.stderr


def test_a_missing_bucket_is_named(aws: str) -> None:
    done = launch(aws, "S3.BUCKET", "no-such-team-bucket")
    assert_nothing_left(done)
    assert "does not exist. Check S3.BUCKET" in done.stderr


TEAM_SDK_DEFAULTS = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK: {Modules: {TelemetryOptOut: true}}
  TrainingJob:
    OutputDataConfig: {KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/team-key'}
    VpcConfig: {SecurityGroupIds: [sg-0123456789abcdef0], Subnets: [subnet-0123456789abcdef0]}
"""


def test_a_team_sdk_defaults_file_still_shapes_the_job(aws: str, tmp_path: Path) -> None:
    """In a fresh process the launch's own work ends while the SDK is still importing on its thread;
    the job is created all the same, with the defaults file's KMS key and VPC."""
    defaults = tmp_path / "sdk_defaults.yaml"
    defaults.write_text(TEAM_SDK_DEFAULTS)
    done = launch(aws, SAGEMAKER_USER_CONFIG_OVERRIDE=str(defaults))
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr[-3000:]
    [job] = training_jobs()
    [request_key] = [key for key in s3_keys() if key.endswith("/config/request.json")]
    request = json.loads(s3_text(request_key))
    assert request["TrainingJobName"] == job["TrainingJobName"]
    assert request["OutputDataConfig"]["KmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/team-key"
    assert request["VpcConfig"] == {
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "Subnets": ["subnet-0123456789abcdef0"],
    }


@pytest.mark.parametrize(
    ("defaults_text", "expected"),
    [
        (
            TEAM_SDK_DEFAULTS.replace("VpcConfig: {", "VpcConfig: [{").replace("]}\n", "]}]\n"),
            "SageMaker.TrainingJob.VpcConfig must be a mapping",
        ),
        (
            TEAM_SDK_DEFAULTS.replace(
                "OutputDataConfig: {KmsKeyId:", "OutputDataConfig: {KmsKeyId: ["
            ).replace("team-key'}", "team-key']}"),
            "SageMaker.TrainingJob.OutputDataConfig.KmsKeyId must be text",
        ),
        ("SageMaker: [oops", "is not valid YAML"),
        (None, "does not exist, yet SAGEMAKER_USER_CONFIG_OVERRIDE names it"),
    ],
    ids=["a list for a mapping", "a list for a text", "not YAML", "missing"],
)
def test_an_unusable_sdk_defaults_file_is_one_paragraph_and_leaves_nothing(
    aws: str, tmp_path: Path, defaults_text: str | None, expected: str
) -> None:
    defaults = tmp_path / "sdk_defaults.yaml"
    if defaults_text is not None:
        defaults.write_text(defaults_text)
    done = launch(aws, SAGEMAKER_USER_CONFIG_OVERRIDE=str(defaults))
    assert_nothing_left(done)
    assert f"The SageMaker SDK defaults file {defaults} cannot be used" in done.stderr
    assert expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_taken_job_name_never_overwrites_another_jobs_files(aws: str) -> None:
    import boto3

    from sagemaker_launcher.config.spec_building import job_spec
    from sagemaker_launcher.errors import LauncherError
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker, resolve

    spec = job_spec(resolve(EXAMPLE, []), [])
    key = spec.prefix.removeprefix(f"s3://{BUCKET}/") + "config/record.json"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b'{"job_name": "the first one"}')
    with pytest.raises(LauncherError, match=f"Job name {spec.name} is taken"):
        launch_on_sagemaker(spec)
    kept = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert kept == b'{"job_name": "the first one"}'
    assert training_jobs() == []


@pytest.mark.parametrize("command", [["list"], ["show", "a-job"], ["logs", "a-job"], ["stop", "a-job"]])
def test_ctrl_c_exits_130_on_the_job_commands(aws: str, command: list[str]) -> None:
    faults = Faults(stall_after_bytes=0)
    with faulty_endpoint(aws, faults) as proxy:
        env = {**os.environ, **aws_environment(proxy)}
        process = subprocess.Popen(
            python_command(*command),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert faults.stalled.wait(60), "the command never called AWS"
        process.send_signal(signal.SIGINT)
        faults.released.set()
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    # One line: "Interrupted.", or for logs "Stopped following; job ... keeps running."
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr


def interrupted_launch(
    aws: str, faults: Faults, signum: int, *overrides: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """A launch through the fault proxy, sent ``signum`` once the fault holds it; its result and the
    seconds from the signal to its end."""
    with faulty_endpoint(aws, faults) as proxy:
        env = {**os.environ, **aws_environment(proxy), "AWS_MAX_ATTEMPTS": "1"}
        process = subprocess.Popen(
            python_command("--config", EXAMPLE, *overrides),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert faults.stalled.wait(60), "the launch never reached the fault"
        process.send_signal(signum)
        signalled = time.monotonic()
        time.sleep(0.5)  # the request goes on to the service a moment after the interrupt
        faults.released.set()
        stdout, stderr = process.communicate(timeout=120)
    done = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return done, time.monotonic() - signalled


def test_ctrl_c_while_create_training_job_is_on_its_way_keeps_the_job_it_creates(aws: str) -> None:
    """The request reaches SageMaker after the interrupt: the launcher waits for the answer and keeps the
    job's files, rather than removing them from under a job that runs."""
    done, _ = interrupted_launch(aws, Faults(stall_request_marker=CREATE_TARGET), signal.SIGINT)
    assert done.returncode == 130 and "Traceback" not in done.stderr, done.stderr
    [job] = training_jobs()
    name = job["TrainingJobName"]
    assert "waiting for SageMaker's answer" in done.stderr
    assert f"Interrupted: Training job {name} was created all the same" in done.stderr
    assert {key.rsplit("/", 1)[1] for key in s3_keys()} == {
        "record.json", "request.json", "sagemaker_config.yaml", "training_config.yaml"
    }  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_mid_upload_undo_like_ctrl_c(aws: str, tmp_path: Path, signum: int) -> None:
    done, _ = interrupted_launch(
        aws, Faults(stall_after_bytes=700_000), signum, "INPUTS.extra", str(input_folder(tmp_path))
    )
    assert_nothing_left(done, 130)
    [line] = done.stderr.strip().splitlines()[-1:]
    assert line.startswith("Interrupted: No job was created, and the"), done.stderr


def test_a_network_blip_during_the_uploads_does_not_defeat_the_undo(aws: str, tmp_path: Path) -> None:
    """The upload fails in a 0.8 s outage, and the undo, starting inside it, retries until it is over."""
    folder = input_folder(tmp_path)
    with faulty_endpoint(aws, Faults(cut_after_bytes=900_000, outage_seconds=0.8)) as proxy:
        done = launch(proxy, "INPUTS.extra", str(folder))
    assert_nothing_left(done)
    assert "No job was created, and the" in done.stderr and "were removed" in done.stderr


def test_clean_up_removes_what_a_failed_launch_left_and_refuses_a_live_jobs_files(aws: str) -> None:
    import boto3

    s3 = boto3.client("s3")
    prefix = "digits-baseline/digits-20261201-000000-dead/"
    s3.put_object(Bucket=BUCKET, Key=prefix + "config/record.json", Body=b"{}")
    s3.create_multipart_upload(Bucket=BUCKET, Key=prefix + "inputs/extra/big.bin")
    said = run_cli("clean-up", f"s3://{BUCKET}/{prefix}").output
    assert "Removed 1 file(s)" in said and "aborted 1 unfinished upload(s)" in said
    assert s3_keys() == [] and s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    launched = run_cli("--config", EXAMPLE).output
    live = launched.split("configs and record: ")[1].split()[0].removesuffix("config/")
    refused = run_cli("clean-up", live, expect_exit=1).output
    assert "exists, so" in refused and "nothing was removed" in refused
    assert len(s3_keys()) == 4
