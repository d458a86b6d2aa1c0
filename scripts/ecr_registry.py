"""The AWS calls of build_and_push.sh (region, account, ECR login and repository), with boto3.

boto3 instead of the aws CLI: the project already depends on it, and it honours ``AWS_ENDPOINT_URL``
so tests reach a loopback endpoint. Each command prints its answer on stdout and, on failure, one
``[build_and_push] error: ...`` line on stderr with exit status 1.

    python scripts/ecr_registry.py identity [--region R] [--account A]     -> "REGION ACCOUNT"
    python scripts/ecr_registry.py login-password --region R --registry-id ID  -> the password
    python scripts/ecr_registry.py ensure-repository --region R --account A --name N  -> its URI
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Callable, Sequence
from typing import Any

# build_and_push.sh prints its own lines with this prefix too.
PREFIX = "[build_and_push]"
NO_CREDENTIALS = (
    "no AWS credentials found: run `aws configure` (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or AWS_PROFILE)"
)


class RegistryError(Exception):
    """A problem the user can fix; the message says what and how."""


def _session(region: str | None) -> Any:
    try:
        import boto3
    except ImportError as error:
        raise RegistryError(f"boto3 is not installed for {sys.executable}: pip install boto3") from error
    session = boto3.Session(region_name=region or None)
    if not session.region_name:
        raise RegistryError(
            "no AWS region configured: set AWS_REGION (or a region in ~/.aws/config) or pass --region"
        )
    if session.get_credentials() is None:
        raise RegistryError(NO_CREDENTIALS)
    return session


def identity(region: str | None, account: str | None) -> str:
    """The region (argument or configuration) and the account (argument or STS), as "REGION ACCOUNT"."""
    session = _session(region)
    if not account:
        account = session.client("sts").get_caller_identity()["Account"]
    return f"{session.region_name} {account}"


def login_password(region: str, registry_id: str) -> str:
    """The docker password for registry ``registry_id`` in ``region``, as `aws ecr get-login-password`."""
    ecr = _session(region).client("ecr")
    data = ecr.get_authorization_token(registryIds=[registry_id])["authorizationData"]
    user, _, password = base64.b64decode(data[0]["authorizationToken"]).decode().partition(":")
    if user != "AWS" or not password:
        raise RegistryError(
            f"ECR returned an authorization token for user {user!r}, expected 'AWS:<password>'"
        )
    return password


def ensure_repository(region: str, account: str, name: str) -> str:
    """Create ECR repository ``name`` in ``account`` unless it exists; return its URI."""
    ecr = _session(region).client("ecr")
    try:
        found = ecr.describe_repositories(registryId=account, repositoryNames=[name])["repositories"]
        repository = found[0]
        print(f"{PREFIX} ECR repository {name} exists", file=sys.stderr)
    except ecr.exceptions.RepositoryNotFoundException:
        repository = ecr.create_repository(registryId=account, repositoryName=name)["repository"]
        print(f"{PREFIX} created ECR repository {name}", file=sys.stderr)
    return repository["repositoryUri"]


def _describe(error: Exception) -> str:
    """One line for the user; errors that are not AWS's or ours propagate with their traceback."""
    if isinstance(error, RegistryError):
        return str(error)
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"AWS refused {error.operation_name}: {info.get('Code')}: {info.get('Message')}"
    if isinstance(error, BotoCoreError):
        return f"AWS call failed: {error}"
    raise error


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    who = commands.add_parser("identity", help="print 'REGION ACCOUNT' from the AWS configuration")
    who.add_argument("--region", help="use this region instead of the configured one")
    who.add_argument("--account", help="use this account instead of asking STS")
    login = commands.add_parser("login-password", help="print the docker password for an ECR registry")
    login.add_argument("--region", required=True)
    login.add_argument("--registry-id", required=True, help="the registry's account, e.g. 763104351884")
    repo = commands.add_parser(
        "ensure-repository", help="create the ECR repository if missing; print its URI"
    )
    repo.add_argument("--region", required=True)
    repo.add_argument("--account", required=True)
    repo.add_argument("--name", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    commands: dict[str, Callable[[], str]] = {
        "identity": lambda: identity(args.region, args.account),
        "login-password": lambda: login_password(args.region, args.registry_id),
        "ensure-repository": lambda: ensure_repository(args.region, args.account, args.name),
    }
    try:
        print(commands[args.command]())
    except Exception as error:
        print(f"{PREFIX} error: {_describe(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
