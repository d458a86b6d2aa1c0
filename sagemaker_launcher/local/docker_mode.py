"""Docker local mode (``local``, ``local_gpu``): the training image, one container per host, through the
Docker CLI (no Compose, no SDK).

Each container runs the image's ``train`` as SageMaker does, with hostname ``algo-N`` on a network of
its own job (container and network names carry the job's name, so two runs never collide), its host's
tree mounted at ``/opt/ml``. Containers always get a terminal and open input, so ``docker attach``
reaches pdb in any of them; the job's debugger, when it serves, is published on the host's loopback
only (``debugger_ports``). The first host's container takes over the launcher's terminal when the
launcher has one, as host mode's first process does. Every container's exit status is read, and when
the run ends, fails or is interrupted, all of them and the network are removed.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sagemaker_container import job_debugger
from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.config.run_modes import visible_gpus
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.local.debugger_ports import host_ports, serves_debugger
from sagemaker_launcher.local.host_trees import CONTAINER_BASE_DIR, HostTree, checkpoint_dir
from sagemaker_launcher.local.processes import INTERRUPT_GRACE_S, Started, wait_all

PROVISION_HINT = "On Debian or Ubuntu, bash scripts/provision_docker.sh start sets one up."
# SageMaker's training instances have a large /dev/shm; Docker's default (64 MB) starves data loaders.
SHM_SIZE = "1g"
LOOPBACK = job_debugger.LOOPBACK
# The mounts of each host's tree, as SageMaker lays out /opt/ml.
MOUNTED = ("input", names.MODEL_DIR, names.OUTPUT_DIR, names.CODE_DIR)


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str] | None:
    """Run the docker client; None when it is missing or does not answer in time."""
    if shutil.which("docker") is None:
        return None
    try:
        return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None


def check_docker(image: str, gpu: bool) -> None:
    """Raise ``LauncherError`` naming what is missing: the engine, its GPU runtime or the image."""
    info = docker("info", "--format", "{{json .Runtimes}}", timeout=30)
    if info is None or info.returncode != 0:
        raise LauncherError(
            "Local mode runs the training image under Docker, but no Docker engine answers `docker info`"
            f"{': ' + info.stderr.strip() if info else ' (no docker command)'}. Start Docker, or use "
            f"SAGEMAKER.INSTANCE_TYPE local_process to run without it. {PROVISION_HINT}"
        )
    if gpu and "nvidia" not in info.stdout:
        raise LauncherError(
            "local_gpu needs Docker's NVIDIA runtime (the NVIDIA Container Toolkit), which this engine "
            "lacks. Install it, or use SAGEMAKER.INSTANCE_TYPE local for a CPU run."
        )
    found = docker("image", "inspect", image, timeout=30)
    if found is None or found.returncode != 0:
        raise LauncherError(
            f"Image {image!r} (IMAGE.URI / IMAGE.REPOSITORY:TAG) is not on this Docker engine. Build it with "
            f"docker build -f Dockerfile.sagemaker -t {image} . (or pull it), then run again."
        )


def container_name(job_name: str, host: str) -> str:
    return f"{job_name}-{host}"


def run_command(
    request: Mapping[str, Any], tree: HostTree, network: str, gpu: bool, keeps_terminal: bool
) -> list[str]:
    """The ``docker run`` of one host: attached with the launcher's terminal, else detached."""
    job_name = request["TrainingJobName"]
    mounts = [f"{tree.path(folder)}:{CONTAINER_BASE_DIR}/{folder}" for folder in MOUNTED]
    if request.get("CheckpointConfig"):
        mounts.append(f"{tree.path(names.CHECKPOINTS_DIR)}:{checkpoint_dir(tree, request)}")
    environment = {**(request.get("Environment") or {}), names.JOB_NAME_ENV: job_name}
    published: list[int] = []
    if serves_debugger(environment):
        environment[job_debugger.BIND_ENV] = "0.0.0.0"
        published = host_ports(request, tree.host, visible_gpus() if gpu else 0)
    return [
        "docker", "run",
        "--name", container_name(job_name, tree.host),
        "--hostname", tree.host,
        "--network", network, "--network-alias", tree.host,
        "--shm-size", SHM_SIZE,
        *(["--gpus", "all"] if gpu else []),
        *[argument for mount in mounts for argument in ("--volume", mount)],
        *[argument for key, value in environment.items() for argument in ("--env", f"{key}={value}")],
        *[argument for port in published for argument in ("--publish", f"{LOOPBACK}:{port}:{port}")],
        "--interactive", "--tty",
        *([] if keeps_terminal else ["--detach"]),
        request["AlgorithmSpecification"]["TrainingImage"],
        "train",
    ]  # fmt: skip


def _container(
    request: Mapping[str, Any], tree: HostTree, network: str, gpu: bool, keeps_terminal: bool
) -> Started:
    """Start one host's container and follow it: its own terminal, or its log, prefixed."""
    name = container_name(request["TrainingJobName"], tree.host)
    command = run_command(request, tree, network, gpu, keeps_terminal)

    def stop(_process: subprocess.Popen[bytes]) -> None:
        subprocess.Popen(
            ["docker", "stop", "--time", str(int(INTERRUPT_GRACE_S)), name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(_process: subprocess.Popen[bytes]) -> None:
        subprocess.Popen(["docker", "kill", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    if keeps_terminal:
        return Started.popen(tree.host, command, None, None, True, stop, kill)
    started = docker(*command[1:])
    if started is None or started.returncode != 0:
        raise LauncherError(
            f"Docker could not start the container of host {tree.host}: "
            f"{(started.stderr.strip() if started else 'no answer from the docker command')}"
        )
    follow = Started.popen(tree.host, ["docker", "logs", "--follow", name], None, None, False, stop, kill)
    follow.command = command
    follow.exit_status = lambda: _exit_status(name)
    return follow


def _exit_status(name: str) -> int:
    """A container's exit code, once its log has ended (``docker wait`` answers at once then)."""
    done = docker("wait", name)
    try:
        return int(done.stdout.strip()) if done and done.returncode == 0 else 1
    except ValueError:
        return 1


@contextmanager
def job_network(job_name: str) -> Iterator[str]:
    """A network of the job's own, removed afterwards with every container of the job."""
    network = job_name
    created = docker("network", "create", network)
    if created is None or created.returncode != 0:
        raise LauncherError(
            f"Docker could not create the network {network} for this run: "
            f"{created.stderr.strip() if created else 'no answer from the docker command'}"
        )
    try:
        yield network
    finally:
        docker("network", "rm", network)


def run_containers(
    trees: Sequence[HostTree], request: Mapping[str, Any], gpu: bool, interactive: bool
) -> list[Started]:
    """Run every host's container to its end; after a failure the others are stopped. Every container
    and the network are removed afterwards, also after an interrupt."""
    job_name = request["TrainingJobName"]
    names_ = [container_name(job_name, tree.host) for tree in trees]
    with job_network(job_name) as network:
        try:
            started = []
            for index, tree in enumerate(trees):
                started.append(_container(request, tree, network, gpu, interactive and index == 0))
            return wait_all(started)
        finally:
            docker("rm", "--force", *names_)
