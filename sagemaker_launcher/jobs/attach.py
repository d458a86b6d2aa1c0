"""``attach``: which port of which process to reach in a running job, and the commands that reach it.

A SageMaker job is reached through an SSM session to ``sagemaker-training-job:<job>_algo-<n>`` (the job
needs ``SAGEMAKER.ENABLE_REMOTE_DEBUG``), forwarding the debugger's port to this machine's loopback; a
Docker local run through the port its container published on the loopback; a host-mode run on the
loopback directly. ``--shell`` opens a shell there instead. The port follows job_debugger.py's rule.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_container import job_debugger
from sagemaker_container.sagemaker_contract.names import (
    CODE_DIR,
    DEFAULT_BASE_DIR,
    PROCESSES_PER_HOST_HYPERPARAMETER,
    TORCH_DISTRIBUTED_HYPERPARAMETER,
)
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.config.run_modes import visible_gpus
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.local_runs import LocalRun
from sagemaker_launcher.spec.layout import HOSTS_DIR
from sagemaker_launcher.spec.request import decoded_hyperparameters, processes_per_host

# SSM's document that forwards one port of the target to this machine (AWS Systems Manager docs,
# "Start a session": port forwarding).
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSession"
# What a team member needs to start the session, and what the job's role needs (SageMaker developer
# guide, "Access a training container through AWS Systems Manager for remote debugging").
USER_PERMISSION = "ssm:StartSession"
ROLE_PERMISSIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
CONTAINER_CODE_DIR = f"{DEFAULT_BASE_DIR}/{CODE_DIR}"


@dataclass(frozen=True)
class Target:
    """The process to reach: ``host`` (``algo-N``) and its local ``rank``."""

    host: str = "algo-1"
    rank: int = 0

    @property
    def index(self) -> int:
        return job_debugger.host_index(self.host, [])


@dataclass
class AttachPlan:
    """What ``attach`` runs: a port forwarder in the background (SSM), then either a shell in the
    terminal, or a debugger conversation over ``local_port``."""

    where: str
    adapter: str
    local_port: int | None = None
    forwarder: list[str] | None = None
    shell: list[str] | None = None
    # For debugpy: where the job's code is, and the SOURCE_DIR it came from (the editor's path mapping).
    remote_code: str = CONTAINER_CODE_DIR
    source_dir: str | None = None
    # Where a host-mode shell starts: the host's code folder.
    cwd: str | None = None

    def commands(self) -> list[str]:
        """The plan as the commands a person would type, for ``--dry-run``."""
        lines = [shlex.join(command) for command in (self.forwarder, self.shell) if command]
        if self.shell is None and self.local_port is not None:
            if self.adapter == "debugpy":
                lines.append(f"# then attach VS Code or PyCharm to 127.0.0.1:{self.local_port} (debugpy)")
            else:
                lines.append(f"# then talk to pdb: nc 127.0.0.1 {self.local_port}")
        return lines


def port_of(request: dict[str, Any], target: Target, gpus: int | None) -> int:
    """The debugger's port of ``target`` in the job of ``request`` (its environment and hyperparameters)."""
    environment = request.get("Environment") or {}
    base = int(environment.get(job_debugger.PORT_ENV) or job_debugger.DEFAULT_PORT)
    hyperparameters = decoded_hyperparameters(request)
    per_host = processes_per_host(hyperparameters, gpus or 0) or 1
    one_per_gpu = bool(hyperparameters.get(TORCH_DISTRIBUTED_HYPERPARAMETER)) and not hyperparameters.get(
        PROCESSES_PER_HOST_HYPERPARAMETER
    )
    if one_per_gpu and gpus is None and (target.index or target.rank):
        raise LauncherError(
            "This job starts one process per GPU, and how many GPUs its instance type has could not be "
            "read (ec2:DescribeInstanceTypes). Pass the port with --port: the job's log names it "
            "('job_debugger: ... waits on port N')."
        )
    if target.rank >= per_host:
        raise LauncherError(
            f"--rank {target.rank} does not exist: each host of this job runs {per_host} process"
            f"{'es' if per_host != 1 else ''} (ranks 0 to {per_host - 1})."
        )
    return job_debugger.rank_port(base, target.index, per_host, target.rank)


def adapter_of(request: dict[str, Any]) -> str:
    environment = request.get("Environment") or {}
    return environment.get(job_debugger.ADAPTER_ENV) or job_debugger.DEFAULT_ADAPTER


def sagemaker_plan(
    description: dict[str, Any], target: Target, shell: bool, port: int | None, local_port: int
) -> AttachPlan:
    """An SSM session to the host of a running SageMaker job: a shell, or its debugger's port forwarded."""
    job = description["TrainingJobName"]
    status = description.get("TrainingJobStatus")
    if status != "InProgress":
        raise LauncherError(
            f"Training job {job} is {status}: attach reaches running jobs only. A job whose failure is "
            "held (DEBUGGER.HOLD_ON_FAILURE_SECONDS) stays InProgress while it holds."
        )
    if not (description.get("RemoteDebugConfig") or {}).get("EnableRemoteDebug"):
        raise LauncherError(
            f"Training job {job} runs without SSM (RemoteDebugConfig), so no session can reach it. Switch it "
            f"on for this running job with: aws sagemaker update-training-job --training-job-name {job} "
            "--remote-debug-config EnableRemoteDebug=true (then attach again once SageMaker says so), and "
            "set SAGEMAKER.ENABLE_REMOTE_DEBUG true for the next ones."
        )
    count = (description.get("ResourceConfig") or {}).get("InstanceCount", 1)
    if target.index >= count:
        raise LauncherError(f"--host {target.host} does not exist: job {job} runs on algo-1 to algo-{count}.")
    region = description["TrainingJobArn"].split(":")[3]
    ssm_target = f"sagemaker-training-job:{job}_{target.host}"
    session = ["aws", "ssm", "start-session", "--region", region, "--target", ssm_target]
    where = f"training job {job}, host {target.host}"
    if shell:
        return AttachPlan(where, "shell", shell=session)
    request = {
        "Environment": description.get("Environment"),
        "HyperParameters": description.get("HyperParameters"),
    }
    if port is None:
        instance_type = (description.get("ResourceConfig") or {}).get("InstanceType", "")
        port = port_of(request, target, instance_gpus(instance_type, region))
    forwarder = [
        *session,
        "--document-name", PORT_FORWARDING_DOCUMENT,
        "--parameters", f'{{"portNumber":["{port}"],"localPortNumber":["{local_port}"]}}',
    ]  # fmt: skip
    return AttachPlan(
        f"{where}, rank {target.rank} (port {port})", adapter_of(request), local_port, forwarder=forwarder
    )


def local_plan(run: LocalRun, target: Target, shell: bool, port: int | None) -> AttachPlan:
    """A local run's process: the loopback port (Docker publishes it there), or a shell beside it."""
    request = run.request()
    status = run.status
    if status != "InProgress":
        raise LauncherError(f"Local run {run.name} is {status}: attach reaches running jobs only.")
    resources = request.get("ResourceConfig") or {}
    instance_type = resources.get("InstanceType", "")
    if target.index >= resources.get("InstanceCount", 1):
        raise LauncherError(f"--host {target.host} does not exist in local run {run.name}.")
    docker_mode = instance_type != "local_process"
    container = f"{run.name}-{target.host}"
    where = f"local run {run.name}, host {target.host}"
    source_dir = _recorded_source_dir(run)
    if shell:
        if docker_mode:
            return AttachPlan(where, "shell", shell=["docker", "exec", "-it", container, "bash"])
        code = run.folder / HOSTS_DIR / target.host / CODE_DIR
        return AttachPlan(where, "shell", shell=[os.environ.get("SHELL") or "/bin/sh"], cwd=str(code))
    if port is None:
        port = port_of(request, target, visible_gpus() if instance_type == "local_gpu" else 0)
    remote_code = CONTAINER_CODE_DIR if docker_mode else str(run.folder / HOSTS_DIR / target.host / CODE_DIR)
    return AttachPlan(
        f"{where}, rank {target.rank} (port {port})",
        adapter_of(request),
        port,
        remote_code=remote_code,
        source_dir=source_dir,
    )


def check_session_tools() -> None:
    """The aws CLI and its Session Manager plugin, which carry the SSM session, are installed."""
    if shutil.which("aws") is None:
        raise LauncherError(
            "attach opens an SSM session with the AWS CLI, and no 'aws' command is on PATH. Install AWS CLI "
            "v2 (docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), then attach again."
        )
    if shutil.which("session-manager-plugin") is None:
        raise LauncherError(
            "attach needs the AWS CLI's Session Manager plugin ('session-manager-plugin' on PATH), which "
            "carries SSM sessions. Install it (docs.aws.amazon.com/systems-manager/latest/userguide/"
            "session-manager-working-with-install-plugin.html), then attach again."
        )


def check_session_permission(region: str | None) -> None:
    """Refuse when IAM's policy simulator says the caller may not start SSM sessions; say nothing when the
    caller may not simulate (most may not), or the simulator cannot judge."""
    try:
        caller = aws_client("sts", region).get_caller_identity()["Arn"]
        answer = aws_client("iam", region).simulate_principal_policy(
            PolicySourceArn=_principal_arn(caller), ActionNames=[USER_PERMISSION]
        )
    except Exception:  # no permission to ask, or a principal IAM cannot simulate
        return
    decisions = [result.get("EvalDecision") for result in answer.get("EvaluationResults", [])]
    if decisions and all(decision != "allowed" for decision in decisions):
        raise LauncherError(
            f"{caller} may not start SSM sessions ({USER_PERMISSION} is {decisions[0]} by its policies), so "
            f"attach cannot reach the job. Add {USER_PERMISSION} (and ssm:TerminateSession) to its policy; "
            f"the job's role needs {', '.join(ROLE_PERMISSIONS)}. See README, 'Debugging on SageMaker'."
        )


def instance_gpus(instance_type: str, region: str) -> int | None:
    """GPUs of an ml.* instance type, as EC2 describes its instance type; None when it cannot be read."""
    try:
        answer = aws_client("ec2", region).describe_instance_types(
            InstanceTypes=[instance_type.removeprefix("ml.")]
        )
        info = answer["InstanceTypes"][0].get("GpuInfo") or {}
    except Exception:  # a permission, a type EC2 does not sell: --port says it instead
        return None
    return sum(gpu.get("Count", 0) for gpu in info.get("Gpus", []))


def _principal_arn(caller: str) -> str:
    """An assumed role's session ARN as the role's ARN, which the policy simulator takes."""
    parts = caller.split(":")
    if len(parts) == 6 and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return caller


def _recorded_source_dir(run: LocalRun) -> str | None:
    record, _ = run.record()
    code = record.get("code") if isinstance(record, dict) else None
    source = code.get("source_dir") if isinstance(code, dict) else None
    return source if isinstance(source, str) and Path(source).is_dir() else None
