"""A bayesian sweep: one SageMaker hyperparameter tuning job around the experiment's job.

The tuning job's files sit where one job's would (``s3://BUCKET/EXPERIMENT/<tuning-job>/``: configs,
record, request, inputs, code), and its training jobs share them: the tuner gives each the same channels
and code, with the swept hyperparameters set by SageMaker. Its tags, the sweep's among them, pass to
every training job it starts, so ``list --sweep`` and ``compare --sweep`` find them. The files are
staged as a launch stages them, all or nothing (``sequence.stage_and_create``).

Checkpoints: the tuning API gives every trial the same CheckpointConfig. The example keeps each job's
checkpoints in a folder named by the job and resumes only from its own, so its trials keep checkpoint
sync (and spot resume); any other script could resume from another trial's state, so for its tuning
jobs checkpoint sync is switched off, and the launch says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sagemaker_launcher.aws.training_jobs import TUNING_JOB
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.spec_building import job_spec
from sagemaker_launcher.launch.sequence import stage_and_create
from sagemaker_launcher.launch.sweeps import Sweep, check_bayesian, tuning_ranges
from sagemaker_launcher.spec.job import JobSpec, TuningPlan
from sagemaker_launcher.spec.layout import TAG_SWEEP, TAG_SWEEP_OBJECTIVE
from sagemaker_launcher.spec.request import checked, tuning_job_request

NO_SHARED_CHECKPOINTS = (
    "Note: checkpoint sync is off for this tuning job: its trials would share one checkpoint folder, and "
    "only the example's training code keeps each job's checkpoints apart."
)


def tuning_request(
    configs: ResolvedConfigs, sweep: Sweep, arguments: Sequence[str], note: Callable[[str], None]
) -> tuple[JobSpec, dict[str, Any]]:
    """The tuning job's spec (its training jobs' definition) and its checked request."""
    names = check_bayesian(configs, sweep)
    spec = job_spec(configs, arguments, job_name=sweep.sweep_id)
    tags = (*spec.tags, (TAG_SWEEP, sweep.sweep_id), (TAG_SWEEP_OBJECTIVE, sweep.objective_tag))
    checkpoints = spec.checkpoints if configs.training_defaults.sends_training_keys else None
    if spec.checkpoints and checkpoints is None:
        note(NO_SHARED_CHECKPOINTS)
    spec = dataclasses.replace(spec, tags=tags, checkpoints=checkpoints)
    plan = TuningPlan(
        name=sweep.sweep_id,
        metric=sweep.metric,
        goal=sweep.goal,
        max_jobs=sweep.max_jobs,
        max_parallel=sweep.max_parallel,
        ranges=tuning_ranges(sweep, names),
    )
    return spec, checked(spec, tuning_job_request(spec, plan), TUNING_JOB.operation)


def launch_tuning(spec: JobSpec, request: dict[str, Any]) -> None:
    """Stage the files and create the tuning job, all or nothing."""
    stage_and_create(spec, request, TUNING_JOB)
