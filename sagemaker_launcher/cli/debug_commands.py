"""``attach``: a debugger prompt, or a shell, inside a running job: on SageMaker through SSM, locally
through the loopback. The work is in ``sagemaker_launcher.jobs.attach`` and ``jobs.debugger_session``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sagemaker_launcher.cli.group import REGION_OPTION, cli
from sagemaker_launcher.cli.job_commands import RUNS_DIR_OPTION

if TYPE_CHECKING:
    from sagemaker_launcher.jobs.attach import AttachPlan, Target


@cli.command()
@click.argument("job")
@click.option("--host", default="algo-1", show_default=True, help="The job's host: algo-1 .. algo-N.")
@click.option("--rank", default=0, show_default=True, type=click.IntRange(0), help="Local rank on that host.")
@click.option("--shell", is_flag=True, help="Open a shell on that host instead of the debugger.")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="The debugger's port, where the rule cannot tell."
)
@click.option(
    "--wait",
    "wait_seconds",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to wait for the debugger to listen (a breakpoint or a held failure).",
)
@click.option("--dry-run", is_flag=True, help="Print the commands attach would run, and run none.")
@REGION_OPTION
@RUNS_DIR_OPTION
def attach(
    job: str,
    host: str,
    rank: int,
    shell: bool,
    port: int | None,
    wait_seconds: float,
    dry_run: bool,
    region: str | None,
    runs_dir: Path,
) -> None:
    """Reach the debugger of a running job's process (pdb in this terminal; debugpy: where an editor
    attaches), or a shell with --shell. The process listens at breakpoint() (PYTHONBREAKPOINT
    job_debugger.set_trace) and while its failure is held (DEBUGGER.HOLD_ON_FAILURE_SECONDS), on
    DEBUGGER.PORT + host index x processes per host + rank. A SageMaker job is reached through an SSM
    session (SAGEMAKER.ENABLE_REMOTE_DEBUG, the aws CLI and its Session Manager plugin); a local run
    through the loopback."""
    from sagemaker_launcher.jobs.attach import Target, local_plan
    from sagemaker_launcher.jobs.local_runs import find_local_run

    target = Target(host, rank)
    if target.host.rpartition("-")[0] != "algo" or not target.host.rpartition("-")[2].isdigit():
        raise click.BadParameter(f"{host!r} is not a host name: algo-1, algo-2, ...", param_hint="--host")
    run = find_local_run(job, runs_dir)
    if run is not None:
        plan = local_plan(run, target, shell, port)
    else:
        plan = _sagemaker_plan(job, region, target, shell, port, dry_run)
    if dry_run:
        click.echo("\n".join(plan.commands()))
        return
    from sagemaker_launcher.jobs.debugger_session import carry_out

    sys.exit(carry_out(plan, wait_seconds))


def _sagemaker_plan(
    job: str, region: str | None, target: Target, shell: bool, port: int | None, dry_run: bool
) -> AttachPlan:
    """The SSM plan of a SageMaker job, once the session's tools and the caller's permission are there."""
    from sagemaker_launcher.config.run_modes import free_port
    from sagemaker_launcher.jobs.attach import check_session_permission, check_session_tools, sagemaker_plan
    from sagemaker_launcher.jobs.lookup import find_job, record_text

    info = find_job(job, region)
    plan = sagemaker_plan(info.description, target, shell, port, free_port())
    if not dry_run:
        check_session_tools()
        check_session_permission(region)
    plan.source_dir = record_text(info.record, "code", "source_dir") or None
    return plan
