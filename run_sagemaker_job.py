"""Turn a YAML experiment file into a SageMaker training job, or run it locally first.

    python run_sagemaker_job.py --config configs/sagemaker_config.yaml [KEY VALUE ...]

Setup and dispatch only: the work lives in the ``sagemaker_launcher`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sagemaker_launcher.cli_group import ARGUMENTS_KEY, ByteSize, DefaultCommandGroup
from sagemaker_launcher.jobs.statuses import JOB_STATUSES

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
        _echo_lines(job_lines(prices, configs.sagemaker))
        return
    from sagemaker_launcher.config.run_modes import is_local

    if is_local(instance_type):
        from sagemaker_launcher.local.runs import run_locally

        sys.exit(run_locally(configs, ctx.meta[ARGUMENTS_KEY]))
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker

    plan = launch_on_sagemaker(configs, ctx.meta[ARGUMENTS_KEY])
    _announce(plan.job_name, plan.prefix)
    if wait:
        _follow(plan.job_name, configs.sagemaker.SAGEMAKER.REGION)


def _echo_lines(lines: list[str]) -> None:
    """Lines for people (a dry run's cost estimate) on stderr, so stdout stays the JSON."""
    for line in lines:
        click.echo(line, err=True)


def _announce(job_name: str, prefix: str, reproducing: str | None = None) -> None:
    click.echo(f"Started training job {job_name}" + (f", reproducing {reproducing}" if reproducing else ""))
    click.echo(f"  configs and record: {prefix}config/")
    click.echo(f"  model artifact:     {prefix}output/model.tar.gz")
    click.echo(f"  follow it:          python run_sagemaker_job.py logs {job_name} --follow")


def _follow(job_name: str, region: str | None, poll_seconds: float = 5.0) -> tuple[str, bool]:
    """Print the job's logs until it ends (``--wait`` and ``logs --follow``): its status, whether a line came.

    A job that ends Failed or Stopped raises ``LauncherError`` with its failure reason. Ctrl-C stops
    following, not the job.
    """
    from sagemaker_launcher.jobs.logs import print_logs

    try:
        return print_logs(job_name, region, True, poll_seconds, click.echo)
    except KeyboardInterrupt:
        click.echo(
            f"\nStopped following; job {job_name} keeps running. Follow it again with: "
            f"python run_sagemaker_job.py logs {job_name} --follow",
            err=True,
        )
        sys.exit(130)


REGION_OPTION = click.option(
    "--region",
    default=None,
    help="AWS region of the job; defaults to AWS_DEFAULT_REGION or your AWS profile's region.",
)


@cli.command("list")
@REGION_OPTION
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Show at most this many jobs."
)
@click.option(
    "--experiment",
    default=None,
    help="Only jobs of this experiment (S3.EXPERIMENT_NAME); 'vision/' lists every one in that folder.",
)
@click.option(
    "--status",
    type=click.Choice(JOB_STATUSES, case_sensitive=False),
    default=None,
    help="Only jobs in this state.",
)
@click.option("--all", "include_all", is_flag=True, help="Also list training jobs this tool did not launch.")
@click.option("--sweep", default=None, help="Only the jobs of this sweep (the id 'sweep' printed).")
def list_jobs(
    region: str | None,
    limit: int,
    experiment: str | None,
    status: str | None,
    include_all: bool,
    sweep: str | None,
) -> None:
    """List recent training jobs launched by this tool, newest first.

    Columns: job, experiment, status, instance type x count, spot savings (billed vs trained time),
    training duration, who launched it and the git commit (+dirty: with uncommitted changes).
    A job appears a few seconds after its launch (SageMaker's search index).
    """
    from sagemaker_launcher.jobs.listing import format_table, list_jobs

    rows, notes = list_jobs(region, limit, experiment, status, include_all, sweep)
    if not rows:
        click.echo(
            "No training jobs match."
            + ("" if include_all else " Add --all to include jobs not launched here.")
        )
        return
    click.echo(format_table(rows))
    for note in notes:
        click.echo(f"Note: a record could not be used, so its row lacks 'launched by': {note}", err=True)


@cli.command()
@click.argument("job")
@REGION_OPTION
@click.option(
    "--configs/--no-configs",
    "with_configs",
    default=False,
    help="Print both resolved YAML configs, not only their S3 locations.",
)
def show(job: str, region: str | None, with_configs: bool) -> None:
    """Show a job: status, failure reason, timings, instances, who launched it from which commit,
    its resolved configs, final metrics and artifact locations."""
    from sagemaker_launcher.jobs.lookup import find_job
    from sagemaker_launcher.jobs.report import show_lines

    click.echo("\n".join(show_lines(find_job(job, region), region, with_configs)))


@cli.command()
@click.argument("job")
@REGION_OPTION
@click.option(
    "--follow/--no-follow",
    default=False,
    help="Keep printing new lines until the job ends; exit 1 if it failed or was stopped.",
)
@click.option(
    "--poll-seconds",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between checks for new lines with --follow.",
)
def logs(job: str, region: str | None, follow: bool, poll_seconds: float) -> None:
    """Print a job's CloudWatch logs, each line prefixed with its host, e.g. [algo-1]."""
    from sagemaker_launcher.jobs.logs import no_logs_note, print_logs

    if follow:
        status, printed = _follow(job, region, poll_seconds)
    else:
        status, printed = print_logs(job, region, False, poll_seconds, click.echo)
    if not printed:
        click.echo(no_logs_note(job, status), err=True)


@cli.command()
@click.argument("job")
@REGION_OPTION
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to unpack into: DEST/JOB/model and DEST/JOB/output.",
)
@click.option(
    "--max-size",
    type=ByteSize(),
    default=None,
    help="Refuse an archive larger than this, downloaded or unpacked (e.g. 2G, 500M); the free space of "
    "DEST always bounds it.",
)
def fetch(job: str, region: str | None, dest: Path, max_size: int | None) -> None:
    """Download a job's model.tar.gz and output.tar.gz and unpack them safely.

    Archives with absolute paths, '..', links leading outside (directly or through other links),
    device files, or more bytes than fit are refused whole; each folder appears complete or not at all.
    """
    from tqdm import tqdm

    from sagemaker_launcher.jobs.actions import fetch_artifacts
    from sagemaker_launcher.jobs.lookup import find_job

    def progress(label: str, total: int) -> tqdm:
        return tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None)

    info = find_job(job, region, details=False)
    for what, folder in fetch_artifacts(info, region, dest, progress, max_size):
        click.echo(f"{what}: {folder}")


@cli.command()
@click.argument("job")
@REGION_OPTION
def stop(job: str, region: str | None) -> None:
    """Stop a running training job; SageMaker gives the container SIGTERM and a grace period first."""
    from sagemaker_launcher.jobs.actions import stop_job

    click.echo(stop_job(job, region))


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
        _echo_lines(job_lines(prices, configs.sagemaker))
        return
    arguments = ["reproduce", job, *(["--region", region] if region else []), *overrides]
    plan = launch_on_sagemaker(configs, arguments, parent_job=job, code_uri=code_uri)
    _announce(plan.job_name, plan.prefix, reproducing=job)


@cli.command()
@click.argument("jobs", nargs=-1)
@REGION_OPTION
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="Where local runs are (LOCAL.RUNS_DIR): a job name found there, or a run's folder, is a local run.",
)
@click.option("--sweep", "sweep_id", default=None, help="Compare a sweep's jobs, best first by its goal.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw each metric's curves into this PNG: one panel per metric, one line per job.",
)
@click.option("--json", "as_json", is_flag=True, help="Print everything, curves included, as JSON on stdout.")
def compare(
    jobs: tuple[str, ...],
    region: str | None,
    runs_dir: Path,
    sweep_id: str | None,
    plot_file: Path | None,
    as_json: bool,
) -> None:
    """Compare jobs side by side: the config keys whose values differ (resolved configs and
    hyperparameters), status, training and billed time, spot saving, and final metrics.

    SageMaker jobs and local runs mix freely. Curves come from CloudWatch (the job's METRICS), else its
    log lines, for SageMaker jobs, and from metrics.json for local runs.
    """
    from sagemaker_launcher.jobs.compare import as_json as compare_json
    from sagemaker_launcher.jobs.compare import format_table, gather, rank

    objective = None
    if sweep_id:
        if jobs:
            raise click.UsageError("Name jobs or give --sweep ID, not both.")
        from sagemaker_launcher.launch.sweeps import parse_objective, sweep_members

        names, objective_tag = sweep_members(sweep_id, region, runs_dir)
        objective = parse_objective(objective_tag)
    elif len(jobs) < 2:
        raise click.UsageError("Name at least two jobs to compare, or give --sweep ID.")
    else:
        names = list(jobs)
    compared = gather(names, region, runs_dir)
    if objective:
        compared = rank(compared, *objective)
    if plot_file:
        from sagemaker_launcher.jobs.compare_plot import plot

        plot(compared, plot_file)
    if as_json:
        from sagemaker_launcher.launch.sequence import dump_json

        report = compare_json(compared)
        report["ranked_by"] = {"metric": objective[0], "goal": objective[1]} if objective else None
        click.echo(dump_json(report))
    else:
        if objective:
            click.echo(f"Sweep {sweep_id}, best first by {objective[0]} ({objective[1]}):")
        click.echo(format_table(compared))
    for job in compared:
        for note in job.notes:
            click.echo(f"Note: {note}", err=True)
    if plot_file:
        click.echo(f"Plot: {plot_file}", err=True)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Experiment YAML with a SWEEP section (see sagemaker_default_config.py).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the planned points as JSON (bayesian: the tuning-job request), and on stderr a cost bound "
    "per job and in total; send nothing, write nothing.",
)
@click.option(
    "--poll-seconds",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between status checks while MAX_PARALLEL SageMaker jobs run.",
)
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
    import time

    from sagemaker_launcher.config.run_modes import is_local
    from sagemaker_launcher.launch.sequence import dump_json, resolve
    from sagemaker_launcher.launch.sweeps import (
        launch_sagemaker_points,
        plan_points,
        point_configs,
        point_label,
        read_sweep,
        run_local_points,
    )

    configs = resolve(config_file, overrides)
    plan = read_sweep(configs)
    arguments = ctx.meta[ARGUMENTS_KEY]
    if plan.strategy == "bayesian":
        from sagemaker_launcher.launch.cost import PriceLookups, tuning_lines
        from sagemaker_launcher.launch.tuning import launch_tuning

        prices = PriceLookups([configs.sagemaker]) if dry_run else None
        request = launch_tuning(configs, plan, arguments, send=not dry_run)
        if prices:
            click.echo(dump_json(request))
            _echo_lines(tuning_lines(prices, configs.sagemaker, plan.max_jobs))
        else:
            click.echo(f"Started tuning job {plan.sweep_id}: up to {plan.max_jobs} jobs, tagged with its id.")
            click.echo(f"  compare them: python run_sagemaker_job.py compare --sweep {plan.sweep_id}")
        return
    points = plan_points(plan)
    # Every point is resolved and validated before the first one starts.
    point_list = [point_configs(config_file, overrides, point, plan) for point in points]
    if dry_run:
        from sagemaker_launcher.launch.cost import PriceLookups, sweep_lines

        prices = PriceLookups([point.sagemaker for point in point_list])
        click.echo(dump_json({"sweep": plan.sweep_id, "strategy": plan.strategy, "points": points}))
        labelled = zip(map(point_label, points), (point.sagemaker for point in point_list), strict=True)
        _echo_lines(sweep_lines(prices, list(labelled)))
        return
    click.echo(f"Sweep {plan.sweep_id}: {len(points)} {plan.strategy} points", err=True)
    for index, point in enumerate(points, 1):
        click.echo(f"  {index}. {point_label(point)}", err=True)
    if is_local(configs.sagemaker.SAGEMAKER.INSTANCE_TYPE):
        codes = run_local_points(point_list, arguments, lambda line: click.echo(line, err=True))
        failed = sum(1 for code in codes if code)
        runs_dir = configs.sagemaker.LOCAL.RUNS_DIR
        click.echo(f"Sweep {plan.sweep_id}: {len(codes) - failed} of {len(codes)} points completed.")
        click.echo(
            f"  compare them: python run_sagemaker_job.py compare --sweep {plan.sweep_id} "
            f"--runs-dir {runs_dir}"
        )
        if failed:
            sys.exit(1)
        return
    launch_sagemaker_points(point_list, arguments, plan.max_parallel, poll_seconds, click.echo, time.sleep)
    click.echo(f"Sweep {plan.sweep_id}: all {len(points)} jobs started.")
    click.echo(f"  list them:    python run_sagemaker_job.py list --sweep {plan.sweep_id}")
    click.echo(f"  compare them: python run_sagemaker_job.py compare --sweep {plan.sweep_id}")


if __name__ == "__main__":
    cli()
