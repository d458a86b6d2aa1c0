"""A bayesian sweep: one SageMaker hyperparameter tuning job around the experiment's Estimator.

The tuning job's files sit where one job's would (``s3://BUCKET/EXPERIMENT/<tuning-job>/``: configs,
record, request, inputs, code), and its training jobs share them: the tuner gives each the same channels
and code, with the swept hyperparameters set by SageMaker. Its tags, the sweep's among them, pass to
every training job it starts, so ``list --sweep`` and ``compare --sweep`` find them. The files are
staged as a launch stages them, all or nothing (``sequence.stage_and_create``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.launch.plan import (
    TAG_SWEEP,
    TAG_SWEEP_OBJECTIVE,
    JobPlan,
    hyperparameters_of,
    plan_job,
)
from sagemaker_launcher.launch.record import git_state
from sagemaker_launcher.launch.sequence import TUNING_JOB, prepare_launch, stage_and_create
from sagemaker_launcher.launch.sweeps import Sweep, check_bayesian, tuning_ranges


def launch_tuning(
    configs: ResolvedConfigs, sweep: Sweep, arguments: Sequence[str], *, send: bool
) -> dict[str, Any]:
    """Stage the files and create the tuning job (``send``), or only build its request; returns it."""
    from sagemaker_launcher.aws.sagemaker_sdk import create_tuning_job

    names = check_bayesian(configs, sweep)
    cfg = configs.sagemaker
    storage = prepare_launch(cfg.SAGEMAKER.REGION) if send else None
    git = git_state()
    plan = plan_job(
        cfg, hyperparameters_of(configs), f"s3://{cfg.S3.BUCKET}", git.commit, job_name=sweep.sweep_id
    )
    plan = _with_sweep_tags(plan, sweep)
    tuning = {
        "name": sweep.sweep_id,
        "metric": sweep.metric,
        "goal": sweep.goal,
        "max_jobs": sweep.max_jobs,
        "max_parallel": sweep.max_parallel,
        "ranges": tuning_ranges(sweep, names),
    }
    if storage is None:
        return create_tuning_job(cfg, plan, tuning, send=False)

    def create(keep_request: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        return create_tuning_job(cfg, plan, tuning, send=True, before_send=keep_request)

    return stage_and_create(storage, configs, plan, git, arguments, TUNING_JOB, create)


def _with_sweep_tags(plan: JobPlan, sweep: Sweep) -> JobPlan:
    tags = [*plan.tags, {"Key": TAG_SWEEP, "Value": sweep.sweep_id}]
    tags.append({"Key": TAG_SWEEP_OBJECTIVE, "Value": sweep.objective_tag})
    return dataclasses.replace(plan, tags=tags)
