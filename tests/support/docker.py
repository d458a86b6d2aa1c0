"""Docker engine checks and clean-up for tests: skip where Docker is absent, fail under CI.

CI (`CI=true`) provisions the engine and images with `bash scripts/provision_docker.sh start`, so
there a missing engine or image is a broken setup, not a reason to skip.
"""

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from support.ci import missing
from support.commands import REPO_ROOT

# The training image scripts/provision_docker.sh builds, which the local configs name.
TRAINING_IMAGE = "sm-launcher-training:local"
PROVISION_HINT = "start one with: bash scripts/provision_docker.sh start"


def _docker(*args: str, timeout: float) -> subprocess.CompletedProcess | None:
    """Run the docker client; None when it is missing or does not answer in time."""
    if shutil.which("docker") is None:
        return None
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None


def docker_available(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers `docker info` within `timeout` seconds."""
    result = _docker("info", timeout=timeout)
    return result is not None and result.returncode == 0


def image_available(name: str, timeout: float = 10.0) -> bool:
    """True when the engine holds the image `name` (for example `sm-launcher-training:local`)."""
    result = _docker("image", "inspect", name, timeout=timeout)
    return result is not None and result.returncode == 0


def require_docker() -> None:
    """Skip the calling test when no Docker engine answers; fail instead when CI=true."""
    if not docker_available():
        missing("no Docker engine answers `docker info`", PROVISION_HINT)


def require_image(name: str) -> None:
    """Skip the calling test when image `name` is missing (or no engine runs); fail when CI=true."""
    require_docker()
    if not image_available(name):
        missing(f"Docker image {name!r} is missing", PROVISION_HINT)


def remove_local_mode_leftovers(runs: Path) -> None:
    """Remove any container or network a Docker local-mode run under ``runs`` left behind.

    The launcher removes them itself, also after a failure or an interrupt; this is the tests' safety
    net, by exact names (``<job>-algo-N`` and the job's network ``<job>``), so nothing else is touched.
    """
    for run in runs.glob("*/*/config/record.json"):
        job = run.parent.parent.name
        listed = _docker("ps", "--all", "--quiet", "--filter", f"name=^{job}-algo-", timeout=30)
        if listed is not None and listed.stdout.split():
            _docker("rm", "--force", *listed.stdout.split(), timeout=60)
        _docker("network", "rm", job, timeout=30)


def job_containers(job_prefix: str) -> list[str]:
    """Names of the containers (running or not) whose name starts with ``job_prefix``."""
    listed = _docker("ps", "--all", "--format", "{{.Names}}", timeout=30)
    return [name for name in (listed.stdout.split() if listed else []) if name.startswith(job_prefix)]


def stop_first_container_after_an_epoch(command: Sequence[str], timeout: float) -> tuple[int, str]:
    """Run a Docker local-mode launch and, once it logs its first validation accuracy, stop the
    first host's container as SageMaker stops a job (``docker stop``: SIGTERM to PID 1, then a
    60 s grace); the launcher's exit code and its whole output."""
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if "[metric] validation:accuracy" in line:
            break
    listed = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True)
    [container] = [name for name in listed.stdout.split() if name.endswith("-algo-1")]
    subprocess.run(["docker", "stop", "--time", "60", container], check=True, capture_output=True)
    output += process.stdout.readlines()
    return process.wait(timeout=timeout), "".join(output)
