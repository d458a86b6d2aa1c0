"""The loopback AWS endpoint's side of the tests: names, environment, and what the endpoint holds."""

from __future__ import annotations

import json
import os
import time
from typing import Any

BUCKET = "my-team-sagemaker"
REGION = "us-east-1"
# The account moto's server answers for.
ACCOUNT = "123456789012"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"

# moto has no Price List: it answers a dry run's price question with HTTP 500 and prints a line to
# this process's stdout, where CliRunner would mix it into the command's. So the question goes to a
# closed port and is answered "no cost estimate" at once; end_to_end/test_dry_run_costs.py asks moto.
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
    return [described(client, name) for name in names]


def described(client: Any, name: str, seconds: float = 5.0) -> dict[str, Any]:
    """DescribeTrainingJob, asked again while the job just created is still "not found" (as AWS may
    answer for a moment after CreateTrainingJob; the dialect does too)."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + seconds
    while True:
        try:
            return client.describe_training_job(TrainingJobName=name)
        except ClientError as error:
            if "not found" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
