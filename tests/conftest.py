"""Shared fixtures: a real AWS API endpoint on loopback (moto's server) and the real CLI.

The launcher under test is the code users run: boto3 and the SageMaker SDK reach the endpoint
through ``AWS_ENDPOINT_URL``, exactly as they would reach AWS. Nothing is patched.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from click.testing import CliRunner, Result

REPO_ROOT = Path(__file__).resolve().parents[1]
BUCKET = "my-team-sagemaker"
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server in this process on 127.0.0.1, on a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean endpoint with the team's bucket, reached by every boto3 client of this process."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    for name, value in aws_environment(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    import boto3

    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    yield moto_endpoint


# moto has no Price List: it answers a dry run's price question with HTTP 500 and prints a line to
# this process's stdout, where CliRunner would mix it into the command's. So the question goes to a
# closed port and is answered "no cost estimate" at once; tests/test_dry_run_costs.py asks moto too.
NO_PRICE_LIST = "http://127.0.0.1:9"


def aws_environment(endpoint: str) -> dict[str, str]:
    """Variables that point boto3 (and anything using it) at ``endpoint`` with dummy keys."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_PRICING": NO_PRICE_LIST,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths in the example configs are resolved from the repository root, as users run it."""
    monkeypatch.chdir(REPO_ROOT)


def run_cli(*args: str, expect_exit: int | None = 0) -> Result:
    """Invoke ``run_sagemaker_job.py`` with ``args``; check its exit code unless ``expect_exit`` is None."""
    from sagemaker_launcher.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    if expect_exit is not None:
        assert result.exit_code == expect_exit, f"exit {result.exit_code}\n{result.output}"
    return result


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    """Write a YAML experiment file and return its path."""
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def s3_keys(bucket: str = BUCKET) -> list[str]:
    """Every key in ``bucket`` on the endpoint."""
    import boto3

    pages = boto3.client("s3", region_name=REGION).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def s3_text(key: str, bucket: str = BUCKET) -> str:
    """The text of one object."""
    import boto3

    return boto3.client("s3", region_name=REGION).get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def s3_json(key: str, bucket: str = BUCKET) -> Any:
    """One JSON object, parsed."""
    return json.loads(s3_text(key, bucket))


def training_jobs() -> list[dict[str, Any]]:
    """Every training job the endpoint holds, described."""
    import boto3

    client = boto3.client("sagemaker", region_name=REGION)
    names = [job["TrainingJobName"] for job in client.list_training_jobs()["TrainingJobSummaries"]]
    return [client.describe_training_job(TrainingJobName=name) for name in names]


def python_command(*args: str) -> Sequence[str]:
    """``python run_sagemaker_job.py ARGS`` with this interpreter, for subprocess tests."""
    return [sys.executable, str(REPO_ROOT / "run_sagemaker_job.py"), *args]
