"""The one place boto3 clients are made, for launches and job commands alike.

boto3 is imported inside the function: ``--help`` and validation errors never pay for it. Every
client honours ``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_<SERVICE>``), as boto3 does, and retries
as botocore's standard retry mode does (throttling, 5xx answers, transient connection errors, with
exponential backoff and jitter, up to 3 attempts), unless a caller asks otherwise (the dry run's
price question makes one quick attempt).
"""

from __future__ import annotations

from typing import Any

from sagemaker_launcher.aws.faults import aws_errors

# Parallel reads (records of listed jobs, compared jobs, a launch's uploads) share one client; its
# pool fits them all.
RECORD_READERS = 16
STANDARD_RETRIES = {"mode": "standard"}


def aws_client(service: str, region: str | None, **settings: Any) -> Any:
    """A boto3 client for ``service`` in ``region`` (None: the profile's), with room for parallel reads.

    ``settings`` are further botocore ``Config`` settings, e.g. a quick question's short timeouts.
    """
    import boto3
    from botocore.config import Config

    settings.setdefault("retries", STANDARD_RETRIES)
    config = Config(max_pool_connections=RECORD_READERS, **settings)
    with aws_errors(f"Creating a {service} client", None):
        return boto3.client(service, region_name=region or None, config=config)
