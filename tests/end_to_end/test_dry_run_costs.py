"""The dry run's cost bound: price x INSTANCE_COUNT x MAX_RUN_SECONDS from the AWS Price List.

Prices come from the AWS dialect (tests/support/aws_dialect.py), which answers GetProducts in the Price
List's own shape (each entry a product as a JSON string, paged with NextToken), reached through
``AWS_ENDPOINT_URL_PRICING`` as boto3 reaches any endpoint; moto's own server has no Price List (it
answers 500). Where no price comes, the dry run says so in one line and still succeeds.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.aws import s3_keys
from support.aws_dialect import AwsDialect
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.container import write_digits_data

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
SPOT = str(REPO_ROOT / "configs/sagemaker_spot_config.yaml")
GET_PRODUCTS = "AWSPriceListService.GetProducts"


@pytest.fixture
def price_list(aws_dialect: AwsDialect, monkeypatch: pytest.MonkeyPatch) -> AwsDialect:
    """The dialect's Price List as this process's pricing endpoint: ml.g5.xlarge in us-east-1 at USD 1.408
    an hour for training (notebook, hosting and processing priced apart), one page per question unless a
    test pages it. The dry run asks once, quickly, by design: a throttled answer has its own test."""
    aws_dialect.knobs.throttle_first_calls = False
    aws_dialect.knobs.price_page_size = 100
    monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", aws_dialect.url)
    return aws_dialect


def questions(dialect: AwsDialect) -> int:
    return dialect.answered.get(GET_PRODUCTS, 0)


def dry_run(*args: str) -> tuple[dict[str, Any], list[str]]:
    """A launch's dry run: its request (stdout, JSON) and its lines for people (stderr)."""
    result = run_cli(*args, "--dry-run")
    return json.loads(result.stdout), result.stderr.splitlines()


def test_dry_run_bounds_the_cost_with_the_training_price(price_list: AwsDialect) -> None:
    request, lines = dry_run(
        "--config", EXAMPLE, "SAGEMAKER.INSTANCE_COUNT", "2", "SAGEMAKER.MAX_RUN_SECONDS", "5400"
    )
    assert request["ResourceConfig"]["InstanceCount"] == 2
    # 1.408 an hour x 2 instances x 1.5 h: the training product, not the dearer processing one.
    [line] = lines
    assert line.startswith(
        "Cost estimate: at most USD 4.22, an upper bound: on-demand ml.g5.xlarge in us-east-1"
    )
    assert "USD 1.408 an hour x 2 instances x 1.5 h" in line and "Spot" not in line
    assert questions(price_list) == 1
    body = price_list.requests[GET_PRODUCTS].json
    assert body["ServiceCode"] == "AmazonSageMaker"
    assert {item["Field"]: item["Value"] for item in body["Filters"]} == {
        "regionCode": "us-east-1",
        "instanceName": "ml.g5.xlarge",
    }
    assert s3_keys() == []


def test_a_spot_dry_run_says_its_bound_is_the_on_demand_one(price_list: AwsDialect) -> None:
    _, lines = dry_run("--config", SPOT)
    [line] = lines
    assert "at most USD 2.82" in line  # 1.408 x 2 instances x 1 h
    assert "Spot jobs bill less: this is their on-demand bound." in line


def test_a_paged_answer_is_read_to_its_last_page(price_list: AwsDialect) -> None:
    price_list.knobs.price_page_size = 1  # one product a page: the training price is on a later page
    _, lines = dry_run("--config", EXAMPLE)
    assert lines[0].startswith("Cost estimate: at most USD 1.41"), lines
    assert questions(price_list) == 4, "one page for each of the instance type's four products"


def test_a_throttled_price_question_is_asked_once_and_the_dry_run_goes_on(price_list: AwsDialect) -> None:
    price_list.throttle(GET_PRODUCTS)
    request, lines = dry_run("--config", EXAMPLE)
    assert request["TrainingJobName"].startswith("digits-")
    assert lines == [
        "no cost estimate: the AWS Price List refused the question (ThrottlingException: Rate exceeded)"
    ]
    assert questions(price_list) == 0 and price_list.throttled[GET_PRODUCTS] == 1


def test_moto_has_no_price_list_so_the_dry_run_says_so_and_succeeds(aws: str, moto_server: str) -> None:
    # Its own process: moto prints a line to the test process's stdout for the question it cannot route.
    done = subprocess.run(
        python_command("--config", EXAMPLE, "--dry-run"),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL_PRICING": moto_server},
        check=True,
    )
    assert json.loads(done.stdout)["TrainingJobName"].startswith("digits-")
    assert done.stderr.splitlines() == [
        "no cost estimate: the AWS Price List answered HTTP 500, an error on its side"
    ]


def test_the_tests_own_closed_price_list_is_one_line_too(aws: str) -> None:
    request, lines = dry_run("--config", EXAMPLE)
    assert request["TrainingJobName"].startswith("digits-")
    [line] = lines
    assert line.startswith("no cost estimate: the AWS Price List could not be reached"), line


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        (
            True,
            "no cost estimate: the AWS Price List could not be reached (Could not connect to the endpoint",
        ),
        (False, "no cost estimate: no AWS credentials were found to ask the AWS Price List with"),
    ],
)
def test_no_endpoint_or_no_credentials_is_one_line(tmp_path: Path, credentials: bool, expected: str) -> None:
    # A process of its own: boto3 keeps the credentials it has found for the life of a process.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"}
    }
    environment.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    environment.pop("AWS_ENDPOINT_URL_PRICING", None)
    if credentials:
        environment.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    done = subprocess.run(
        python_command("--config", EXAMPLE, "--dry-run"),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        check=True,
    )
    assert json.loads(done.stdout)["ResourceConfig"]["InstanceType"] == "ml.g5.xlarge"
    [line] = done.stderr.splitlines()
    assert line.startswith(expected), line


def test_an_instance_type_the_price_list_does_not_list_is_named(price_list: AwsDialect) -> None:
    price_list.knobs.prices = {("us-east-1", "ml.m5.large"): 0.115}
    _, lines = dry_run("--config", EXAMPLE)
    assert lines == [
        "no cost estimate: the AWS Price List lists no on-demand training price for ml.g5.xlarge in us-east-1"
    ]


def test_a_grid_sweep_bounds_each_job_and_the_total(price_list: AwsDialect, tmp_path: Path) -> None:
    config = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "_BASE_": EXAMPLE,
            "SWEEP": {
                "STRATEGY": "grid",
                "PARAMETERS": {"SAGEMAKER.INSTANCE_COUNT": [1, 2], "SOLVER.BASE_LR": [0.01]},
                "OBJECTIVE": {"METRIC": "validation:accuracy"},
            },
        },
    )
    result = run_cli("sweep", "--config", str(config), "--dry-run")
    assert len(json.loads(result.stdout)["points"]) == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Cost estimate per job, an upper bound")
    assert lines[1].startswith("  1. SAGEMAKER.INSTANCE_COUNT=1 SOLVER.BASE_LR=0.01: at most USD 1.41 (")
    assert lines[2].startswith("  2. SAGEMAKER.INSTANCE_COUNT=2 SOLVER.BASE_LR=0.01: at most USD 2.82 (")
    assert lines[3] == "Cost estimate in total: at most USD 4.22 for all 2 jobs."
    assert questions(price_list) == 1, "one question per instance type and region"


def test_a_sweep_point_without_a_price_is_named_and_leaves_no_total(
    price_list: AwsDialect, tmp_path: Path
) -> None:
    config = write_yaml(
        tmp_path / "sweep.yaml",
        {
            "_BASE_": EXAMPLE,
            "SWEEP": {
                "PARAMETERS": {"SAGEMAKER.INSTANCE_TYPE": ["ml.g5.xlarge", "ml.g5.2xlarge"]},
                "OBJECTIVE": {"METRIC": "validation:accuracy"},
            },
        },
    )
    lines = run_cli("sweep", "--config", str(config), "--dry-run").stderr.splitlines()
    assert lines[1].startswith("  1. SAGEMAKER.INSTANCE_TYPE=ml.g5.xlarge: at most USD 1.41 (")
    assert lines[2] == (
        "  2. SAGEMAKER.INSTANCE_TYPE=ml.g5.2xlarge: no cost estimate: the AWS Price List lists no on-demand "
        "training price for ml.g5.2xlarge in us-east-1"
    )
    assert lines[3] == "no cost estimate: in total, since 1 of the 2 have none."
    assert questions(price_list) == 2


def test_a_bayesian_sweep_bounds_each_training_job_and_all_of_them(
    price_list: AwsDialect, tmp_path: Path
) -> None:
    config = write_yaml(
        tmp_path / "tuning.yaml",
        {
            "_BASE_": EXAMPLE,
            "SWEEP": {
                "STRATEGY": "bayesian",
                "PARAMETERS": {"SOLVER.BASE_LR": {"MIN": 0.001, "MAX": 0.1, "SCALE": "log"}},
                "OBJECTIVE": {"METRIC": "validation:accuracy"},
                "MAX_JOBS": 6,
            },
        },
    )
    result = run_cli("sweep", "--config", str(config), "--dry-run")
    assert "HyperParameterTuningJobConfig" in json.loads(result.stdout)
    [line] = result.stderr.splitlines()
    assert line.startswith("Cost estimate: at most USD 1.41 per training job (on-demand ml.g5.xlarge")
    assert "at most USD 8.45 for all 6 (SWEEP.MAX_JOBS)" in line


def test_a_local_sweep_needs_no_price(tmp_path: Path) -> None:
    data = write_digits_data(tmp_path / "digits")
    config = write_yaml(
        tmp_path / "local.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs/local_process.yaml"),
            "INPUTS": {"train": str(data / "train"), "validation": str(data / "validation")},
            "SWEEP": {
                "PARAMETERS": {"SOLVER.BASE_LR": [0.01, 0.001]},
                "OBJECTIVE": {"METRIC": "validation:accuracy"},
            },
        },
    )
    result = run_cli("sweep", "--config", str(config), "--dry-run")
    assert result.stderr.splitlines() == [
        "no cost estimate: local_process runs on this machine, which SageMaker does not bill"
    ]
