"""The launch sequence: resolve and validate, lay out, write the record, then start the job.

Nothing is written and no AWS call is made until validation has passed, and a dry run stops
after building the request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagemaker_launcher.config_loading import ResolvedConfigs, load_configs
from sagemaker_launcher.job_plan import (
    RECORD_FILE,
    REQUEST_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
    JobPlan,
    hyperparameters_of,
    plan_job,
)
from sagemaker_launcher.record import GitState, build_record, git_state
from sagemaker_launcher.storage import JobStorage, pack_source_dir
from sagemaker_launcher.validation import validate


def resolve(config_file: str | Path | None, overrides: Sequence[str]) -> ResolvedConfigs:
    """Load and validate both configs; raises ``LauncherError`` before anything is touched."""
    configs = load_configs(config_file, overrides)
    validate(configs)
    return configs


def plan_for(
    configs: ResolvedConfigs,
    root: str,
    git: GitState,
    parent_job: str | None = None,
    code_uri: str | None = None,
) -> JobPlan:
    """The job's layout under ``root``, with its hyperparameters; ``code_uri``: an existing code archive."""
    return plan_job(
        configs.sagemaker, hyperparameters_of(configs), root, git.commit, parent_job, code_uri=code_uri
    )


def dump_json(data: Any) -> str:
    """The JSON form used for requests and records: stable key order, readable."""
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def dry_run_request(
    configs: ResolvedConfigs, parent_job: str | None = None, code_uri: str | None = None
) -> dict[str, Any]:
    """The CreateTrainingJob request a launch would send; sends nothing and writes nothing."""
    from sagemaker_launcher.sagemaker_job import create_training_job

    plan = plan_for(configs, f"s3://{configs.sagemaker.S3.BUCKET}", git_state(), parent_job, code_uri)
    return create_training_job(configs.sagemaker, plan, send=False)


def launch_on_sagemaker(
    configs: ResolvedConfigs,
    arguments: Sequence[str],
    parent_job: str | None = None,
    code_uri: str | None = None,
) -> JobPlan:
    """Upload inputs, code, configs and record under the job's S3 prefix, then create the job.

    ``code_uri`` names an existing code archive (a reproduced job's) to run instead of packing SOURCE_DIR.
    """
    from sagemaker_launcher.sagemaker_job import create_training_job

    cfg = configs.sagemaker
    git = git_state()
    plan = plan_for(configs, f"s3://{cfg.S3.BUCKET}", git, parent_job, code_uri)
    storage = JobStorage(cfg.SAGEMAKER.REGION)
    record = build_record(
        configs, plan, git, arguments, parent_job, aws_identity=_caller_arn(cfg.SAGEMAKER.REGION)
    )
    for name, path in plan.uploads.items():
        storage.upload(path, plan.channels[name], f"input '{name}'")
    if plan.packs_code:
        storage.put(plan.code_uri, pack_source_dir(Path(cfg.SAGEMAKER.SOURCE_DIR)))
    write_config_channel(storage, plan, configs, record)
    create_training_job(
        cfg,
        plan,
        send=True,
        before_send=lambda request: storage.put(plan.config_uri + REQUEST_FILE, dump_json(request).encode()),
    )
    return plan


def write_config_channel(
    storage: JobStorage, plan: JobPlan, configs: ResolvedConfigs, record: dict[str, Any]
) -> None:
    """Write the resolved configs and the record into the job's ``config`` channel."""
    storage.put(plan.config_uri + SAGEMAKER_CONFIG_FILE, configs.sagemaker.dump().encode())
    if configs.training is not None:
        storage.put(plan.config_uri + TRAINING_CONFIG_FILE, configs.training.dump().encode())
    storage.put(plan.config_uri + RECORD_FILE, dump_json(record).encode())


def _caller_arn(region: str) -> str | None:
    """The AWS identity launching the job, for the record."""
    import boto3

    return boto3.client("sts", region_name=region).get_caller_identity()["Arn"]
