"""The record of who launched what, from which code, stored beside the resolved configs."""

from __future__ import annotations

import datetime as dt
import getpass
import importlib.metadata
import platform
import shlex
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_launcher.config_loading import ResolvedConfigs
from sagemaker_launcher.job_plan import JobPlan

RECORD_VERSION = 1
LAUNCHER_SCRIPT = "run_sagemaker_job.py"
_PACKAGES = ("sagemaker", "boto3", "botocore", "yacs", "PyYAML", "torch")
# Diffs larger than this are cut; the record notes the cut.
MAX_DIFF_CHARACTERS = 200_000


@dataclass(frozen=True)
class GitState:
    """The checkout the launch came from."""

    commit: str | None
    branch: str | None
    dirty: bool
    diff: str
    untracked: list[str]


def git_state(directory: Path | None = None) -> GitState:
    """Read commit, branch and uncommitted changes of the repository around ``directory``."""
    cwd = directory or Path.cwd()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return GitState(commit=None, branch=None, dirty=False, diff="", untracked=[])
    diff = git("diff", "HEAD", "--no-color") or ""
    untracked = (git("ls-files", "--others", "--exclude-standard") or "").split()
    return GitState(
        commit=commit.strip(),
        branch=(git("rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None,
        dirty=bool(diff or untracked),
        diff=diff,
        untracked=untracked,
    )


def package_versions() -> dict[str, str | None]:
    """Versions of the packages that shape a job, read from metadata without importing them."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_record(
    configs: ResolvedConfigs,
    plan: JobPlan,
    git: GitState,
    arguments: Sequence[str],
    parent_job: str | None = None,
    aws_identity: str | None = None,
) -> dict[str, Any]:
    """Assemble the record written as ``config/record.json``."""
    diff = git.diff
    return {
        "record_version": RECORD_VERSION,
        "job_name": plan.job_name,
        "experiment": plan.experiment,
        "parent_job": parent_job,
        "launched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "launched_by": {
            "user": getpass.getuser(),
            "host": socket.gethostname(),
            "aws_identity": aws_identity,
        },
        "command_line": shlex.join(["python", LAUNCHER_SCRIPT, *arguments]),
        "git": {
            "commit": git.commit,
            "branch": git.branch,
            "dirty": git.dirty,
            "untracked": git.untracked,
            "diff": diff[:MAX_DIFF_CHARACTERS],
            "diff_truncated": len(diff) > MAX_DIFF_CHARACTERS,
        },
        "config_files": {
            "sagemaker": [str(path) for path in configs.sagemaker_files],
            "training": [str(path) for path in configs.training_files],
            "overrides": list(configs.overrides),
        },
        "instance": {
            "type": configs.sagemaker.SAGEMAKER.INSTANCE_TYPE,
            "count": configs.sagemaker.SAGEMAKER.INSTANCE_COUNT,
            "spot": configs.sagemaker.SAGEMAKER.USE_SPOT_INSTANCES,
        },
        "image_uri": plan.image_uri,
        "code": (
            {"source": "uploaded", "source_dir": configs.sagemaker.SAGEMAKER.SOURCE_DIR, "uri": plan.code_uri}
            if plan.code_uri
            else {"source": "image", "path": "/opt/ml/code"}
        ),
        "locations": {"prefix": plan.prefix, "config": plan.config_uri, "checkpoints": plan.checkpoint_uri},
        "packages": package_versions(),
    }
