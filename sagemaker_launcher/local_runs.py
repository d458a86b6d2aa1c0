"""Running a job on this machine: ``local_process`` (host mode) or ``local``/``local_gpu`` (Docker).

Both lay the job out under ``LOCAL.RUNS_DIR`` exactly as a SageMaker job is laid out in S3 (same
config channel, record and archives), and need no AWS account.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from sagemaker_launcher.config_loading import ResolvedConfigs
from sagemaker_launcher.job_plan import MODEL_ARCHIVE, OUTPUT_ARCHIVE
from sagemaker_launcher.launch import plan_for, write_config_channel
from sagemaker_launcher.local_layout import (
    OUTPUT_DIR,
    HostTree,
    host_names,
    job_dir,
    lay_out_hosts,
    pack_artifacts,
    script_mode_hyperparameters,
)
from sagemaker_launcher.local_process import run_hosts
from sagemaker_launcher.record import build_record, git_state
from sagemaker_launcher.storage import JobStorage
from sagemaker_launcher.validation import LOCAL_PROCESS, LOCAL_REGION, local_source_dir


def run_locally(configs: ResolvedConfigs, arguments: Sequence[str]) -> int:
    """Record and run the job on this machine; returns its exit code."""
    cfg = configs.sagemaker
    git = git_state()
    plan = plan_for(configs, Path(cfg.LOCAL.RUNS_DIR).resolve().as_uri(), git)
    write_config_channel(JobStorage(), plan, configs, build_record(configs, plan, git, arguments))
    source_dir = local_source_dir(cfg).resolve()
    click.echo(f"Job {plan.job_name} ({cfg.SAGEMAKER.INSTANCE_TYPE}): files in {job_dir(plan)}", err=True)
    if cfg.SAGEMAKER.INSTANCE_TYPE == LOCAL_PROCESS:
        hosts = host_names(cfg.SAGEMAKER.INSTANCE_COUNT)
        hyperparameters = script_mode_hyperparameters(
            plan, source_dir, cfg.SAGEMAKER.ENTRY_POINT, cfg.SAGEMAKER.REGION or LOCAL_REGION
        )
        trees = lay_out_hosts(plan, hosts, hyperparameters, LOCAL_PROCESS)
        codes = run_hosts(
            trees,
            source_dir,
            cfg.SAGEMAKER.ENTRY_POINT,
            cfg.SAGEMAKER.ENVIRONMENT,
            lambda line: click.echo(line, err=True),
        )
        if any(codes.values()):
            return _report_failure(trees, codes)
        pack_artifacts(plan, trees[0])
    else:
        from sagemaker_launcher.local_container import run_in_docker

        exit_code = run_in_docker(cfg, plan, source_dir)
        if exit_code:
            return exit_code
    output = job_dir(plan) / OUTPUT_DIR
    click.echo(f"Job {plan.job_name} completed.", err=True)
    click.echo(f"  model:  {output / MODEL_ARCHIVE}", err=True)
    click.echo(f"  output: {output / OUTPUT_ARCHIVE}", err=True)
    return 0


def _report_failure(trees: list[HostTree], codes: dict[str, int]) -> int:
    for tree in trees:
        code = codes[tree.host]
        if not code:
            continue
        reason = tree.failure_file.read_text().strip() if tree.failure_file.is_file() else "no failure file"
        click.echo(f"Host {tree.host} exited with code {code}: {reason}", err=True)
    return next(code for code in codes.values() if code)
