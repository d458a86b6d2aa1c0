"""The commands that start jobs: ``launch`` (the default), ``reproduce`` and ``sweep``.

Each parses its options and hands the work to ``sagemaker_launcher.launch``; what they print for
people (cost bounds, progress) goes to stderr, so a dry run's stdout stays JSON.
"""

from __future__ import annotations

import sys

import click

from sagemaker_launcher.cli.group import (
    ARGUMENTS_KEY,
    REGION_OPTION,
    announce,
    cli,
    config_option,
    echo_lines,
    follow_logs,
    poll_option,
)

LAUNCH_EPILOG = """\b
Examples:
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml --dry-run
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml \\
      SAGEMAKER.INSTANCE_COUNT 2 SOLVER.BASE_LR 0.01
  python run_sagemaker_job.py --config configs/local_process.yaml   # no AWS, no Docker
"""


@cli.command(context_settings={"ignore_unknown_options": True}, epilog=LAUNCH_EPILOG)
@config_option("Experiment YAML (SageMaker config). Without it, the defaults in sagemaker_default_config.py.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the CreateTrainingJob request as JSON on stdout, and on stderr a cost bound from the AWS "
    "Price List where it answers; send nothing, write nothing.",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Stream the job's logs until it ends; exit non-zero if it failed.",
)
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
@click.pass_context
def launch(
    ctx: click.Context, config_file: str | None, dry_run: bool, wait: bool, overrides: tuple[str, ...]
) -> None:
    """Validate the configs, record the experiment and start the job.

    KEY VALUE pairs override the YAML files: SageMaker keys (sagemaker_default_config.py) and
    training keys (sagemaker_container/training_default_config.py) alike, routed by section.
    SAGEMAKER.INSTANCE_TYPE local, local_gpu or local_process runs on this machine instead.
    """
    from sagemaker_launcher.launch.sequence import resolve

    configs = resolve(config_file, overrides)
    from sagemaker_launcher.launch.sweeps import refuse_plain_launch

    refuse_plain_launch(configs.sagemaker, configs.sagemaker_source)
    if configs.training_defaults.note:
        click.echo(configs.training_defaults.note, err=True)
    instance_type = configs.sagemaker.SAGEMAKER.INSTANCE_TYPE
    if dry_run:
        from sagemaker_launcher.launch.cost import PriceLookups, job_lines
        from sagemaker_launcher.launch.sequence import dry_run_request, dump_json

        prices = PriceLookups([configs.sagemaker])
        click.echo(dump_json(dry_run_request(configs)))
        echo_lines(job_lines(prices, configs.sagemaker))
        return
    from sagemaker_launcher.config.run_modes import is_local

    if is_local(instance_type):
        from sagemaker_launcher.local.runs import run_locally

        sys.exit(run_locally(configs, ctx.meta[ARGUMENTS_KEY]))
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker

    plan = launch_on_sagemaker(configs, ctx.meta[ARGUMENTS_KEY])
    announce(plan.job_name, plan.prefix)
    if wait:
        follow_logs(plan.job_name, configs.sagemaker.SAGEMAKER.REGION)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("job")
@REGION_OPTION
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the new job's CreateTrainingJob request as JSON on stdout, and on stderr a cost bound from "
    "the AWS Price List where it answers; send nothing, write nothing.",
)
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
def reproduce(job: str, region: str | None, dry_run: bool, overrides: tuple[str, ...]) -> None:
    """Launch a new job from what JOB ran, with KEY VALUE overrides on top: its recorded resolved configs,
    its S3 input channels and its code archive.

    Nothing on this machine is read or uploaded unless an override names it: INPUTS.<channel> or
    SAGEMAKER.SOURCE_DIR on the command line are used as given. The new job's record names JOB as its
    parent_job and the job carries the sm-launcher:parent-job tag. --region is where JOB ran; the new
    job runs where its config's SAGEMAKER.REGION says.
    """
    from sagemaker_launcher.jobs.reproduction import find_parent, resolve_reproduction
    from sagemaker_launcher.launch.sequence import dry_run_request, dump_json, launch_on_sagemaker

    configs, code_uri = resolve_reproduction(find_parent(job, region), overrides, region)
    if dry_run:
        from sagemaker_launcher.launch.cost import PriceLookups, job_lines

        prices = PriceLookups([configs.sagemaker])
        click.echo(dump_json(dry_run_request(configs, parent_job=job, code_uri=code_uri)))
        echo_lines(job_lines(prices, configs.sagemaker))
        return
    arguments = ["reproduce", job, *(["--region", region] if region else []), *overrides]
    plan = launch_on_sagemaker(configs, arguments, parent_job=job, code_uri=code_uri)
    announce(plan.job_name, plan.prefix, reproducing=job)


@cli.command(context_settings={"ignore_unknown_options": True})
@config_option("Experiment YAML with a SWEEP section (see sagemaker_default_config.py).", required=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the planned points as JSON (bayesian: the tuning-job request), and on stderr a cost bound "
    "per job and in total; send nothing, write nothing.",
)
@poll_option(30.0, "Seconds between status checks while MAX_PARALLEL SageMaker jobs run.")
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
@click.pass_context
def sweep(
    ctx: click.Context, config_file: str, dry_run: bool, poll_seconds: float, overrides: tuple[str, ...]
) -> None:
    """Launch every point of the file's SWEEP section as its own recorded job.

    grid and random: local points run one after another, SageMaker points side by side up to
    SWEEP.MAX_PARALLEL; bayesian: one SageMaker hyperparameter tuning job. Follow up with
    'list --sweep ID' and 'compare --sweep ID'.
    """
    from sagemaker_launcher.launch.sweep_runs import run_sweep

    code = run_sweep(
        config_file,
        overrides,
        ctx.meta[ARGUMENTS_KEY],
        dry_run=dry_run,
        poll_seconds=poll_seconds,
        say=click.echo,
        note=lambda line: click.echo(line, err=True),
    )
    if code:
        sys.exit(code)
