"""Shared fixtures: a real AWS API endpoint on loopback (moto's server behind the AWS dialect), and every
test run from the repository root, as users run the launcher. Helpers live in the ``support`` package.

The launcher under test is the code users run: boto3 and the SageMaker SDK reach the endpoint
through ``AWS_ENDPOINT_URL``, exactly as they would reach AWS. Nothing is patched.

By default that endpoint is ``support.aws_dialect.AwsDialect``, a loopback proxy in front of moto's server
that answers as real AWS does where moto differs (throttling, eventual consistency, job lifecycles,
Search paging, empty log pages, S3 refusals, the Price List; see its module). The ``aws_dialect``
fixture is that proxy, for tests that set its knobs or read what it recorded; the ``aws`` fixture resets
its knobs to their defaults before each test.

``SM_TEST_AWS=moto`` (an environment variable) takes the dialect away: ``aws`` and ``moto_endpoint`` are
then moto's own server, with moto's own answers, and tests that need ``aws_dialect`` are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from support.aws import ACCOUNT, BUCKET, REGION, aws_environment
from support.aws_dialect import AwsDialect
from support.commands import REPO_ROOT
from support.container import write_digits_data
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's own server in this process on 127.0.0.1, on a free port (no dialect in front)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def session_dialect(moto_server: str) -> Iterator[AwsDialect | None]:
    """The AWS dialect in front of moto for the whole session; None under ``SM_TEST_AWS=moto``."""
    if os.environ.get("SM_TEST_AWS", "").lower() == "moto":
        yield None
        return
    with AwsDialect(moto_server) as dialect:
        yield dialect


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: str, session_dialect: AwsDialect | None) -> str:
    """The loopback AWS endpoint: the dialect's URL, or moto's own under ``SM_TEST_AWS=moto``."""
    return session_dialect.url if session_dialect else moto_server


@pytest.fixture
def aws(
    moto_endpoint: str, session_dialect: AwsDialect | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A clean endpoint with the team's bucket, reached by every boto3 client of this process."""
    if session_dialect:
        session_dialect.reset()
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    for name, value in aws_environment(moto_endpoint).items():
        monkeypatch.setenv(name, value)
    import boto3

    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
    yield moto_endpoint


@pytest.fixture
def aws_dialect(aws: str, session_dialect: AwsDialect | None) -> AwsDialect:
    """The dialect behind ``aws``, its knobs at their defaults: set them, read what it recorded."""
    if session_dialect is None:
        pytest.skip("SM_TEST_AWS=moto: no AWS dialect in front of moto")
    return session_dialect


@pytest.fixture
def end_job(aws: str, session_dialect: AwsDialect | None) -> Callable[..., None]:
    """Ends a training job now as ``status`` (with a failure reason), as SageMaker ends one over time:
    through the dialect's job lifecycle, or on moto's own object under ``SM_TEST_AWS=moto``."""

    def end(name: str, status: str = "Completed", reason: str | None = None) -> None:
        if session_dialect is not None:
            session_dialect.finish(name, status, reason)
            return
        from moto.backends import get_backend

        job = get_backend("sagemaker")[ACCOUNT][REGION].training_jobs[name]
        job.training_job_status, job.failure_reason = status, reason

    return end


@pytest.fixture(autouse=True)
def _run_from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths in the example configs are resolved from the repository root, as users run it."""
    monkeypatch.chdir(REPO_ROOT)


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's train and validation channels, made by the repo's own script; read, never changed."""
    return write_digits_data(tmp_path_factory.mktemp("data") / "digits")


@pytest.fixture
def docker_runs(tmp_path: Path) -> Iterator[Path]:
    """A runs folder for Docker local-mode jobs; anything a run left behind is removed afterwards."""
    require_image(TRAINING_IMAGE)
    runs = tmp_path / "runs"
    yield runs
    remove_local_mode_leftovers(runs)
