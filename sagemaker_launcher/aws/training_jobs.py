"""Asking SageMaker whether a job exists: once, or until it can tell (eventual consistency, outages).

Right after CreateTrainingJob, Describe can still answer "Requested resource not found." for a moment,
and a create whose answer was lost (a cut connection, an interrupt) may have reached the service. So
a launch that must know whether its job exists asks again for a few seconds before it believes a
"not found", and says it cannot tell when the service stays out of reach.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sagemaker_launcher.aws.faults import is_not_found

# How long a launch keeps asking before it trusts "not found", or gives up on an unreachable service.
SETTLE_SECONDS = 6.0
_RETRY_PAUSE_S = 0.5


@dataclass(frozen=True)
class JobKind:
    """What a launch creates: the SageMaker calls that create and describe one, and the command that
    shows one (``{name}`` filled in)."""

    noun: str
    operation: str
    create: str
    describe: str
    name_field: str
    follow_up: str


TRAINING_JOB = JobKind(
    "training job",
    "CreateTrainingJob",
    "create_training_job",
    "describe_training_job",
    "TrainingJobName",
    "show {name}",
)
TUNING_JOB = JobKind(
    "tuning job",
    "CreateHyperParameterTuningJob",
    "create_hyper_parameter_tuning_job",
    "describe_hyper_parameter_tuning_job",
    "HyperParameterTuningJobName",
    "list --sweep {name}",
)


def describe(sagemaker: Any, kind: JobKind, name: str) -> dict[str, Any] | None:
    """The job's description, or None when SageMaker does not know the name."""
    try:
        return getattr(sagemaker, kind.describe)(**{kind.name_field: name})
    except Exception as error:
        if is_not_found(error):
            return None
        raise


def describe_settled(sagemaker: Any, kind: JobKind, name: str, seconds: float) -> dict[str, Any] | None:
    """``describe``, asking again for ``seconds`` before trusting "not found" about a job just created."""
    deadline = time.monotonic() + seconds
    while True:
        description = describe(sagemaker, kind, name)
        if description is not None or time.monotonic() >= deadline:
            return description
        time.sleep(_RETRY_PAUSE_S)


def exists_eventually(
    sagemaker: Any, kind: JobKind, name: str, seconds: float = SETTLE_SECONDS
) -> bool | None:
    """Whether the job exists, asking again for ``seconds`` before trusting "not found"; None when the
    service could not be asked (the caller says it cannot tell)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return describe_settled(sagemaker, kind, name, max(0.0, deadline - time.monotonic())) is not None
        except Exception:
            if time.monotonic() >= deadline:
                return None
            time.sleep(_RETRY_PAUSE_S)
