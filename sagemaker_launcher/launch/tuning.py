"""A bayesian sweep: one SageMaker hyperparameter tuning job around the experiment's Estimator.

The tuning job's files sit where one job's would (``s3://BUCKET/EXPERIMENT/<tuning-job>/``: configs,
record, request, inputs, code), and its training jobs share them: the tuner gives each the same channels
and code, with the swept hyperparameters set by SageMaker. Its tags, the sweep's among them, pass to
every training job it starts, so ``list --sweep`` and ``compare --sweep`` find them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws.storage import JobStorage, pack_source_dir
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.launch.plan import REQUEST_FILE, TAG_SWEEP, TAG_SWEEP_OBJECTIVE, JobPlan, plan_job
from sagemaker_launcher.launch.record import build_record, git_state
from sagemaker_launcher.launch.sequence import dump_json, write_config_channel
from sagemaker_launcher.launch.sweeps import Sweep, check_bayesian, tuning_ranges


def launch_tuning(
    configs: ResolvedConfigs, sweep: Sweep, arguments: Sequence[str], *, send: bool
) -> dict[str, Any]:
    """Stage the files and create the tuning job (``send``), or only build its request; returns it."""
    from sagemaker_launcher.aws.sagemaker_sdk import create_tuning_job
    from sagemaker_launcher.launch.plan import hyperparameters_of

    names = check_bayesian(configs, sweep)
    cfg = configs.sagemaker
    git = git_state()
    hyperparameters = hyperparameters_of(configs)
    plan = plan_job(cfg, hyperparameters, f"s3://{cfg.S3.BUCKET}", git.commit, job_name=sweep.sweep_id)
    plan = _with_sweep_tags(plan, sweep)
    tuning = {
        "name": sweep.sweep_id,
        "metric": sweep.metric,
        "goal": sweep.goal,
        "max_jobs": sweep.max_jobs,
        "max_parallel": sweep.max_parallel,
        "ranges": tuning_ranges(sweep, names),
    }
    if not send:
        return create_tuning_job(cfg, plan, tuning, send=False)
    storage = JobStorage(cfg.SAGEMAKER.REGION)
    for name, path in plan.uploads.items():
        storage.upload(path, plan.channels[name], f"input '{name}'")
    if plan.packs_code:
        storage.put(plan.code_uri, pack_source_dir(Path(cfg.SAGEMAKER.SOURCE_DIR)))
    write_config_channel(storage, plan, configs, build_record(configs, plan, git, arguments))
    request = create_tuning_job(cfg, plan, tuning, send=True)
    storage.put(plan.config_uri + REQUEST_FILE, dump_json(request).encode())
    return request


def _with_sweep_tags(plan: JobPlan, sweep: Sweep) -> JobPlan:
    import dataclasses

    tags = [*plan.tags, {"Key": TAG_SWEEP, "Value": sweep.sweep_id}]
    tags.append({"Key": TAG_SWEEP_OBJECTIVE, "Value": sweep.objective_tag})
    return dataclasses.replace(plan, tags=tags)
