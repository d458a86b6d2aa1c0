"""The record of who launched what, from which code, stored beside the resolved configs (``record.json``).

Format versions: 2 added the redacted, hashed diff and the changed files; 3 names the code's
own commit beside the launcher's checkout (they differ for a reproduced job), the image's digest, how
processes start, and which SDK-defaults file filled which field; 4 (this one) adds the debugger. Readers
accept every version.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import importlib.metadata
import json
import platform
import shlex
import socket
from dataclasses import dataclass
from typing import Any

from sagemaker_container.sagemaker_contract.names import CODE_DIR, DEFAULT_BASE_DIR
from sagemaker_launcher.spec.git import GitState
from sagemaker_launcher.spec.job import CODE_IMAGE, CODE_UPLOADED, JobSpec
from sagemaker_launcher.spec.redaction import redact
from sagemaker_launcher.spec.request import program

RECORD_VERSION = 4
LAUNCHER_SCRIPT = "run_sagemaker_job.py"
_PACKAGES = ("boto3", "botocore", "yacs", "PyYAML", "torch", "sagemaker-training")
# Diffs larger than this are cut; the record notes the cut.
MAX_DIFF_CHARACTERS = 200_000


@dataclass(frozen=True)
class ImageIdentity:
    """The image as ECR knew it at launch: its digest, or why it could not be read."""

    digest: str | None = None
    note: str | None = None


def dump_json(data: Any) -> str:
    """The JSON form used for requests and records: stable key order, readable."""
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def git_record(git: GitState) -> dict[str, Any]:
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
        "changed": list(git.changed),
        "untracked": list(git.untracked),
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
    spec: JobSpec, aws_identity: str | None = None, image: ImageIdentity | None = None
) -> dict[str, Any]:
    """Assemble the record written as ``config/record.json``."""
    provenance = spec.provenance
    image = image or ImageIdentity()
    return {
        "record_version": RECORD_VERSION,
        "job_name": spec.name,
        "experiment": spec.experiment,
        "parent_job": provenance.parent_job,
        "launched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "launched_by": {"user": _user(), "host": socket.gethostname(), "aws_identity": aws_identity},
        "command_line": shlex.join(["python", LAUNCHER_SCRIPT, *provenance.arguments]),
        "git": git_record(provenance.git),
        "config_files": {
            "sagemaker": list(provenance.config_files.get("sagemaker", ())),
            "training": list(provenance.config_files.get("training", ())),
            "overrides": list(provenance.overrides),
        },
        "instance": {"type": spec.instance_type, "count": spec.instance_count, "spot": spec.spot},
        "processes": spec.processes.described,
        "image_uri": spec.image_uri,
        "image": {"uri": spec.image_uri, "digest": image.digest, "note": image.note},
        "code": _code_record(spec),
        "debugger": _debugger_record(spec),
        "locations": {
            "prefix": spec.prefix,
            "config": spec.config_uri,
            "checkpoints": spec.checkpoints.uri if spec.checkpoints else None,
        },
        "sdk_defaults": dict(spec.sdk_defaults_sources),
        "packages": package_versions(),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _debugger_record(spec: JobSpec) -> dict[str, Any]:
    """The job's debugger, and whether the launcher added job_debugger.py beside the code (the hold's
    runner, then the job's program)."""
    debugger = spec.debugger
    return {
        "port": debugger.port,
        "adapter": debugger.adapter,
        "hold_on_failure_seconds": debugger.hold_seconds,
        "program": program(spec),
        "module_added": debugger.adds_module and spec.code.source == CODE_UPLOADED,
    }


def _code_record(spec: JobSpec) -> dict[str, Any]:
    """Where the job's code came from: SOURCE_DIR packed now, an earlier job's archive, or the image."""
    code = spec.code
    record: dict[str, Any] = {"source": code.source, "entry_point": code.entry_point, "commit": code.commit}
    if code.source == CODE_UPLOADED:
        record.update(source_dir=str(code.source_dir), uri=code.archive_uri)
    elif code.source == CODE_IMAGE:
        record["path"] = f"{DEFAULT_BASE_DIR}/{CODE_DIR}"
    else:
        record["uri"] = code.archive_uri
    return record
