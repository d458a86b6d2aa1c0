"""Docker local mode (``local``, ``local_gpu``): the real training image, run by SageMaker SDK local mode.

The code is mounted from the source folder, so an edit needs no image rebuild. Before handing
over to the SDK, the engine, compose and the image are checked so a missing piece gets a clear
message rather than a compose traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import yaml
from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.aws.storage import local_path
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.launch.plan import OUTPUT_ARCHIVE, JobPlan
from sagemaker_launcher.local.layout import OUTPUT_DIR, job_dir

CONTAINER_ROOT = "container"
# The failure file's name inside output.tar.gz, which holds the container's whole output folder here.
FAILURE_MEMBER = PurePosixPath(names.FAILURE_FILE).relative_to(names.OUTPUT_DIR).as_posix()
# The TensorBoard folder inside it.
TENSORBOARD_MEMBER = PurePosixPath(names.TENSORBOARD_OUTPUT_DIR).relative_to(names.OUTPUT_DIR)
PROVISION_HINT = "On Debian or Ubuntu, bash scripts/provision_docker.sh start sets one up."


def _docker(*args: str) -> subprocess.CompletedProcess[str] | None:
    if shutil.which("docker") is None:
        return None
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return None


def check_docker(image: str, gpu: bool) -> None:
    """Raise ``LauncherError`` naming what is missing: engine, compose, GPU runtime or image."""
    info = _docker("info", "--format", "{{json .Runtimes}}")
    if info is None or info.returncode != 0:
        raise LauncherError(
            "Local mode runs the training image under Docker, but no Docker engine answers `docker info`"
            f"{': ' + info.stderr.strip() if info else ' (no docker command)'}. Start Docker, or use "
            f"SAGEMAKER.INSTANCE_TYPE local_process to run without it. {PROVISION_HINT}"
        )
    has_compose = shutil.which("docker-compose") is not None or _succeeds("compose", "version")
    if not has_compose:
        raise LauncherError(
            "Local mode needs Docker Compose (`docker compose` or `docker-compose`), and neither is "
            f"installed. Install the compose plugin or docker-compose. {PROVISION_HINT}"
        )
    if gpu and "nvidia" not in info.stdout:
        raise LauncherError(
            "local_gpu needs Docker's NVIDIA runtime (the NVIDIA Container Toolkit), which this engine "
            "lacks. Install it, or use SAGEMAKER.INSTANCE_TYPE local for a CPU run."
        )
    if not _succeeds("image", "inspect", image):
        raise LauncherError(
            f"Image {image!r} (IMAGE.URI / IMAGE.REPOSITORY:TAG) is not on this Docker engine. Build it with "
            f"docker build -f Dockerfile.sagemaker -t {image} . (or pull it), then run again."
        )


def _succeeds(*args: str) -> bool:
    done = _docker(*args)
    return done is not None and done.returncode == 0


def run_in_docker(cfg: CfgNode, plan: JobPlan, source_dir: Path) -> int:
    """Run the job's containers; returns 0, or 1 after printing the failure file's text."""
    from sagemaker_launcher.aws.sagemaker_sdk import run_local_container

    check_docker(plan.image_uri, gpu=cfg.SAGEMAKER.INSTANCE_TYPE == "local_gpu")
    container_root = job_dir(plan) / CONTAINER_ROOT
    try:
        succeeded = run_local_container(cfg, plan, source_dir, container_root, job_dir(plan) / OUTPUT_DIR)
    finally:
        remove_exited_containers(container_root)
    _keep_tensorboard(job_dir(plan) / OUTPUT_DIR / OUTPUT_ARCHIVE, local_path(plan.tensorboard_uri))
    if succeeded:
        return 0
    failure = _failure_text(job_dir(plan) / OUTPUT_DIR / OUTPUT_ARCHIVE)
    print(
        f"The training container failed: {failure}"
        if failure
        else "A training container exited non-zero without a failure file; see its log above.",
        file=sys.stderr,
        flush=True,
    )
    return 1


def remove_exited_containers(container_root: Path) -> None:
    """Remove the job's containers by their exact names; SDK local mode leaves them behind."""
    names = []
    for compose_file in container_root.glob("*/docker-compose.yaml"):
        services = (yaml.safe_load(compose_file.read_text()) or {}).get("services", {})
        names += [service["container_name"] for service in services.values() if "container_name" in service]
    if names:
        _docker("rm", "--force", *names)


def _failure_text(output_archive: Path) -> str | None:
    """SDK local mode packs each container's /opt/ml/output, failure file included, even on failure."""
    if not output_archive.is_file():
        return None
    with tarfile.open(output_archive) as bundle:
        for member in bundle.getmembers():
            if member.isfile() and member.name.removeprefix("./") == FAILURE_MEMBER:
                return bundle.extractfile(member).read().decode(errors="replace").strip()
    return None


def _keep_tensorboard(output_archive: Path, destination: Path) -> None:
    """Unpack the TensorBoard event files that SDK local mode packed with the output folder into the
    run's ``tensorboard/``, where SageMaker would sync them."""
    if not output_archive.is_file():
        return
    with tarfile.open(output_archive) as bundle:
        members = []
        for member in bundle.getmembers():
            name = PurePosixPath(member.name.removeprefix("./"))
            if member.isfile() and name.is_relative_to(TENSORBOARD_MEMBER):
                member.name = name.relative_to(TENSORBOARD_MEMBER).as_posix()
                members.append(member)
        if members:
            bundle.extractall(destination, members=members, filter="data")
