"""The commands that start jobs: ``launch`` (the default), ``reproduce`` and ``sweep``.

Each parses its options and hands the work to ``sagemaker_launcher.launch``; what they print for
people (cost bounds, progress) goes to stderr, so a dry run's stdout stays JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from sagemaker_launcher.config.loading import ResolvedConfigs
    from sagemaker_launcher.launch.cost import PriceLookups

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
    prices = _price_lookups(configs) if dry_run else None
    from sagemaker_launcher.config.spec_building import job_spec
    from sagemaker_launcher.spec.request import checked, training_job_request

    spec = job_spec(configs, ctx.meta[ARGUMENTS_KEY])
    request = checked(spec, training_job_request(spec))
    if prices is not None:
        _print_dry_run(request, prices, configs)
        return
    if spec.is_local:
        from sagemaker_launcher.local.runs import run_locally

        sys.exit(run_locally(spec, request))
    from sagemaker_launcher.aws.training_jobs import TRAINING_JOB
    from sagemaker_launcher.launch.sequence import stage_and_create

    stage_and_create(spec, request, TRAINING_JOB)
    announce(spec)
    if wait:
        follow_logs(spec.name, spec.region)


def _price_lookups(configs: ResolvedConfigs) -> PriceLookups:
    """Start the dry run's Price List questions, which run while the request is built."""
    from sagemaker_launcher.launch.cost import PriceLookups

    return PriceLookups([configs.sagemaker])


def _print_dry_run(request: dict[str, Any], prices: PriceLookups, configs: ResolvedConfigs) -> None:
    """The request as JSON on stdout, the cost bound on stderr."""
    from sagemaker_launcher.launch.cost import job_lines
    from sagemaker_launcher.spec.record import dump_json

    click.echo(dump_json(request))
    echo_lines(job_lines(prices, configs.sagemaker))


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("job")
@REGION_OPTION
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the new job's CreateTrainingJob request as JSON on stdout, and on stderr a cost bound from "
    "the AWS Price List where it answers; send nothing, write nothing.",
)
@click.option(
    "--trust-code",
    is_flag=True,
    help="Import JOB's TRAINING.DEFAULTS module from its code archive, so its own value rules check the "
    "overrides. This runs code fetched from S3 on this machine; without it, overrides are checked against "
    "JOB's recorded training config and nothing fetched is run.",
)
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
def reproduce(
    job: str, region: str | None, dry_run: bool, trust_code: bool, overrides: tuple[str, ...]
) -> None:
    """Launch a new job from what JOB ran, with KEY VALUE overrides on top: its recorded resolved configs,
    its S3 input channels and its code archive.

    Nothing on this machine is read or uploaded unless an override names it: INPUTS.<channel> or
    SAGEMAKER.SOURCE_DIR on the command line are used as given. The new job's record names JOB as its
    parent_job and the job carries the sm-launcher:parent-job tag. --region is where JOB ran; the new
    job runs where its config's SAGEMAKER.REGION says.
    """
    from sagemaker_launcher.config.spec_building import job_spec
    from sagemaker_launcher.jobs.reproduction import find_parent, resolve_reproduction
    from sagemaker_launcher.spec.request import checked, training_job_request

    reproduction = resolve_reproduction(find_parent(job, region), overrides, region, trust_code)
    if reproduction.parent_values:
        pairs = reproduction.parent_values
        shown = " ".join(f"{key}={value}" for key, value in zip(pairs[::2], pairs[1::2], strict=True))
        click.echo(
            f"From {job}'s own hyperparameters (its values where they differ from its record): {shown}",
            err=True,
        )
    configs = reproduction.configs
    prices = _price_lookups(configs) if dry_run else None
    arguments = ["reproduce", job, *(["--region", region] if region else []), *overrides]
    spec = job_spec(configs, arguments, parent=reproduction.parent)
    request = checked(spec, training_job_request(spec))
    if prices is not None:
        _print_dry_run(request, prices, configs)
        return
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker

    launch_on_sagemaker(spec, request)
    announce(spec, reproducing=job)


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

    def run_local(configs: ResolvedConfigs, arguments: Sequence[str]) -> int:
        from sagemaker_launcher.config.spec_building import job_spec
        from sagemaker_launcher.local.runs import run_locally
        from sagemaker_launcher.spec.request import checked, training_job_request

        spec = job_spec(configs, arguments)
        return run_locally(spec, checked(spec, training_job_request(spec)))

    code = run_sweep(
        config_file,
        overrides,
        ctx.meta[ARGUMENTS_KEY],
        dry_run=dry_run,
        poll_seconds=poll_seconds,
        say=click.echo,
        note=lambda line: click.echo(line, err=True),
        run_local=run_local,
    )
    if code:
        sys.exit(code)


@cli.command(context_settings={"ignore_unknown_options": True})
@config_option("Experiment YAML whose job to check (its code folder, hyperparameters, channels, hosts).")
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
@click.pass_context
def parity(ctx: click.Context, config_file: str | None, overrides: tuple[str, ...]) -> None:
    """Check that host mode and Docker mode give a script the same contract.

    Runs a probe as the job's entry point (beside a copy of its code) in local_process and in local (the
    image under Docker), then compares what each saw: SM_* and torchrun variables, arguments, every
    /opt/ml/input/config/*.json and the input files. Each difference is printed with its reason; exit 1
    when one is unexplained.
    """
    from sagemaker_launcher.local.parity import report, run_parity

    differences = run_parity(
        config_file, overrides, ctx.meta[ARGUMENTS_KEY], lambda line: click.echo(line, err=True)
    )
    for line in report(differences):
        click.echo(line)
    if any(difference.reason is None for difference in differences):
        sys.exit(1)
