"""Sweeps: many ordinary jobs from one experiment file's ``SWEEP`` section.

``grid`` and ``random`` plan their points here and launch each as a normal job (its own resolved
configs and record), tagged with the sweep's id and objective so ``list --sweep`` and
``compare --sweep`` find them; ``bayesian`` hands the ranges to SageMaker's own tuner
(``tuning``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.merging import leaf_keys
from sagemaker_default_config import get_sagemaker_cfg_defaults
from sagemaker_launcher.config.loading import ResolvedConfigs, load_configs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.launch.sequence import with_sdk_defaults
from sagemaker_launcher.spec.job import ParameterRange
from sagemaker_launcher.spec.layout import GOALS, TAG_SWEEP, TAG_SWEEP_OBJECTIVE, new_job_name

STRATEGIES = ("grid", "random", "bayesian")
SCALES = ("linear", "log")
# SageMaker's limit on a tuning job's name (HyperParameterTuningJobName).
TUNING_JOB_NAME_LENGTH = 32
# Significant digits kept of a random draw, so labels and configs stay readable.
_DRAW_DIGITS = 4


@dataclass(frozen=True)
class Sweep:
    """A validated SWEEP section."""

    sweep_id: str
    strategy: str
    parameters: dict[str, list[Any] | ParameterRange]
    metric: str
    goal: str
    max_jobs: int
    max_parallel: int
    seed: int

    @property
    def objective_tag(self) -> str:
        """``maximize validation:accuracy``: how ``compare --sweep`` ranks the points."""
        return f"{self.goal} {self.metric}"


def is_sweep(cfg: CfgNode) -> bool:
    return bool(cfg.SWEEP.PARAMETERS)


def refuse_plain_launch(cfg: CfgNode, source: str) -> None:
    """A file with SWEEP.PARAMETERS is many jobs, not one: point to the sweep command."""
    if is_sweep(cfg):
        raise LauncherError(
            f"{source} has a SWEEP section ({', '.join(cfg.SWEEP.PARAMETERS)}), so it describes many jobs. "
            f"Launch it with '{CLI_COMMAND} sweep --config FILE' (add --dry-run to see the points first), "
            "or remove SWEEP.PARAMETERS to launch one job."
        )


def read_sweep(configs: ResolvedConfigs) -> Sweep:
    """The SWEEP section checked as a whole; raises ``LauncherError`` naming the key at fault."""
    cfg = configs.sagemaker
    section, source = cfg.SWEEP, configs.sagemaker_source
    if not is_sweep(cfg):
        raise LauncherError(
            f"{source} has no SWEEP.PARAMETERS, so there is nothing to sweep. Add e.g. "
            "'SWEEP: {PARAMETERS: {SOLVER.BASE_LR: [0.01, 0.001]}}', or launch it as one job without 'sweep'."
        )
    _one_of(section.STRATEGY, STRATEGIES, "SWEEP.STRATEGY", source)
    _one_of(section.OBJECTIVE.GOAL, GOALS, "SWEEP.OBJECTIVE.GOAL", source)
    metric = section.OBJECTIVE.METRIC
    if not metric or (cfg.METRICS and metric not in cfg.METRICS):
        raise LauncherError(
            f"{source}: SWEEP.OBJECTIVE.METRIC is {metric!r}; it must name one of the job's METRICS "
            f"({', '.join(cfg.METRICS) or 'none defined'}), the metric that ranks the points."
        )
    for key, least in (("MAX_JOBS", 1), ("MAX_PARALLEL", 1)):
        if section[key] < least:
            raise LauncherError(f"{source}: SWEEP.{key} is {section[key]}; it must be at least {least}.")
    parameters = {key: _parameter(key, value, source) for key, value in section.PARAMETERS.items()}
    ranged = [key for key, value in parameters.items() if isinstance(value, ParameterRange)]
    if ranged and section.STRATEGY == "grid":
        raise LauncherError(
            f"{source}: SWEEP.PARAMETERS.{ranged[0]} is a range, which a grid cannot enumerate. Give it a "
            "list of values, or set SWEEP.STRATEGY to random or bayesian."
        )
    if section.STRATEGY == "grid":
        size = math.prod(len(values) for values in parameters.values() if isinstance(values, list))
        if size > section.MAX_JOBS:
            raise LauncherError(
                f"{source}: the grid has {size} points but SWEEP.MAX_JOBS is {section.MAX_JOBS}. Raise "
                "MAX_JOBS to run them all, or shorten the PARAMETERS lists."
            )
    sweep_id = (
        _tuning_job_name(cfg) if section.STRATEGY == "bayesian" else new_job_name(f"{_base(cfg)}-sweep")
    )
    return Sweep(
        sweep_id=sweep_id,
        strategy=section.STRATEGY,
        parameters=parameters,
        metric=metric,
        goal=section.OBJECTIVE.GOAL,
        max_jobs=section.MAX_JOBS,
        max_parallel=section.MAX_PARALLEL,
        seed=section.SEED,
    )


def _base(cfg: CfgNode) -> str:
    return cfg.SAGEMAKER.BASE_JOB_NAME


def _tuning_job_name(cfg: CfgNode) -> str:
    """``BASE-yymmdd-HHMMSS-xxxx`` within SageMaker's 32 characters for a tuning job's name: unique per
    launch, like a training job's, even for sweeps started in the same second."""
    stamp = f"{dt.datetime.now(dt.UTC):%y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    return f"{_base(cfg)[: TUNING_JOB_NAME_LENGTH - len(stamp) - 1].rstrip('-')}-{stamp}"


def _one_of(value: str, allowed: Sequence[str], key: str, source: str) -> None:
    if value not in allowed:
        raise LauncherError(f"{source}: {key} is {value!r}; it must be one of {', '.join(allowed)}.")


def _parameter(key: str, value: Any, source: str) -> list[Any] | ParameterRange:
    where = f"{source}: SWEEP.PARAMETERS.{key}"
    if isinstance(value, list):
        if not value:
            raise LauncherError(f"{where} is an empty list; give it at least one value.")
        return list(value)
    bounds = dict(value)
    unknown = sorted(set(bounds) - {"MIN", "MAX", "SCALE"})
    low, high = bounds.get("MIN"), bounds.get("MAX")
    scale = str(bounds.get("SCALE", "linear")).lower()
    numbers = all(isinstance(bound, int | float) and not isinstance(bound, bool) for bound in (low, high))
    if unknown or not numbers or scale not in SCALES or not low < high or (scale == "log" and low <= 0):
        raise LauncherError(
            f"{where} is {bounds}; a range is {{MIN: number, MAX: larger number, SCALE: linear or log}} "
            "(log needs MIN above 0)."
        )
    return ParameterRange(low, high, scale)


def plan_points(sweep: Sweep) -> list[dict[str, Any]]:
    """The points of grid and random: every combination in order, or MAX_JOBS seeded draws."""
    if sweep.strategy == "grid":
        keys = list(sweep.parameters)
        lists = [sweep.parameters[key] for key in keys]
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*lists)]  # type: ignore[arg-type]
    draw = random.Random(sweep.seed)
    return [
        {key: _draw(draw, value) for key, value in sweep.parameters.items()} for _ in range(sweep.max_jobs)
    ]


def _draw(draw: random.Random, value: list[Any] | ParameterRange) -> Any:
    if isinstance(value, list):
        return draw.choice(value)
    if value.integer:
        return draw.randint(int(value.low), int(value.high))
    if value.scale == "log":
        number = math.exp(draw.uniform(math.log(value.low), math.log(value.high)))
    else:
        number = draw.uniform(value.low, value.high)
    return float(f"{number:.{_DRAW_DIGITS}g}")


def override_pairs(point: dict[str, Any]) -> list[str]:
    """A point as ``KEY VALUE`` words, as the command line would give them."""
    pairs: list[str] = []
    for key, value in point.items():
        pairs += [key, value if isinstance(value, str) else json.dumps(value)]
    return pairs


def point_configs(
    config_file: str, overrides: Sequence[str], point: dict[str, Any], sweep: Sweep
) -> ResolvedConfigs:
    """One point's validated configs: the file, the overrides, the point, the sweep's tags; its own
    resolved config holds no SWEEP section, so it launches and reproduces as a plain job."""
    tags = [
        "SAGEMAKER.TAGS." + TAG_SWEEP,
        sweep.sweep_id,
        "SAGEMAKER.TAGS." + TAG_SWEEP_OBJECTIVE,
        sweep.objective_tag,
    ]
    configs = with_sdk_defaults(load_configs(config_file, [*overrides, *override_pairs(point), *tags]))
    sagemaker = configs.sagemaker.clone()
    sagemaker.defrost()
    sagemaker.SWEEP = get_sagemaker_cfg_defaults().SWEEP
    sagemaker.freeze()
    configs = dataclasses.replace(configs, sagemaker=sagemaker)
    validate(configs)
    return configs


def point_label(point: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in point.items())


def launch_sagemaker_points(
    configs_list: Sequence[ResolvedConfigs],
    arguments: Sequence[str],
    max_parallel: int,
    poll_seconds: float,
    echo: Callable[[str], None],
    sleep: Callable[[float], None],
) -> list[str]:
    """Create each point's job, keeping at most ``max_parallel`` running; returns the job names."""
    from sagemaker_launcher.aws.clients import aws_client
    from sagemaker_launcher.aws.faults import aws_errors
    from sagemaker_launcher.aws.training_jobs import TRAINING_JOB as TRAINING
    from sagemaker_launcher.aws.training_jobs import describe
    from sagemaker_launcher.config.spec_building import job_spec
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker
    from sagemaker_launcher.spec.statuses import ENDED_STATUSES

    names: list[str] = []
    running: list[str] = []
    sagemaker = None
    for index, configs in enumerate(configs_list, 1):
        while len(running) >= max_parallel:
            sagemaker = sagemaker or aws_client("sagemaker", configs.sagemaker.SAGEMAKER.REGION)
            with aws_errors("Checking the sweep's running jobs", "sagemaker:DescribeTrainingJob"):
                running = [
                    job for job in running if _running(describe(sagemaker, TRAINING, job), ENDED_STATUSES)
                ]
            if len(running) >= max_parallel:
                sleep(poll_seconds)
        spec = job_spec(configs, arguments)
        launch_on_sagemaker(spec)
        echo(f"Sweep point {index}/{len(configs_list)}: started {spec.name} ({spec.prefix})")
        names.append(spec.name)
        running.append(spec.name)
    return names


def _running(description: dict[str, Any] | None, ended: frozenset[str]) -> bool:
    """A job still counts against MAX_PARALLEL until it has ended (a job not yet visible is running)."""
    return description is None or description.get("TrainingJobStatus") not in ended


def check_bayesian(configs: ResolvedConfigs, sweep: Sweep) -> dict[str, str]:
    """Parameter key -> the hyperparameter SageMaker's tuner varies; refuses what it cannot tune."""
    cfg, source = configs.sagemaker, configs.sagemaker_source
    if is_local(cfg.SAGEMAKER.INSTANCE_TYPE):
        raise LauncherError(
            f"{source}: SWEEP.STRATEGY bayesian runs SageMaker's tuner, which needs an ml.* "
            f"SAGEMAKER.INSTANCE_TYPE, not {cfg.SAGEMAKER.INSTANCE_TYPE}. Use grid or random locally."
        )
    if cfg.SAGEMAKER.ENABLE_REMOTE_DEBUG:
        raise LauncherError(
            f"{source}: SAGEMAKER.ENABLE_REMOTE_DEBUG is true, but a bayesian sweep is one tuning job, and "
            "the tuning API has no remote-debug field. Set it to false, or sweep with grid or random."
        )
    training_keys = (
        set(leaf_keys(configs.training))
        if configs.training is not None and configs.training_defaults.sends_training_keys
        else set()
    )
    names = {}
    for key in sweep.parameters:
        if key.startswith("HYPERPARAMETERS."):
            names[key] = key.removeprefix("HYPERPARAMETERS.")
        elif key in training_keys:
            names[key] = key
        else:
            raise LauncherError(
                f"{source}: SWEEP.PARAMETERS.{key} is not sent as a hyperparameter, so SageMaker's tuner "
                "cannot vary it. Bayesian sweeps take training keys (with the example's training defaults) "
                "and HYPERPARAMETERS.<name>; sweep other keys with grid or random."
            )
    return names


def tuning_ranges(sweep: Sweep, names: dict[str, str]) -> dict[str, tuple[str, ...] | ParameterRange]:
    """Hyperparameter name -> its range, or its values JSON-encoded as the job's hyperparameters are."""
    return {
        names[key]: value if isinstance(value, ParameterRange) else tuple(json.dumps(item) for item in value)
        for key, value in sweep.parameters.items()
    }
