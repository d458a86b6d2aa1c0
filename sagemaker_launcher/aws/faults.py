"""AWS and network failures turned into one-paragraph ``LauncherError`` messages that say what to do.

botocore is imported inside functions: the job commands must not pay for it before a call fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sagemaker_launcher.errors import CLI_COMMAND, LauncherError

_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    }
)
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


@contextmanager
def aws_errors(action: str, permission: str | None, job: str | None = None) -> Iterator[None]:
    """Turn botocore failures inside the block into one-paragraph ``LauncherError`` messages.

    ``action`` says what was being done ("Describing job X"), ``permission`` the IAM action it needs.
    """
    try:
        yield
    except Exception as error:
        message = aws_fault_message(error, action, permission, job)
        if message is None:
            raise
        raise LauncherError(message) from None


def aws_fault_message(
    error: BaseException, action: str, permission: str | None = None, job: str | None = None
) -> str | None:
    """One paragraph for an AWS or network fault; None when ``error`` is neither."""
    from boto3.exceptions import S3TransferFailedError, S3UploadFailedError
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(error, ClientError):
        return client_error_message(error, action, permission, job)
    if isinstance(error, NoRegionError):
        return (
            f"{action}: no AWS region is set. Pass --region (e.g. --region us-east-1), or set "
            "AWS_DEFAULT_REGION or 'region' in your AWS config profile."
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            f"{action}: no AWS credentials found. Run 'aws configure' or 'aws sso login', or set "
            "AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
        )
    if isinstance(error, EndpointConnectionError):
        return (
            f"{action}: could not reach the AWS endpoint ({one_line(str(error))}). Check the network, the "
            "region and AWS_ENDPOINT_URL if you set one."
        )
    if isinstance(error, BotoCoreError | S3UploadFailedError | S3TransferFailedError):
        # Connection closed or reset, timeouts, TLS and proxy failures, and S3 transfers that gave up.
        if "NoSuchBucket" in str(error):
            return (
                f"{action} failed: the bucket does not exist ({one_line(str(error))}). Check S3.BUCKET and "
                "the region, or create the bucket."
            )
        detail = f"{type(error).__name__}: {one_line(str(error))}"
        return f"{action} failed: the connection to AWS broke ({detail}). Check the network and try again."
    return None


def client_error_message(error: Any, action: str, permission: str | None, job: str | None) -> str:
    """One botocore ``ClientError`` in words: a missing permission, a server error, or AWS's message."""
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    message = str(info.get("Message", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # An error body in a protocol botocore did not expect arrives whole in the message.
    inner_code, inner_message = (
        re.search(r"<Code>(.*?)</Code>", message),
        re.search(r"<Message>(.*?)</Message>", message),
    )
    if inner_code:
        code, message = inner_code.group(1), inner_message.group(1) if inner_message else ""
    if code == "NoSuchBucket":
        bucket = f" {info['BucketName']}" if info.get("BucketName") else ""
        return (
            f"{action} failed: the bucket{bucket} does not exist. Check S3.BUCKET and SAGEMAKER.REGION, or "
            "create the bucket first."
        )
    if code in _CREDENTIAL_CODES:
        return (
            f"{action}: AWS rejected your credentials ({code}: {message}). Refresh them ('aws sso login', "
            "or new keys) or choose another profile with AWS_PROFILE."
        )
    if code in _DENIED_CODES:
        needed = f"the '{permission}' permission" if permission else "a permission"
        if job and permission and permission.startswith("sagemaker:"):
            needed += f" on training job {job}"
        return (
            f"{action} was denied: your AWS identity lacks {needed}. "
            f"Ask an account administrator to grant {permission or 'it'} in your IAM policy, or use a "
            f"profile that has it. AWS said: {message or code}"
        )
    if (isinstance(status, int) and status >= 500) or (code.isdigit() and int(code) >= 500):
        return (
            f"{action} failed: the service answered HTTP {status or code} (an error on its side, not in "
            "your request), so whether it took effect is unknown. Check the job with "
            f"'{CLI_COMMAND} show {job or 'JOB'}' and try again."
        )
    return f"{action} failed: {code}: {one_line(message)}"


def one_line(text: str, limit: int = 400) -> str:
    """``text`` as one line of at most ``limit`` characters, without markup, for an error paragraph."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
