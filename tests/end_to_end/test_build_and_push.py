"""build_and_push.sh, run as users run it, against the real Docker engine, a real image registry
(Debian's docker-registry on a loopback port) and the loopback AWS endpoint for ECR and STS.

Docker pushes to 127.0.0.0/8 registries over plain HTTP without configuration, so `--registry`
stands in for the account's ECR; the ECR repository is still created on the AWS endpoint.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from support.aws import REGION, aws_environment
from support.ci import missing
from support.commands import REPO_ROOT
from support.docker import PROVISION_HINT, require_image

from sagemaker_launcher.config.run_modes import free_port

SCRIPT = REPO_ROOT / "build_and_push.sh"
BASE_IMAGE = "sm-launcher-base:py311"
# moto's account for every caller.
ACCOUNT = "123456789012"
# The base image lives on the engine: building Dockerfile.sagemaker on it takes seconds (cached layers).
LOCAL_BASE = f"BASE_IMAGE={BASE_IMAGE}"
# A push of the 1.35 GB base layer to loopback takes about a minute on two cores.
PUSH_TIMEOUT_S = 600
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def run_script(*args: str, env: dict[str, str], cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=PUSH_TIMEOUT_S
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """The script's last stderr line, which is its one-line error when it fails."""
    return result.stderr.strip().splitlines()[-1]


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def image_id(reference: str) -> str:
    result = docker("image", "inspect", "-f", "{{.Id}}", reference)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry on a free loopback port, storing under a temporary folder: HOST:PORT."""
    binary = shutil.which("docker-registry")
    if binary is None:
        missing("the docker-registry command is missing", PROVISION_HINT)
    root = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    config = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}},
        "http": {"addr": address},
    }
    (root / "config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with open(root / "registry.log", "wb") as log:
        process = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://{address}/v2/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"docker-registry did not answer on {address}: {(root / 'registry.log').read_text()}"
                )
            time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # The pushed base layer is hundreds of MB; pytest would keep it among its last three runs.
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def image_name() -> Iterator[str]:
    """A repository name no one else uses; every local image reference to it is removed afterwards."""
    name = f"bap-test-{secrets.token_hex(4)}"
    yield name
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}")
    ours = [ref for ref in listed.stdout.split() if ref.rsplit(":", 1)[0].split("/")[-1] == name]
    if ours:
        docker("rmi", *ours)


@pytest.fixture
def docker_config(tmp_path: Path) -> str:
    """A client config folder of the test's own, so a `docker login` never touches the user's."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    return str(folder)


def script_env(docker_config: str, endpoint: str | None = None, **overrides: str) -> dict[str, str]:
    """This process's environment, with the loopback AWS endpoint when given, minus any real AWS setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "BUILD_AND_PUSH_PYTHON": sys.executable,
            "DOCKER_CONFIG": docker_config,
        }
    )
    if endpoint:
        env.update(aws_environment(endpoint))
    env.update(overrides)
    return env


def registry_json(registry: str, path: str) -> dict:
    response = requests.get(f"http://{registry}/v2/{path}", headers={"Accept": MANIFEST_V2}, timeout=30)
    response.raise_for_status()
    return response.json()


def push_project_image(
    registry: str, image_name: str, tag: str, docker_config: str, aws: str
) -> subprocess.CompletedProcess[str]:
    """Build Dockerfile.sagemaker on the local base and push it to the loopback registry."""
    return run_script(
        "--registry",
        registry,
        "--build-arg",
        LOCAL_BASE,
        image_name,
        tag,
        "Dockerfile.sagemaker",
        env=script_env(docker_config, aws),
    )


def test_push_to_registry_creates_ecr_repository_and_pushes_both_tags(
    aws: str, registry: str, image_name: str, docker_config: str
) -> None:
    require_image(BASE_IMAGE)
    import boto3

    result = push_project_image(registry, image_name, "v1", docker_config, aws)
    assert result.returncode == 0, result.stderr
    target = f"{registry}/{image_name}"
    assert result.stdout == f"{target}:v1\n"

    ecr = boto3.client("ecr", region_name=REGION)
    [repository] = ecr.describe_repositories(repositoryNames=[image_name])["repositories"]
    assert repository["registryId"] == ACCOUNT

    tags = set(registry_json(registry, f"{image_name}/tags/list")["tags"])
    assert "v1" in tags and len(tags) == 2
    [commit_tag] = tags - {"v1"}
    match = re.fullmatch(r"([0-9a-f]{7,40})(-dirty)?", commit_tag)
    assert match, commit_tag
    assert subprocess.run(["git", "cat-file", "-e", f"{match[1]}^{{commit}}"], cwd=REPO_ROOT).returncode == 0

    # Both tags name one manifest, and the registry holds every layer it lists.
    manifest = registry_json(registry, f"{image_name}/manifests/v1")
    assert manifest == registry_json(registry, f"{image_name}/manifests/{commit_tag}")
    for layer in manifest["layers"]:
        head = requests.head(f"http://{registry}/v2/{image_name}/blobs/{layer['digest']}", timeout=30)
        assert head.status_code == 200 and int(head.headers["Content-Length"]) == layer["size"]
    # The small layers (not the 1.35 GB base) include the one that copied the code in.
    files = set()
    for layer in (layer for layer in manifest["layers"] if layer["size"] < 20_000_000):
        blob = requests.get(f"http://{registry}/v2/{image_name}/blobs/{layer['digest']}", timeout=30)
        with tarfile.open(fileobj=io.BytesIO(blob.content), mode="r:gz") as archive:
            files.update(archive.getnames())
    assert "opt/ml/code/main.py" in files

    # Pulled back from the registry, it is the image that was built, and it runs.
    built = image_id(f"{image_name}:v1")
    assert image_id(f"{image_name}:{commit_tag}") == built
    assert docker("rmi", f"{target}:v1", f"{target}:{commit_tag}").returncode == 0
    pulled = docker("pull", f"{target}:v1", timeout=PUSH_TIMEOUT_S)
    assert pulled.returncode == 0, pulled.stderr
    assert image_id(f"{target}:v1") == built
    listing = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "ls", f"{target}:v1", "/opt/ml/code/main.py"
    )
    assert listing.returncode == 0 and listing.stdout.strip() == "/opt/ml/code/main.py", listing.stderr


def test_a_second_push_reuses_the_ecr_repository(
    aws: str, registry: str, image_name: str, docker_config: str
) -> None:
    require_image(BASE_IMAGE)
    import boto3

    boto3.client("ecr", region_name=REGION).create_repository(repositoryName=image_name)
    result = push_project_image(registry, image_name, "v2", docker_config, aws)
    assert result.returncode == 0, result.stderr
    assert f"ECR repository {image_name} exists" in result.stderr
    assert "v2" in registry_json(registry, f"{image_name}/tags/list")["tags"]


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_local_builds_and_tags_without_aws(tmp_path: Path, image_name: str, docker_config: str) -> None:
    require_image(BASE_IMAGE)
    project = tmp_path / "project"
    project.mkdir()
    (project / "Dockerfile").write_text(f"FROM {BASE_IMAGE}\nCOPY hello.txt /hello.txt\n", encoding="utf-8")
    (project / "hello.txt").write_text("one\n", encoding="utf-8")
    git("init", "-q", cwd=project)
    git("add", ".", cwd=project)
    git("commit", "-q", "-m", "first", cwd=project)
    commit = git("rev-parse", "--short", "HEAD", cwd=project)
    # No credentials, no region and an endpoint where nothing listens: any AWS call would fail.
    env = script_env(docker_config, AWS_ENDPOINT_URL="http://127.0.0.1:9")

    clean = run_script("--local", image_name, "dev", str(project / "Dockerfile"), env=env, cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout == f"{image_name}:dev\n"
    assert image_id(f"{image_name}:{commit}") == image_id(f"{image_name}:dev")

    (project / "hello.txt").write_text("two\n", encoding="utf-8")
    dirty = run_script("--local", image_name, "dev", str(project / "Dockerfile"), env=env, cwd=tmp_path)
    assert dirty.returncode == 0, dirty.stderr
    assert image_id(f"{image_name}:{commit}-dirty") == image_id(f"{image_name}:dev")
    shown = docker("run", "--rm", "--network", "none", f"{image_name}:dev", "cat", "/hello.txt")
    assert shown.stdout == "two\n"
    assert not os.listdir(docker_config), "--local must not log in anywhere"


def test_missing_dockerfile_is_one_clear_error(docker_config: str) -> None:
    result = run_script("digits-training", "v1", "no/such/Dockerfile", env=script_env(docker_config))
    assert result.returncode == 1
    assert (
        result.stderr == "[build_and_push] error: Dockerfile not found: no/such/Dockerfile "
        "(give its path, e.g. Dockerfile.sagemaker)\n"
    )


def test_no_engine_answering_is_one_clear_error(docker_config: str) -> None:
    if shutil.which("docker") is None:
        missing("the docker command is missing", PROVISION_HINT)
    env = script_env(docker_config, DOCKER_HOST="unix:///nonexistent.sock")
    result = run_script("--local", "digits-training", "v1", "Dockerfile.sagemaker", env=env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(
        "[build_and_push] error: no Docker engine answers at unix:///nonexistent.sock"
    )


def test_no_docker_command_is_one_clear_error(tmp_path: Path, docker_config: str) -> None:
    # A PATH with everything the script uses except docker.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "basename", "cat", "awk", "grep", "sed", "head", "timeout", "git"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    env = script_env(docker_config, PATH=str(bin_dir))
    result = run_script("--local", "digits-training", "v1", "Dockerfile.sagemaker", env=env)
    assert result.returncode == 1
    assert result.stderr == (
        "[build_and_push] error: the docker command is not installed or not on PATH: install Docker\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "expected IMAGE_NAME TAG DOCKERFILE, got 0 argument(s)"),
        (("digits-training", "v1"), "expected IMAGE_NAME TAG DOCKERFILE, got 2 argument(s)"),
        (("--push", "a", "b", "c"), "unknown option --push"),
        (("Digits", "v1", "Dockerfile.sagemaker"), "IMAGE_NAME 'Digits' is not a valid ECR repository name"),
        (("digits", "v 1", "Dockerfile.sagemaker"), "TAG 'v 1' is not a valid image tag"),
        (
            ("--build-arg", "NOVALUE", "d1", "v1", "Dockerfile.sagemaker"),
            "--build-arg 'NOVALUE' is not KEY=VALUE",
        ),
        (("d1", "v1", "Dockerfile.sagemaker", "--region"), "--region needs a value"),
        (("--region", "Mars", "d1", "v1", "Dockerfile.sagemaker"), "--region 'Mars' is not an AWS region"),
        (("--local", "--registry=h:1", "d1", "v1", "Dockerfile.sagemaker"), "--local pushes nothing"),
    ],
)
def test_wrong_arguments_print_usage(args: tuple[str, ...], message: str, docker_config: str) -> None:
    result = run_script(*args, env=script_env(docker_config))
    assert result.returncode == 2
    first, second = result.stderr.splitlines()[:2]
    assert first.startswith(f"[build_and_push] error: {message}")
    assert second.startswith("usage: ")
    assert result.stdout == ""


def test_help(docker_config: str) -> None:
    result = run_script("--help", env=script_env(docker_config))
    assert result.returncode == 0
    assert result.stdout.startswith("usage: ")
    assert "--registry HOST[:PORT]" in result.stdout and "--build-arg KEY=VALUE" in result.stdout


def test_no_aws_credentials_is_one_clear_error(docker_config: str) -> None:
    require_image(BASE_IMAGE)
    env = script_env(docker_config, AWS_ENDPOINT_URL="http://127.0.0.1:9")
    result = run_script("--region", REGION, "d1", "v1", "Dockerfile.sagemaker", env=env)
    assert result.returncode == 1
    assert error_line(result).startswith("[build_and_push] error: no AWS credentials found")


def test_no_aws_region_is_one_clear_error(aws: str, docker_config: str) -> None:
    require_image(BASE_IMAGE)
    env = script_env(docker_config, aws)
    del env["AWS_DEFAULT_REGION"]
    result = run_script("d1", "v1", "Dockerfile.sagemaker", env=env)
    assert result.returncode == 1
    assert error_line(result).startswith("[build_and_push] error: no AWS region configured")


def test_failed_base_image_login_is_one_clear_error(aws: str, docker_config: str) -> None:
    """Without BASE_IMAGE the Dockerfile's base is AWS's prebuilt image: the script logs in there
    with the endpoint's token before building, and here that registry cannot be reached."""
    require_image(BASE_IMAGE)
    result = run_script("d1", "v1", "Dockerfile.sagemaker", env=script_env(docker_config, aws))
    assert result.returncode == 1
    assert error_line(result).startswith(
        f"[build_and_push] error: docker login to 763104351884.dkr.ecr.{REGION}.amazonaws.com failed: "
    )


def test_failed_push_is_one_clear_error(aws: str, image_name: str, docker_config: str) -> None:
    require_image(BASE_IMAGE)
    nowhere = f"127.0.0.1:{free_port()}"
    result = run_script(
        "--registry",
        nowhere,
        "--build-arg",
        LOCAL_BASE,
        image_name,
        "v1",
        "Dockerfile.sagemaker",
        env=script_env(docker_config, aws),
    )
    assert result.returncode == 1
    assert error_line(result).startswith(
        f"[build_and_push] error: docker push {nowhere}/{image_name}:v1 failed: "
    )
    assert result.stdout == ""
