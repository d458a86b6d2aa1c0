"""Shared fixtures: a real AWS API endpoint on loopback (moto's server), and every test run from the
repository root, as users run the launcher. Helpers live in the ``support`` package.

The launcher under test is the code users run: boto3 and the SageMaker SDK reach the endpoint
through ``AWS_ENDPOINT_URL``, exactly as they would reach AWS. Nothing is patched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.aws import BUCKET, REGION, aws_environment
from support.commands import REPO_ROOT
from support.container import write_digits_data
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image


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
    """A runs folder for Docker local-mode jobs; their exited containers are removed afterwards."""
    require_image(TRAINING_IMAGE)
    runs = tmp_path / "runs"
    yield runs
    for container_root in runs.glob("*/*/container"):
        remove_local_mode_leftovers(str(container_root))
