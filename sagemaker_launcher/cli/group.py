"""The command group, whose default command is ``launch``, so ``--config FILE KEY VALUE`` needs no verb.

It is also the command line's edge, where every command's errors end: a ``LauncherError`` prints as
``Error: <message>`` and exits 1, an interrupt (Ctrl-C, SIGTERM or SIGHUP, all handled alike) exits
130 with one line, and an AWS fault no command translated becomes one paragraph instead of a traceback.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.interrupts import raise_on_termination

if TYPE_CHECKING:
    from sagemaker_launcher.spec.job import JobSpec

ARGUMENTS_KEY = "sm_launcher.arguments"
# 128 + SIGINT, what a shell reports for a command ended by Ctrl-C.
INTERRUPTED_EXIT_CODE = 130
_BYTE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class DefaultCommandGroup(click.Group):
    """Runs ``default_command`` when the first argument names no command (and is not ``--help``).

    The arguments as given are kept in ``ctx.meta[ARGUMENTS_KEY]`` for the experiment record.
    """

    def __init__(self, *args, default_command: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line, with SIGTERM and SIGHUP stopping it as Ctrl-C does."""
        raise_on_termination()
        return super().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGUMENTS_KEY] = list(args)
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        from sagemaker_launcher.aws.faults import aws_fault_message

        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as interrupt:
            note = str(interrupt)
            click.echo(f"\nInterrupted{': ' + note if note else '.'}", err=True)
            ctx.exit(INTERRUPTED_EXIT_CODE)
        except LauncherError as error:
            raise click.ClickException(error.message) from None
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:
            message = aws_fault_message(error, f"'{ctx.invoked_subcommand or self.default_command}'")
            if message is None:
                raise
            raise click.ClickException(message) from None


class ByteSize(click.ParamType):
    """A size in bytes, with an optional K, M, G or T suffix (powers of 1024)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("B")
        number, unit = (text[:-1], text[-1]) if text[-1:] in _BYTE_UNITS else (text, "")
        try:
            size = int(float(number) * _BYTE_UNITS[unit])
        except (ValueError, OverflowError):  # "2x", or "inf" and "nan", which are no number of bytes
            self.fail(f"{value!r} is not a size such as 2G, 500M or 1048576.", param, ctx)
        if size <= 0:
            self.fail(f"{value!r} must be above 0.", param, ctx)
        return size


@click.group(
    cls=DefaultCommandGroup,
    default_command="launch",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def cli() -> None:
    """Launch SageMaker training jobs from YAML experiment files and inspect past ones.

    Without a command, the arguments go to 'launch'.
    """


def run() -> None:
    """The command line as a program (``run_sagemaker_job.py``, ``sm-launch``): ``cli()``, then exit even
    when code the launcher imported from a team's folder (a TRAINING.DEFAULTS module) left a thread of its
    own running, which would keep the process alive after the command has ended."""
    try:
        cli()
        code: Any = 0
    except SystemExit as done:
        code = done.code
    stray = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.main_thread() and thread.is_alive() and not thread.daemon
    ]
    if stray:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 0 if code is None else 1)
    sys.exit(code)


def echo_lines(lines: list[str]) -> None:
    """Lines for people (a dry run's cost estimate) on stderr, so stdout stays the JSON."""
    for line in lines:
        click.echo(line, err=True)


def announce(spec: JobSpec, reproducing: str | None = None) -> None:
    job_name, prefix = spec.name, spec.prefix
    click.echo(f"Started training job {job_name}" + (f", reproducing {reproducing}" if reproducing else ""))
    click.echo(f"  configs and record: {prefix}config/")
    click.echo(f"  model artifact:     {prefix}output/model.tar.gz")
    click.echo(f"  follow it:          {CLI_COMMAND} logs {job_name} --follow")
    if spec.remote_debug:
        click.echo(
            f"  debug it:           {CLI_COMMAND} attach {job_name} [--host algo-N] [--rank R] [--shell]"
        )


def follow_logs(job_name: str, region: str | None, poll_seconds: float = 5.0) -> tuple[str, bool]:
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
            f"{CLI_COMMAND} logs {job_name} --follow",
            err=True,
        )
        sys.exit(INTERRUPTED_EXIT_CODE)


def config_option(help_text: str, required: bool = False) -> Callable[[Any], Any]:
    """``--config FILE``: the experiment YAML."""
    return click.option(
        "--config", "config_file", required=required, type=click.Path(dir_okay=False), help=help_text
    )


def folder_option(flag: str, default: str, help_text: str) -> Callable[[Any], Any]:
    """A folder option (``--dest``, ``--runs-dir``), given to the command as a ``Path``."""
    return click.option(
        flag,
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help=help_text,
    )


def poll_option(default: float, help_text: str) -> Callable[[Any], Any]:
    """``--poll-seconds``: how often a waiting command asks the service again."""
    return click.option(
        "--poll-seconds", default=default, show_default=True, type=click.FloatRange(min=0.1), help=help_text
    )


REGION_OPTION = click.option(
    "--region",
    default=None,
    help="AWS region of the job; defaults to AWS_DEFAULT_REGION or your AWS profile's region.",
)
