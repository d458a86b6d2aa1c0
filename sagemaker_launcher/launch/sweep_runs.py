"""Running a sweep: plan it, say what it costs on a dry run, or launch its points and say what to run next.

What is printed goes through two callbacks, ``say`` for results (stdout) and ``note`` for progress
and cost lines (stderr), so a dry run's stdout stays JSON. Local points run through ``run_local``,
which the command line hands in (launching and local runs meet only through the job's configs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.errors import CLI_COMMAND
from sagemaker_launcher.launch.sequence import resolve
from sagemaker_launcher.launch.sweeps import (
    Sweep,
    launch_sagemaker_points,
    plan_points,
    point_configs,
    point_label,
    read_sweep,
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
    if dry_run:
        from sagemaker_launcher.launch.cost import PriceLookups, sweep_lines

        prices = PriceLookups([point.sagemaker for point in point_list])
        say(dump_json({"sweep": sweep.sweep_id, "strategy": sweep.strategy, "points": points}))
        labelled = zip(map(point_label, points), (point.sagemaker for point in point_list), strict=True)
        for line in sweep_lines(prices, list(labelled)):
            note(line)
        return 0
    note(f"Sweep {sweep.sweep_id}: {len(points)} {sweep.strategy} points")
    for index, point in enumerate(points, 1):
        note(f"  {index}. {point_label(point)}")
    compare = f"  compare them: {CLI_COMMAND} compare --sweep {sweep.sweep_id}"
    if is_local(configs.sagemaker.SAGEMAKER.INSTANCE_TYPE):
        codes = []
        for index, point_config in enumerate(point_list, 1):
            note(f"Sweep point {index}/{len(point_list)}")
            codes.append(run_local(point_config, arguments))
        failed = sum(1 for code in codes if code)
        say(f"Sweep {sweep.sweep_id}: {len(codes) - failed} of {len(codes)} points completed.")
        say(f"{compare} --runs-dir {configs.sagemaker.LOCAL.RUNS_DIR}")
        return 1 if failed else 0
    launch_sagemaker_points(point_list, arguments, sweep.max_parallel, poll_seconds, say, time.sleep)
    say(f"Sweep {sweep.sweep_id}: all {len(points)} jobs started.")
    say(f"  list them:    {CLI_COMMAND} list --sweep {sweep.sweep_id}")
    say(compare)
    return 0


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
