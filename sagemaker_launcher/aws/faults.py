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
# S3 calls that write objects: a bucket policy (SSE-KMS required, ...) can deny them.
_S3_WRITES = frozenset({"PutObject", "CreateMultipartUpload", "UploadPart", "CopyObject"})
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
# What each service answers for a name or key it does not know (S3 answers a HEAD with a bare 404).
_NOT_FOUND_CODES = frozenset(
    {
        "NoSuchKey",
        "404",
        "NotFound",
        "ResourceNotFound",
        "ResourceNotFoundException",
        "RepositoryNotFoundException",
        "ImageNotFoundException",
    }
)
# SageMaker answers Describe, Stop and List calls for an unknown name with a ValidationException whose
# message is "Requested resource not found." (DescribeTrainingJob API reference, Errors); moto, the
# tests' endpoint, words it "Could not find ...".
_NOT_FOUND_MESSAGES = ("requested resource not found", "could not find", "does not exist")


def is_not_found(error: BaseException) -> bool:
    """Whether ``error`` is a service saying the job, object, stream or image does not exist."""
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    info = error.response.get("Error", {})
    code = str(info.get("Code", ""))
    if code in _NOT_FOUND_CODES:
        return True
    message = str(info.get("Message", "")).lower()
    return code == "ValidationException" and any(words in message for words in _NOT_FOUND_MESSAGES)


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
        ConnectionError,
        CredentialRetrievalError,
        EndpointConnectionError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        PartialCredentialsError,
        ProfileNotFound,
        SSOError,
        TokenRetrievalError,
    )

    if isinstance(error, ClientError):
        return client_error_message(error, action, permission, job)
    if isinstance(error, ProfileNotFound):
        return (
            f"{action}: {one_line(str(error))}. Check AWS_PROFILE (or --profile) against the profiles in "
            "~/.aws/config and ~/.aws/credentials ('aws configure list-profiles' lists them)."
        )
    if isinstance(error, SSOError | TokenRetrievalError):
        return f"{action}: your AWS SSO session cannot be used ({one_line(str(error))}). Run 'aws sso login'."
    if isinstance(error, CredentialRetrievalError):
        return (
            f"{action}: your AWS profile's credentials could not be fetched ({one_line(str(error))}). Check "
            "the profile's credential_process or role settings, or run 'aws sso login'."
        )
    if isinstance(error, ParamValidationError):
        return (
            f"{action}: the request does not fit the API ({one_line(str(error))}). Check the value named "
            "there in your config; if it came from the launcher itself, please report it."
        )
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
    if isinstance(error, S3UploadFailedError | S3TransferFailedError):
        text = str(error)
        if "NoSuchBucket" in text:
            return (
                f"{action} failed: the bucket does not exist ({one_line(text)}). Check S3.BUCKET and "
                "the region, or create the bucket."
            )
        if "AccessDenied" in text:
            return (
                f"{action} was denied ({one_line(text)}). Your identity lacks s3:PutObject there, or the "
                "bucket's policy refuses the upload (e.g. one that requires SSE-KMS: set S3.KMS_KEY_ID)."
            )
        return f"{action} failed: the upload gave up ({one_line(text)}). Check the network and try again."
    if isinstance(error, ConnectionError | HTTPClientError):
        # Connection refused, closed or reset, timeouts, TLS and proxy failures.
        detail = f"{type(error).__name__}: {one_line(str(error))}"
        return f"{action} failed: the connection to AWS broke ({detail}). Check the network and try again."
    if isinstance(error, BotoCoreError):
        return f"{action} failed in the AWS SDK ({type(error).__name__}: {one_line(str(error))})."
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
        upload = getattr(error, "operation_name", "") in _S3_WRITES
        policy = (
            " A bucket policy refuses uploads too, e.g. one that requires SSE-KMS: set S3.KMS_KEY_ID to the "
            "key it names."
            if upload
            else ""
        )
        return (
            f"{action} was denied: your AWS identity lacks {needed}, or a policy forbids the call. "
            f"Ask an account administrator to grant {permission or 'it'} in your IAM policy, or use a "
            f"profile that has it.{policy} AWS said: {message or code}"
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
