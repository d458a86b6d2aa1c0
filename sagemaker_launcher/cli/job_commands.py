"""The commands about past jobs: ``list``, ``show``, ``logs``, ``fetch``, ``stop`` and ``compare``.

Each parses its options and hands the work to ``sagemaker_launcher.jobs``; they use boto3 only, so
they answer without the SageMaker SDK's import.
"""

from __future__ import annotations

from pathlib import Path

import click

from sagemaker_launcher.cli.group import REGION_OPTION, ByteSize, cli, folder_option, follow_logs, poll_option
from sagemaker_launcher.spec.statuses import JOB_STATUSES


def _plot_path(param: click.Parameter, path: Path | None) -> Path | None:
    """--plot names a file of a format the plot is drawn in, checked before any job is read."""
    from sagemaker_launcher.jobs.compare_plot import PLOT_FORMATS

    if path is not None and path.suffix.lower() not in PLOT_FORMATS:
        raise click.BadParameter(
            f"{path} ends in {path.suffix or 'no suffix'!r}; name a {', '.join(PLOT_FORMATS)} file.",
            param=param,
        )
    return path


RUNS_DIR_OPTION = folder_option(
    "--runs-dir",
    "runs",
    "Where local runs are (LOCAL.RUNS_DIR): a job name found there, or a run's folder, is a local run.",
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
@click.option(
    "--local", "local_runs", is_flag=True, help="List the local runs under --runs-dir instead (no AWS)."
)
@RUNS_DIR_OPTION
def list_jobs(
    region: str | None,
    limit: int,
    experiment: str | None,
    status: str | None,
    include_all: bool,
    sweep: str | None,
    local_runs: bool,
    runs_dir: Path,
) -> None:
    """List recent training jobs launched by this tool, newest first.

    Columns: job, experiment, status, instance type x count, spot savings (billed vs trained time),
    training duration, who launched it and the git commit (+dirty: with uncommitted changes).
    A job appears a few seconds after its launch (SageMaker's search index). With --local, the local
    runs instead, their status as their status.json says.
    """
    from sagemaker_launcher.jobs.listing import format_table, list_jobs, list_local_runs

    if local_runs:
        rows, notes = list_local_runs(runs_dir, limit, experiment=experiment, status=status), []
    else:
        rows, notes = list_jobs(
            region, limit, experiment=experiment, status=status, include_all=include_all, sweep=sweep
        )
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
@RUNS_DIR_OPTION
def show(job: str, region: str | None, with_configs: bool, runs_dir: Path) -> None:
    """Show a job: status, failure reason, timings (where the time went, the warm pool), instances, who
    launched it from which commit, its resolved configs, final metrics and artifact locations. A name
    found under --runs-dir (or a run's folder) is a local run, read from its files."""
    from sagemaker_launcher.jobs.local_runs import find_local_run

    run = find_local_run(job, runs_dir)
    if run is not None:
        from sagemaker_launcher.jobs.report import local_run_lines

        click.echo("\n".join(local_run_lines(run)))
        return
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
@poll_option(5.0, "Seconds between checks for new lines with --follow.")
def logs(job: str, region: str | None, follow: bool, poll_seconds: float) -> None:
    """Print a job's CloudWatch logs, each line prefixed with its host, e.g. [algo-1]."""
    from sagemaker_launcher.jobs.logs import no_logs_note, print_logs

    if follow:
        status, printed = follow_logs(job, region, poll_seconds)
    else:
        status, printed = print_logs(job, region, False, poll_seconds, click.echo)
    if not printed:
        click.echo(no_logs_note(job, status), err=True)


@cli.command()
@click.argument("job")
@REGION_OPTION
@folder_option("--dest", ".", "Folder to unpack into: DEST/JOB/model and DEST/JOB/output.")
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


@cli.command("clean-up")
@click.argument("prefix")
@REGION_OPTION
def clean_up(prefix: str, region: str | None) -> None:
    """Remove what a failed launch left under PREFIX (s3://BUCKET/EXPERIMENT/JOB/) in S3, unfinished
    multipart uploads included; refused while a job of that name exists."""
    from sagemaker_launcher.jobs.actions import clean_up as remove_leftovers

    click.echo(remove_leftovers(prefix, region))


@cli.command()
@click.argument("jobs", nargs=-1)
@REGION_OPTION
@RUNS_DIR_OPTION
@click.option("--sweep", "sweep_id", default=None, help="Compare a sweep's jobs, best first by its goal.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=lambda _ctx, param, value: _plot_path(param, value),
    help="Also draw each metric's curves into this PNG (or .pdf, .svg file): one panel per metric, one line "
    "per job.",
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
        from sagemaker_launcher.jobs.sweep_jobs import parse_objective, sweep_members

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
        from sagemaker_launcher.spec.record import dump_json

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
