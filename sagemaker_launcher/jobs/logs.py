"""A training job's CloudWatch logs: every host's stream, each line prefixed with its host.

SageMaker writes one stream per host to ``/aws/sagemaker/TrainingJobs``, named
``<job>/algo-<n>-<epoch seconds>``. boto3 only, so following a job does not load the SageMaker SDK.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors, is_not_found
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.lookup import describe_job
from sagemaker_launcher.spec.statuses import ENDED_STATUSES

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_STREAM_SUFFIX = re.compile(r"-\d+$")


def host_of(stream: str, job: str) -> str:
    """``JOB/algo-1-1700000000`` -> ``algo-1``."""
    return _STREAM_SUFFIX.sub("", stream.removeprefix(f"{job}/"))


class LogReader:
    """Reads the new events of every stream of one job, remembering how far each stream was read."""

    def __init__(self, logs: Any, job: str) -> None:
        self._logs = logs
        self._job = job
        self._tokens: dict[str, str | None] = {}

    def streams(self) -> list[str]:
        """The job's stream names; none while the log group or the streams do not exist yet."""
        names: list[str] = []
        request = {"logGroupName": LOG_GROUP, "logStreamNamePrefix": f"{self._job}/"}
        with aws_errors(f"Listing the log streams of job {self._job}", "logs:DescribeLogStreams"):
            try:
                for page in self._logs.get_paginator("describe_log_streams").paginate(**request):
                    names += [stream["logStreamName"] for stream in page.get("logStreams", [])]
            except Exception as error:
                if is_not_found(error):
                    return []
                raise
        return sorted(names)

    def new_lines(self) -> list[str]:
        """Lines written since the last call, from all hosts, in time order, as ``[host] message``."""
        events: list[tuple[int, str, str]] = []
        for stream in self.streams():
            host = host_of(stream, self._job)
            events += [(event["timestamp"], host, event["message"]) for event in self._read(stream)]
        events.sort(key=lambda event: event[0])
        return [f"[{host}] {message.rstrip()}" for _, host, message in events]

    def _read(self, stream: str) -> list[dict[str, Any]]:
        token = self._tokens.get(stream)
        events: list[dict[str, Any]] = []
        with aws_errors(f"Reading log stream {stream}", "logs:GetLogEvents"):
            while True:
                request: dict[str, Any] = {
                    "logGroupName": LOG_GROUP,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                if token:
                    request["nextToken"] = token
                page = self._logs.get_log_events(**request)
                events += page.get("events", [])
                # CloudWatch signals the end of a stream by handing back the token it was given, and
                # may answer empty pages before that end (GetLogEvents API reference): read on.
                finished = page["nextForwardToken"] == token
                token = page["nextForwardToken"]
                if finished:
                    break
        self._tokens[stream] = token
        return events


def print_logs(
    job: str, region: str | None, follow: bool, poll_seconds: float, echo: Callable[[str], None]
) -> tuple[str, bool]:
    """Print the job's logs (until it ends, with ``follow``); returns its status and whether a line came.

    A followed job that ends Failed or Stopped raises ``LauncherError`` with its failure reason.
    """
    sagemaker = aws_client("sagemaker", region)
    reader = LogReader(aws_client("logs", region), job)
    printed = False
    while True:
        # Read the status first: once it has ended, this round's read holds the last lines.
        description = describe_job(sagemaker, job)
        status = description["TrainingJobStatus"]
        for line in reader.new_lines():
            echo(line)
            printed = True
        if not follow or status in ENDED_STATUSES:
            break
        time.sleep(poll_seconds)
    if follow and status in ("Failed", "Stopped"):
        raise LauncherError(
            f"Job {job} ended {status}: {description.get('FailureReason', 'no failure reason given')}."
        )
    return status, printed


def no_logs_note(job: str, status: str) -> str:
    """What to tell the user when a job has no log lines (yet)."""
    return (
        f"No log lines for job {job} ({status}) in {LOG_GROUP}. SageMaker creates the streams "
        f"'{job}/algo-N-...' once the instances start; try again with --follow to wait for them."
    )
