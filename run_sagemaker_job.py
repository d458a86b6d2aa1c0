"""Turn a YAML experiment file into a SageMaker training job, or run it locally first.

    python run_sagemaker_job.py --config configs/sagemaker_config.yaml [KEY VALUE ...]

Setup and dispatch only: the work lives in the ``sagemaker_launcher`` package.
"""

from __future__ import annotations

import sys

import click

from sagemaker_launcher.cli_group import DefaultCommandGroup

LAUNCH_EPILOG = """\b
Examples:
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml --dry-run
  python run_sagemaker_job.py --config configs/sagemaker_config.yaml \\
      SAGEMAKER.INSTANCE_COUNT 2 SOLVER.BASE_LR 0.01
  python run_sagemaker_job.py --config configs/local_process.yaml   # no AWS, no Docker
"""


@click.group(
    cls=DefaultCommandGroup,
    default_command="launch",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def cli() -> None:
    """Launch SageMaker training jobs from YAML experiment files and inspect past ones.

    Without a command, the arguments go to 'launch'.
    """


@cli.command(context_settings={"ignore_unknown_options": True}, epilog=LAUNCH_EPILOG)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Experiment YAML (SageMaker config). Without it, the defaults in sagemaker_default_config.py.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the CreateTrainingJob request as JSON on stdout; send nothing, write nothing.",
)
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Stream the job's logs until it ends; exit non-zero if it failed.",
)
@click.argument("overrides", nargs=-1, metavar="[KEY VALUE]...")
def launch(config_file: str | None, dry_run: bool, wait: bool, overrides: tuple[str, ...]) -> None:
    """Validate the configs, record the experiment and start the job.

    KEY VALUE pairs override the YAML files: SageMaker keys (sagemaker_default_config.py) and
    training keys (sagemaker_container/training_default_config.py) alike, routed by section.
    SAGEMAKER.INSTANCE_TYPE local, local_gpu or local_process runs on this machine instead.
    """
    from sagemaker_launcher.launch import resolve

    configs = resolve(config_file, overrides)
    instance_type = configs.sagemaker.SAGEMAKER.INSTANCE_TYPE
    if dry_run:
        from sagemaker_launcher.launch import dry_run_request, dump_json

        click.echo(dump_json(dry_run_request(configs)))
        return
    from sagemaker_launcher.validation import is_local

    if is_local(instance_type):
        from sagemaker_launcher.local_runs import run_locally

        sys.exit(run_locally(configs))
    from sagemaker_launcher.launch import launch_on_sagemaker

    launched = launch_on_sagemaker(configs)
    plan = launched.plan
    click.echo(f"Started training job {plan.job_name}")
    click.echo(f"  configs and record: {plan.config_uri}")
    click.echo(f"  model artifact:     {plan.prefix}output/model.tar.gz")
    click.echo(f"  follow it:          python run_sagemaker_job.py logs {plan.job_name} --follow")
    if wait:
        _follow(plan.job_name, configs.sagemaker.SAGEMAKER.REGION)


def _follow(job_name: str, region: str) -> None:
    from sagemaker_launcher.sagemaker_job import follow_job

    try:
        follow_job(job_name, region)
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped following; job {job_name} keeps running. Follow it again with: "
            f"python run_sagemaker_job.py logs {job_name} --follow",
            err=True,
        )
        sys.exit(130)


if __name__ == "__main__":
    cli()
