"""Running a sweep: plan it, say what it costs on a dry run, or launch its points and say what to run next.

What is printed goes through two callbacks, ``say`` for results (stdout) and ``note`` for progress
and cost lines (stderr), so a dry run's stdout stays JSON. Local points run through ``run_local``,
which the command line hands in (launching and local runs meet only through the job's configs).

Local points run one after another: a point that fails (a non-zero exit) is counted and the next one
runs, but an interrupt, or a point that cannot be run at all, stops the sweep, and the message lists
the runs done and the points not started, as a SageMaker sweep's does (``launch_sagemaker_points``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from yacs.config import CfgNode

from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.launch.sequence import resolve
from sagemaker_launcher.launch.sweeps import (
    Sweep,
    SweepProgress,
    launch_sagemaker_points,
    plan_points,
    point_configs,
    point_label,
    read_sweep,
    shown_point,
)
from sagemaker_launcher.spec.record import dump_json

Echo = Callable[[str], None]
# Runs one local point to its end: (its configs, the command line) -> its exit code.
LocalRunner = Callable[[ResolvedConfigs, Sequence[str]], int]


def run_sweep(
    config_file: str,
    overrides: Sequence[str],
    arguments: Sequence[str],
    *,
    dry_run: bool,
    poll_seconds: float,
    say: Echo,
    note: Echo,
    run_local: LocalRunner,
) -> int:
    """Plan or launch the file's SWEEP; returns the exit code (1 when a local point failed)."""
    configs = resolve(config_file, overrides)
    sweep = read_sweep(configs)
    if sweep.strategy == "bayesian":
        _run_tuning(configs, sweep, arguments, dry_run, say, note)
        return 0
    points = plan_points(sweep)
    # Every point is resolved and validated before the first one starts.
    point_list = [point_configs(config_file, overrides, point, sweep) for point in points]
    labels = [point_label(point) for point in points]
    if dry_run:
        from sagemaker_launcher.launch.cost import PriceLookups, sweep_lines

        prices = PriceLookups([point.sagemaker for point in point_list])
        shown = [shown_point(point) for point in points]
        say(dump_json({"sweep": sweep.sweep_id, "strategy": sweep.strategy, "points": shown}))
        labelled = zip(labels, (point.sagemaker for point in point_list), strict=True)
        for line in sweep_lines(prices, list(labelled)):
            note(line)
        return 0
    note(f"Sweep {sweep.sweep_id}: {len(points)} {sweep.strategy} points")
    for index, label in enumerate(labels, 1):
        note(f"  {index}. {label}")
    compare = f"  compare them: {CLI_COMMAND} compare --sweep {sweep.sweep_id}"
    progress = SweepProgress(sweep.sweep_id, labels)
    # read_sweep refuses a sweep whose points mix local modes and ml.* types: the points say which.
    if is_local(point_list[0].sagemaker.SAGEMAKER.INSTANCE_TYPE):
        codes = _run_local_points(point_list, arguments, run_local, progress, note)
        failed = sum(1 for code in codes if code)
        say(f"Sweep {sweep.sweep_id}: {len(codes) - failed} of {len(codes)} points completed.")
        say(f"{compare} --runs-dir {configs.sagemaker.LOCAL.RUNS_DIR}")
        return 1 if failed else 0
    launch_sagemaker_points(
        point_list, arguments, sweep.max_parallel, poll_seconds, say, time.sleep, progress
    )
    say(f"Sweep {sweep.sweep_id}: all {len(points)} jobs started.")
    say(f"  list them:    {CLI_COMMAND} list --sweep {sweep.sweep_id}")
    say(compare)
    return 0


def _run_local_points(
    point_list: Sequence[ResolvedConfigs],
    arguments: Sequence[str],
    run_local: LocalRunner,
    progress: SweepProgress,
    note: Echo,
) -> list[int]:
    """Run each point to its end, a failed one included; an interrupt, or a point that cannot run,
    stops the sweep with the runs done and the points not started."""
    codes: list[int] = []
    index = 1
    try:
        for index, point_config in enumerate(point_list, 1):
            note(f"Sweep point {index}/{len(point_list)}")
            before = _run_names(point_config.sagemaker)
            ended = "stopped"
            try:
                code = run_local(point_config, arguments)
                ended = "completed" if code == 0 else f"failed, exit code {code}"
            except LauncherError:
                ended = "failed to run"
                raise
            finally:
                name = _new_run(point_config.sagemaker, before)
                if name is not None or ended != "failed to run":
                    progress.started.append((index, name, ended))
            codes.append(code)
    except KeyboardInterrupt as interrupt:
        raise KeyboardInterrupt(progress.stopped(str(interrupt), index, False)) from None
    except LauncherError as error:
        raise LauncherError(progress.stopped(error.message, index, False)) from None
    return codes


def _runs_folder(cfg: CfgNode) -> Path:
    """Where a local run of ``cfg`` keeps its folder (``job_spec``: RUNS_DIR/EXPERIMENT_NAME/<job>)."""
    return Path(cfg.LOCAL.RUNS_DIR).resolve() / cfg.S3.EXPERIMENT_NAME


def _run_names(cfg: CfgNode) -> set[str]:
    try:
        return {path.name for path in _runs_folder(cfg).iterdir() if path.is_dir()}
    except OSError:
        return set()


def _new_run(cfg: CfgNode, before: set[str]) -> str | None:
    """The job name of the run a point just made: the folder that was not there before it."""
    new = sorted(_run_names(cfg) - before)
    own = [name for name in new if name.startswith(f"{cfg.SAGEMAKER.BASE_JOB_NAME}-")]
    return (own or new or [None])[-1]


def _run_tuning(
    configs: ResolvedConfigs, sweep: Sweep, arguments: Sequence[str], dry_run: bool, say: Echo, note: Echo
) -> None:
    """A bayesian sweep: one SageMaker tuning job, or its request and cost bound on a dry run."""
    from sagemaker_launcher.launch.cost import PriceLookups, job_lines
    from sagemaker_launcher.launch.tuning import launch_tuning, tuning_request

    prices = PriceLookups([configs.sagemaker]) if dry_run else None
    spec, request = tuning_request(configs, sweep, arguments, note)
    if prices:
        say(dump_json(request))
        for line in job_lines(prices, configs.sagemaker, sweep.max_jobs):
            note(line)
        return
    launch_tuning(spec, request)
    say(f"Started tuning job {sweep.sweep_id}: up to {sweep.max_jobs} jobs, tagged with its id.")
    say(f"  compare them: {CLI_COMMAND} compare --sweep {sweep.sweep_id}")
