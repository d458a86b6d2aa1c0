"""What ``stop`` and ``fetch`` do to a past job: stop it, or download and unpack its archives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.jobs.lookup import JobInfo, describe_job
from sagemaker_launcher.jobs.statuses import ENDED_STATUSES
from sagemaker_launcher.jobs.timing import format_when


def stop_job(job: str, region: str | None) -> str:
    """Ask SageMaker to stop ``job``; returns what happened. An ended job is an error: nothing to stop."""
    sagemaker = aws_client("sagemaker", region)
    description = describe_job(sagemaker, job)
    status = description.get("TrainingJobStatus")
    if status in ENDED_STATUSES:
        ended = description.get("TrainingEndTime")
        raise LauncherError(
            f"Job {job} already ended with status {status}{f' at {format_when(ended)}' if ended else ''}; "
            f"there is nothing to stop. See it with '{CLI_COMMAND} show {job}'."
        )
    if status == "Stopping":
        return f"Job {job} is already stopping; it ends as Stopped once its instances shut down."
    with aws_errors(f"Stopping training job {job}", "sagemaker:StopTrainingJob", job):
        sagemaker.stop_training_job(TrainingJobName=job)
    return (
        f"Asked SageMaker to stop job {job}: it goes Stopping, then Stopped once the container has had "
        f"its SIGTERM grace period. Follow it with '{CLI_COMMAND} logs {job} --follow'."
    )


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
