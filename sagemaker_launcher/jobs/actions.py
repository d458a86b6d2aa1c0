"""What ``stop`` and ``fetch`` do to a past job: stop it, or download and unpack its archives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.jobs.lookup import JobInfo, describe_job
from sagemaker_launcher.jobs.timing import format_when
from sagemaker_launcher.spec.layout import split_s3_uri
from sagemaker_launcher.spec.statuses import ENDED_STATUSES


def stop_job(job: str, region: str | None) -> str:
    """Ask SageMaker to stop ``job``; returns what happened. An ended job is an error: nothing to stop."""
    sagemaker = aws_client("sagemaker", region)
    description = describe_job(sagemaker, job)
    _refuse_ended(job, description)
    if description.get("TrainingJobStatus") == "Stopping":
        return f"Job {job} is already stopping; it ends as Stopped once its instances shut down."
    with aws_errors(f"Stopping training job {job}", "sagemaker:StopTrainingJob", job):
        try:
            sagemaker.stop_training_job(TrainingJobName=job)
        except Exception as error:
            # The job ended between the describe and the stop: SageMaker refuses the stop with
            # "...the training job is in status Completed." Say so as for a job that had ended before.
            if _ended_meanwhile(error):
                _refuse_ended(job, describe_job(sagemaker, job))
            raise
    return (
        f"Asked SageMaker to stop job {job}: it goes Stopping, then Stopped once the container has had "
        f"its SIGTERM grace period. Follow it with '{CLI_COMMAND} logs {job} --follow'."
    )


def _refuse_ended(job: str, description: dict[str, Any]) -> None:
    status = description.get("TrainingJobStatus")
    if status in ENDED_STATUSES:
        ended = description.get("TrainingEndTime")
        raise LauncherError(
            f"Job {job} already ended with status {status}{f' at {format_when(ended)}' if ended else ''}; "
            f"there is nothing to stop. See it with '{CLI_COMMAND} show {job}'."
        )


def _ended_meanwhile(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    info = error.response.get("Error", {})
    return info.get("Code") == "ValidationException" and "is in status" in str(info.get("Message", ""))


def fetch_artifacts(
    info: JobInfo,
    region: str | None,
    dest: Path,
    progress: Callable[[str, int], Any],
    max_size: int | None = None,
) -> list[tuple[str, Path]]:
    """Download model.tar.gz and output.tar.gz into ``dest/JOB/`` and unpack them safely there.

    ``progress(label, total_bytes)`` returns a context manager with ``update(n)`` (a tqdm bar).
    Returns ``(what, folder)`` for each archive unpacked; an archive that is not in S3 is skipped.
    Each folder appears whole or not at all; ``max_size`` bounds an archive's download and unpacked size.
    """
    from sagemaker_launcher.jobs.archives import download_and_unpack

    s3 = aws_client("s3", region)
    job_dir = dest / info.name
    archives = (("model", info.model_uri), ("output", info.output_uri))
    wanted = [(what, uri, job_dir / what) for what, uri in archives]
    for _, uri, target in wanted:
        if uri and target.exists():
            raise LauncherError(
                f"{target} already exists. Remove it, or fetch into another folder with --dest."
            )
    done = []
    for what, uri, target in wanted:
        if not uri:
            continue
        with aws_errors(f"Downloading {uri}", "s3:GetObject"):
            if download_and_unpack(s3, uri, target, progress, max_size):
                done.append((what, target))
    if not done:
        raise LauncherError(
            f"Job {info.name} ({info.status}) has no model.tar.gz or output.tar.gz in S3 yet "
            f"(looked at {info.model_uri} and {info.output_uri}). SageMaker uploads them when the job ends."
        )
    return done


def clean_up(prefix: str, region: str | None) -> str:
    """Remove a failed launch's files under ``prefix`` (``s3://bucket/EXPERIMENT/JOB/``) and abort its
    unfinished uploads, what ``aws s3 rm --recursive`` leaves; refused while a job of that name exists."""
    from sagemaker_launcher.aws.storage import JobStorage
    from sagemaker_launcher.aws.training_jobs import TRAINING_JOB, TUNING_JOB, describe

    bucket, key = split_s3_uri(prefix)
    job = key.rstrip("/").rsplit("/", 1)[-1]
    if not prefix.startswith("s3://") or not bucket or key.count("/") < 2 or not key.endswith("/"):
        raise LauncherError(
            f"{prefix!r} is not a launch's folder: give it as s3://BUCKET/EXPERIMENT/JOB-NAME/ (with the "
            "trailing /), as the failed launch printed it."
        )
    sagemaker = aws_client("sagemaker", region)
    with aws_errors(f"Looking up job {job}", "sagemaker:DescribeTrainingJob", job):
        exists = [
            kind.noun for kind in (TRAINING_JOB, TUNING_JOB) if describe(sagemaker, kind, job) is not None
        ]
    if exists:
        raise LauncherError(
            f"A {exists[0]} named {job} exists, so {prefix} holds its configs, record and code: nothing was "
            f"removed. See it with '{CLI_COMMAND} show {job}'."
        )
    with aws_errors(f"Removing {prefix}", "s3:DeleteObject"):
        removal = JobStorage(region).remove_prefix(prefix)
    aborted = f"aborted {removal.aborted} unfinished upload(s)"
    said = f"Removed {removal.removed} file(s) under {prefix} and {aborted}."
    if removal.refused:
        keys = ", ".join(f"{key} ({code})" for key, code, _ in removal.refused[:3])
        raise LauncherError(
            f"{said} S3 refused to remove {len(removal.refused)}: {keys}. That needs s3:DeleteObject on "
            f"{prefix}* (and no bucket policy against it)."
        )
    return said
