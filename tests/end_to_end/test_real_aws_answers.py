"""The launcher against AWS's own answers where moto speaks differently (tests/support/aws_dialect.py):
Search in a shared account, refused deletes, a bucket that requires SSE-KMS, throttling, a mistyped
profile, a job's stages and warm pool. Each test sets the dialect's knobs for the behaviour it meets.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import yaml
from support.aws import BUCKET, REGION, aws_environment, described, s3_keys, s3_text, training_jobs
from support.aws_dialect import AwsDialect, Faults, faulty_endpoint, operation_marker
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
SEARCH = "SageMaker.Search"
TEAM_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def launch(*overrides: str) -> str:
    output = run_cli("--config", EXAMPLE, *overrides).output
    return re.search(r"Started training job (\S+)", output).group(1)


def launch_process(endpoint: str, *overrides: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        python_command("--config", EXAMPLE, *overrides),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **aws_environment(endpoint), **environment},
        timeout=180,
        check=False,
    )


# ---------------------------------------------------------------------------------------------- #
# list in an account shared with other teams
# ---------------------------------------------------------------------------------------------- #
def test_list_asks_only_for_this_tools_jobs_in_an_account_of_10000_others(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.foreign_jobs = 10_000
    names = [launch("S3.EXPERIMENT_NAME", experiment) for experiment in ("vision/a", "vision/b", "audio/a")]
    aws_dialect.calls.clear()

    listed = run_cli("list").output.splitlines()[1:]
    assert sorted(line.split()[0] for line in listed) == sorted(names)
    assert aws_dialect.calls[SEARCH] == 1, "one page: the filter keeps the other teams' jobs out"
    request = aws_dialect.requests[SEARCH].json
    assert {"Name": "Tags.sm-launcher:experiment", "Operator": "Exists"} in request["SearchExpression"][
        "Filters"
    ]

    aws_dialect.calls.clear()
    folder = run_cli("list", "--experiment", "vision/").output
    assert names[0] in folder and names[1] in folder and names[2] not in folder
    assert aws_dialect.calls[SEARCH] == 1

    aws_dialect.calls.clear()
    everything = run_cli("list", "--all", "--limit", "20").output.splitlines()[1:]
    assert len(everything) == 20 and aws_dialect.calls[SEARCH] == 1, "the newest 20 come on the first page"


# ---------------------------------------------------------------------------------------------- #
# An undo that may not delete, and unfinished uploads
# ---------------------------------------------------------------------------------------------- #
def test_an_undo_that_may_not_delete_names_what_it_left_and_the_permission(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.deny_delete_prefix = "digits-baseline/"
    with faulty_endpoint(
        aws_dialect.url, Faults(reject_marker=operation_marker("SageMaker.CreateTrainingJob"))
    ) as proxy:
        done = launch_process(aws_dialect.url, AWS_ENDPOINT_URL_SAGEMAKER=proxy)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    left = s3_keys()
    assert len(left) == 4, left
    assert (
        "No job was created; 0 file(s) it had written were removed, but S3 refused to remove 4:"
        in done.stderr
    )
    assert f"{left[0]} (AccessDenied)" in done.stderr and "s3:DeleteObject" in done.stderr
    prefix = left[0].split("config/")[0]
    assert f"clean-up s3://{BUCKET}/{prefix}" in done.stderr


def test_removal_aborts_every_unfinished_upload_page_by_page(aws_dialect: AwsDialect) -> None:
    from sagemaker_launcher.aws.storage import JobStorage

    aws_dialect.knobs.multipart_page_size = 2  # S3 answers 1,000 a page; five uploads take three here
    s3 = boto3.client("s3", region_name=REGION)
    for index in range(5):
        s3.create_multipart_upload(Bucket=BUCKET, Key=f"exp/job/inputs/part-{index}")
    s3.put_object(Bucket=BUCKET, Key="exp/job/config/record.json", Body=b"{}")
    removal = JobStorage(REGION).remove_prefix(f"s3://{BUCKET}/exp/job/")
    assert (removal.removed, removal.aborted, removal.refused) == (1, 5, [])
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


# ---------------------------------------------------------------------------------------------- #
# A bucket whose policy requires SSE-KMS
# ---------------------------------------------------------------------------------------------- #
def test_a_bucket_that_requires_sse_kms_refuses_a_launch_without_a_key(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.require_kms_key = TEAM_KEY
    done = launch_process(aws_dialect.url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "was denied" in done.stderr and "SSE-KMS: set S3.KMS_KEY_ID" in done.stderr, done.stderr
    assert s3_keys() == [] and training_jobs() == []


def test_s3_kms_key_id_encrypts_every_upload_and_the_jobs_output(
    aws_dialect: AwsDialect, tmp_path: Path
) -> None:
    aws_dialect.knobs.require_kms_key = TEAM_KEY
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "table.csv").write_text("a,b\n1,2\n")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    name = launch(
        "S3.KMS_KEY_ID", TEAM_KEY, "INPUTS.extra", str(extra), "SAGEMAKER.SOURCE_DIR", str(code),
        "SAGEMAKER.ENTRY_POINT", "train.py", "TRAINING.CONFIG_FILE", "",
    )  # fmt: skip
    keys = s3_keys()
    assert {key.split(f"{name}/", 1)[1] for key in keys} == {
        "inputs/extra/table.csv", "code/sourcedir.tar.gz", "config/record.json", "config/request.json",
        "config/sagemaker_config.yaml",
    }  # fmt: skip
    s3 = boto3.client("s3", region_name=REGION)
    for key in keys:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head.get("ServerSideEncryption") == "aws:kms", key
    [job] = training_jobs()
    assert job["OutputDataConfig"]["KmsKeyId"] == TEAM_KEY


def test_the_old_key_name_is_still_read_and_both_names_differently_are_refused(
    aws: str, tmp_path: Path
) -> None:
    old = write_yaml(
        tmp_path / "old.yaml", {"_BASE_": EXAMPLE, "S3": {"OUTPUT_KMS_KEY_ID": "alias/old-name"}}
    )
    request = json.loads(run_cli("--config", str(old), "--dry-run").stdout)
    assert request["OutputDataConfig"]["KmsKeyId"] == "alias/old-name"
    request = json.loads(
        run_cli("--config", EXAMPLE, "S3.OUTPUT_KMS_KEY_ID", "alias/cli", "--dry-run").stdout
    )
    assert request["OutputDataConfig"]["KmsKeyId"] == "alias/cli"

    both = write_yaml(
        tmp_path / "both.yaml",
        {"_BASE_": EXAMPLE, "S3": {"OUTPUT_KMS_KEY_ID": "alias/a", "KMS_KEY_ID": "alias/b"}},
    )
    refused = run_cli("--config", str(both), "--dry-run", expect_exit=1).output
    assert (
        "S3.OUTPUT_KMS_KEY_ID (the old name of S3.KMS_KEY_ID) is 'alias/a' and S3.KMS_KEY_ID is 'alias/b'"
        in refused
    )
    refused = run_cli(
        "--config",
        EXAMPLE,
        "S3.OUTPUT_KMS_KEY_ID",
        "alias/a",
        "S3.KMS_KEY_ID",
        "alias/b",
        "--dry-run",
        expect_exit=1,
    )
    assert "They are one setting: keep only S3.KMS_KEY_ID." in refused.output

    name = re.search(r"Started training job (\S+)", run_cli("--config", str(old)).output).group(1)
    resolved = yaml.safe_load(s3_text(f"digits-baseline/{name}/config/sagemaker_config.yaml"))
    assert resolved["S3"] == {**resolved["S3"], "KMS_KEY_ID": "alias/old-name"}
    assert "OUTPUT_KMS_KEY_ID" not in resolved["S3"]


def test_an_old_jobs_recorded_config_with_the_old_key_name_reproduces(aws: str) -> None:
    parent = launch("S3.KMS_KEY_ID", "alias/team")
    key = f"digits-baseline/{parent}/config/sagemaker_config.yaml"
    recorded = yaml.safe_load(s3_text(key))
    recorded["S3"]["OUTPUT_KMS_KEY_ID"] = recorded["S3"].pop("KMS_KEY_ID")
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=key, Body=yaml.safe_dump(recorded).encode()
    )
    request = json.loads(run_cli("reproduce", parent, "--dry-run").stdout)
    assert request["OutputDataConfig"]["KmsKeyId"] == "alias/team"


# ---------------------------------------------------------------------------------------------- #
# Throttling, retries, and botocore's own errors named as what they are
# ---------------------------------------------------------------------------------------------- #
def test_a_throttled_create_is_retried_and_an_endless_throttle_leaves_nothing(
    aws_dialect: AwsDialect,
) -> None:
    aws_dialect.throttle("SageMaker.CreateTrainingJob", 2)
    launch()
    assert len(training_jobs()) == 1 and aws_dialect.throttled["SageMaker.CreateTrainingJob"] >= 2

    aws_dialect.throttle("SageMaker.CreateTrainingJob", 3)  # every attempt of standard mode's three
    done = launch_process(aws_dialect.url)
    assert done.returncode == 1 and "ThrottlingException" in done.stderr and "Traceback" not in done.stderr
    assert "No job was created, and the 4 file(s) it had written to S3 were removed." in done.stderr
    assert len(training_jobs()) == 1


def test_a_mistyped_profile_is_named_not_called_a_network_fault(aws: str) -> None:
    done = launch_process(aws, AWS_PROFILE="no-such-profile-here")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "The config profile (no-such-profile-here) could not be found" in done.stderr
    assert "Check AWS_PROFILE" in done.stderr and "network" not in done.stderr


# ---------------------------------------------------------------------------------------------- #
# What a launched job did: its stages, its warm pool
# ---------------------------------------------------------------------------------------------- #
def wait_for(name: str, status: str, seconds: float = 20) -> dict[str, Any]:
    client = boto3.client("sagemaker", region_name=REGION)
    deadline = time.monotonic() + seconds
    while (job := described(client, name))["TrainingJobStatus"] != status:
        assert time.monotonic() < deadline, job["TrainingJobStatus"]
        time.sleep(0.2)
    return job


def test_show_says_where_the_time_went_and_what_the_warm_pool_did(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.lifecycle_step_s = 0.3
    first = launch("SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", "1800")
    wait_for(first, "Completed")
    shown = run_cli("show", first).output
    assert "where the time went:" in shown
    stages = re.findall(r"^    (\w+)\b", shown, re.MULTILINE)
    assert stages[:2] == ["Starting", "Downloading"] and "Training" in stages and stages[-1] == "Completed"
    assert "waiting for capacity and starting the instances" in shown
    assert re.search(r"warm pool:\s+Available", shown), shown

    second = launch("SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", "1800")
    wait_for(second, "Completed")
    assert re.search(rf"warm pool:\s+Reused.*reused by job {second}", run_cli("show", first).output)


def test_show_names_a_spot_interruption_among_the_stages(aws_dialect: AwsDialect) -> None:
    aws_dialect.knobs.lifecycle_step_s = 0.3
    aws_dialect.knobs.interrupt_spot = True
    name = re.search(
        r"Started training job (\S+)",
        run_cli("--config", str(REPO_ROOT / "configs/sagemaker_spot_config.yaml")).output,
    ).group(1)
    job = wait_for(name, "Completed", 30)
    assert "Interrupted" in [step["Status"] for step in job["SecondaryStatusTransitions"]]
    shown = run_cli("show", name).output
    assert "spot capacity reclaimed" in shown and "spot saved" in shown
