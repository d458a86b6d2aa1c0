"""The record of who launched what, from which code, stored beside the resolved configs."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import importlib.metadata
import platform
import shlex
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract.names import CODE_DIR, DEFAULT_BASE_DIR
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.launch.plan import JobPlan
from sagemaker_launcher.launch.redaction import redact

# 2: the diff is redacted and hashed, changed files are listed.
RECORD_VERSION = 2
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
    # ``git diff HEAD`` as it is: it may hold secrets, so the record keeps only its redacted form.
    diff: str
    changed: list[str]
    untracked: list[str]


def git_state(directory: Path | None = None) -> GitState:
    """Read commit, branch and uncommitted changes of the repository around ``directory``."""
    cwd = directory or Path.cwd()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, errors="replace", check=False
            )
        except FileNotFoundError:
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return GitState(commit=None, branch=None, dirty=False, diff="", changed=[], untracked=[])
    diff = git("diff", "HEAD", "--no-color") or ""
    untracked = _names(git("ls-files", "-z", "--others", "--exclude-standard"))
    return GitState(
        commit=commit.strip(),
        branch=(git("rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None,
        dirty=bool(diff or untracked),
        diff=diff,
        changed=_names(git("diff", "HEAD", "-z", "--name-only")),
        untracked=untracked,
    )


def _names(output: str | None) -> list[str]:
    """File names from git's ``-z`` output (NUL-separated, so spaces and newlines in names survive)."""
    return [name for name in (output or "").split("\0") if name]


def _git_record(git: GitState) -> dict[str, Any]:
    """The record's ``git`` part: enough to find and check the code, never the working tree's secrets.

    Changed and untracked files are listed by name only. The diff is kept with its credential-like
    values redacted (``diff_redacted_lines`` says how many lines); ``diff_sha256`` hashes that
    redacted diff whole, before any cut, so it cannot confirm a guess at a redacted value.
    """
    redacted = redact(git.diff)
    return {
        "commit": git.commit,
        "branch": git.branch,
        "dirty": git.dirty,
        "changed": git.changed,
        "untracked": git.untracked,
        "diff_sha256": hashlib.sha256(redacted.text.encode()).hexdigest() if git.diff else None,
        "diff": redacted.text[:MAX_DIFF_CHARACTERS],
        "diff_truncated": len(redacted.text) > MAX_DIFF_CHARACTERS,
        "diff_redacted_lines": redacted.lines,
    }


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
        "git": _git_record(git),
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
        "code": _code_record(configs, plan),
        "locations": {"prefix": plan.prefix, "config": plan.config_uri, "checkpoints": plan.checkpoint_uri},
        "packages": package_versions(),
    }


def _code_record(configs: ResolvedConfigs, plan: JobPlan) -> dict[str, Any]:
    """Where the job's code came from: SOURCE_DIR packed now, an earlier job's archive, or the image."""
    if plan.packs_code:
        source_dir = configs.sagemaker.SAGEMAKER.SOURCE_DIR
        return {"source": "uploaded", "source_dir": source_dir, "uri": plan.code_uri}
    if plan.code_uri:
        return {"source": "reused", "uri": plan.code_uri}
    return {"source": "image", "path": f"{DEFAULT_BASE_DIR}/{CODE_DIR}"}
