"""Sweeps: many ordinary jobs from one experiment file's ``SWEEP`` section.

``grid`` and ``random`` plan their points here and launch each as a normal job (its own resolved
configs and record), tagged with the sweep's id and objective so ``list --sweep`` and
``compare --sweep`` find them; ``bayesian`` hands the ranges to SageMaker's own tuner
(``tuning``).

A list's items are YAML values as written (``Written``): a point sets its key exactly as the same
``KEY: item`` written in the file would (``IMAGE.TAG: [1.10]`` runs ``:1.10``; a number key gets the
number), and dry runs and labels show the text. The section's sizes are bounded and checked before
anything is planned, and a sweep that stops early (a failed launch, an interrupt) says which jobs it
started and which points it did not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import math
import random
import re
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.errors import ConfigError
from sagemaker_container.sagemaker_contract.merging import coerce_value, leaf_keys, list_or_range_value
from sagemaker_container.sagemaker_contract.yaml_reading import Written, clipped, parse, scalar_source
from sagemaker_default_config import get_sagemaker_cfg_defaults
from sagemaker_launcher.config.loading import ResolvedConfigs, load_configs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.launch.sequence import with_sdk_defaults
from sagemaker_launcher.spec.job import ParameterRange
from sagemaker_launcher.spec.layout import (
    GOALS,
    TAG_SWEEP,
    TAG_SWEEP_OBJECTIVE,
    new_job_name,
    script_argument_value,
)

STRATEGIES = ("grid", "random", "bayesian")
SCALES = ("linear", "log")
# SageMaker's limit on a tuning job's name (HyperParameterTuningJobName).
TUNING_JOB_NAME_LENGTH = 32
# Significant digits kept of a random draw, so labels and configs stay readable.
_DRAW_DIGITS = 4
# Most points of a grid or random sweep: each is its own launch, record and job.
MAX_POINTS = 1000
# SageMaker's Automatic Model Tuning limits, which the API model leaves out (it gives only a minimum of
# 1): a bayesian tuning job runs at most 750 training jobs (ResourceLimits.MaxNumberOfTrainingJobs, not
# adjustable), and at most 100 at once (MaxParallelTrainingJobs, 10 unless the quota is raised). The
# launcher keeps grid and random points to the same number at once.
TUNING_MAX_JOBS = 750
MAX_PARALLEL_JOBS = 100
# A range's bound: a number as YAML 1.1 reads it, or as text it leaves (1e-5, with no dot).
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
# Entries of each kind named in a stopped sweep's message; the rest are counted.
_NAMED_ENTRIES = 20

# One point: key -> a list item as written, or a number drawn from a range.
Point = dict[str, Any]


@dataclass(frozen=True)
class Sweep:
    """A validated SWEEP section."""

    sweep_id: str
    strategy: str
    # Key -> its list of values as written, or its range.
    parameters: dict[str, list[Written] | ParameterRange]
    metric: str
    goal: str
    max_jobs: int
    max_parallel: int
    seed: int
    # The keys whose command-line value is read as YAML (numbers, true/false, lists); the others take
    # their text as it is.
    typed_keys: frozenset[str] = frozenset()
    # bayesian: list key -> each value as the job sends it as a hyperparameter (the tuner's categories).
    sent_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
    """The SWEEP section checked as a whole, sizes first, before anything is planned; raises
    ``LauncherError`` naming the key at fault."""
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
    check_sizes(section.STRATEGY, section.MAX_JOBS, section.MAX_PARALLEL, source)
    parameters = {key: _parameter(key, value, source) for key, value in section.PARAMETERS.items()}
    ranged = [key for key, value in parameters.items() if isinstance(value, ParameterRange)]
    if ranged and section.STRATEGY == "grid":
        raise LauncherError(
            f"{source}: SWEEP.PARAMETERS.{ranged[0]} is a range, which a grid cannot enumerate. Give it a "
            "list of values, or set SWEEP.STRATEGY to random or bayesian."
        )
    if section.STRATEGY == "grid":
        check_grid_size(parameters, section.MAX_JOBS, source)
    check_run_modes(parameters, source)
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
        typed_keys=frozenset(key for key in parameters if _reads_yaml(configs, key)),
        sent_values=_sent_values(configs, parameters) if section.STRATEGY == "bayesian" else {},
    )


def check_sizes(strategy: str, max_jobs: int, max_parallel: int, source: str) -> None:
    """MAX_JOBS and MAX_PARALLEL within their bounds: a sweep's size is refused before it is planned."""
    if strategy == "bayesian":
        most_jobs, why = (
            TUNING_MAX_JOBS,
            "SageMaker's tuner runs at most that many training jobs per tuning job "
            "(ResourceLimits.MaxNumberOfTrainingJobs)",
        )
    else:
        most_jobs, why = MAX_POINTS, "a grid or random sweep runs at most that many points, each its own job"
    for key, value, most, reason in (
        ("MAX_JOBS", max_jobs, most_jobs, why),
        (
            "MAX_PARALLEL",
            max_parallel,
            MAX_PARALLEL_JOBS,
            "SageMaker runs at most that many training jobs of one tuning job at once "
            "(ResourceLimits.MaxParallelTrainingJobs), and a sweep keeps to the same",
        ),
    ):
        if value < 1:
            raise LauncherError(f"{source}: SWEEP.{key} is {value}; it must be at least 1.")
        if value > most:
            raise LauncherError(
                f"{source}: SWEEP.{key} is {value}, more than {most}: {reason}. Set SWEEP.{key} to at most "
                f"{most}, or split the sweep into several files."
            )


def check_grid_size(parameters: Mapping[str, Any], max_jobs: int, source: str) -> None:
    """A grid's size from its lists' lengths (never enumerated) within MAX_JOBS."""
    lengths = [len(values) for values in parameters.values() if isinstance(values, list)]
    size = math.prod(lengths)
    if size <= max_jobs:
        return
    product = " x ".join(map(str, lengths))
    if size > MAX_POINTS:
        fix = (
            f"A grid runs at most {MAX_POINTS} points: shorten the PARAMETERS lists, or sweep with "
            "SWEEP.STRATEGY random, which draws MAX_JOBS of them."
        )
    else:
        fix = "Raise MAX_JOBS to run them all, or shorten the PARAMETERS lists."
    raise LauncherError(
        f"{source}: the grid has {size} points ({product}, the lengths of the PARAMETERS lists) but "
        f"SWEEP.MAX_JOBS is {max_jobs}. {fix}"
    )


def check_run_modes(parameters: Mapping[str, Any], source: str) -> None:
    """A sweep's points all run on this machine or all on SageMaker, never some of each."""
    types = parameters.get("SAGEMAKER.INSTANCE_TYPE")
    if not isinstance(types, list):
        return
    texts = [value_text(item) for item in types]
    local = [text for text in texts if is_local(text)]
    remote = [text for text in texts if not is_local(text)]
    if local and remote:
        raise LauncherError(
            f"{source}: SWEEP.PARAMETERS.SAGEMAKER.INSTANCE_TYPE mixes local modes ({', '.join(local)}) "
            f"with SageMaker instance types ({', '.join(remote)}). Local points run one after another on "
            "this machine and ml.* points as SageMaker jobs, so one sweep holds one kind: sweep each kind "
            "in its own file."
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


def _parameter(key: str, value: Any, source: str) -> list[Written] | ParameterRange:
    where = f"{source}: SWEEP.PARAMETERS.{key}"
    if isinstance(value, str):
        # Set on the command line, where a new key's value stays the text: read it as the file would.
        value = _command_line_value(key, value, source)
    if isinstance(value, list):
        if not value:
            raise LauncherError(f"{where} is an empty list; give it at least one value.")
        return [_written(item) for item in value]
    bounds = dict(value)
    unknown = sorted(set(bounds) - {"MIN", "MAX", "SCALE"})
    low, high = _bound(bounds.get("MIN")), _bound(bounds.get("MAX"))
    for name, bound in (("MIN", low), ("MAX", high)):
        if bound is not None and not math.isfinite(bound):
            raise LauncherError(
                f"{where}.{name} is {bounds[name]!r}; a range's bounds must be finite numbers (an infinity "
                "or NaN leaves nothing to draw). Give a number such as 1e-5 or 0.1."
            )
    scale = str(bounds.get("SCALE", "linear")).lower()
    if (
        unknown
        or low is None
        or high is None
        or scale not in SCALES
        or not low < high
        or (scale == "log" and low <= 0)
    ):
        raise LauncherError(
            f"{where} is {_shown_range(bounds)}; a range is {{MIN: number, MAX: larger number, SCALE: linear "
            "or log}} (log needs MIN above 0; numbers as 0.001 or 1e-3)."
        )
    return ParameterRange(low, high, scale)


def _command_line_value(key: str, text: str, source: str) -> Any:
    try:
        return list_or_range_value(parse(text), f"SWEEP.PARAMETERS.{key}", source)
    except ConfigError as error:
        raise LauncherError(str(error)) from None
    except yaml.YAMLError:
        raise LauncherError(
            f"{source}: SWEEP.PARAMETERS.{key} is {clipped(text)!r}, which is not a YAML list or range "
            "(e.g. '[0.01, 0.001]' or '{MIN: 0.001, MAX: 0.1}')."
        ) from None


def _written(item: Any) -> Written:
    """A list item as the file wrote it: its YAML text (``list_or_range_value``) read back."""
    if isinstance(item, str):
        try:
            data = parse(item)
        except yaml.YAMLError:
            data = None
        if isinstance(data, Written):
            return data
        return Written(item, item)
    return Written(item, json.dumps(item) if isinstance(item, bool | int | float) else str(item))


def _bound(value: Any) -> int | float | None:
    """A range bound as a number: YAML's number, or text in number form (YAML 1.1 leaves 1e-5 as text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _shown_range(bounds: Mapping[str, Any]) -> str:
    return clipped("{" + ", ".join(f"{key}: {value}" for key, value in bounds.items()) + "}")


def _current(configs: ResolvedConfigs, key: str) -> tuple[bool, Any]:
    """Whether ``key`` is in its config (SageMaker's or the training one), and its resolved value."""
    node: Any = configs.sagemaker if key.split(".", 1)[0] in configs.sagemaker else configs.training
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.get(part) if isinstance(node, CfgNode) else None
    if not isinstance(node, CfgNode) or leaf not in node:
        return False, None
    return True, node[leaf]


def _reads_yaml(configs: ResolvedConfigs, key: str) -> bool:
    """Whether a command-line value of ``key`` is read as YAML (``loading.merge_override``): a key of a
    number, true/false, list or no-default type; text keys and free-form entries take the text."""
    known, value = _current(configs, key)
    return known and not isinstance(value, str | CfgNode)


def _sent_values(configs: ResolvedConfigs, parameters: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each list value as a job with it would send it as a hyperparameter: a HYPERPARAMETERS entry its
    text, a training key its value by the key's type (``1.10`` is 1.1 for a number, "1.10" for text)."""
    sent = {}
    for key, values in parameters.items():
        if not isinstance(values, list):
            continue
        if key.startswith("HYPERPARAMETERS."):
            sent[key] = tuple(json.dumps(script_argument_value(item.text)) for item in values)
            continue
        known, current = _current(configs, key)
        if not known:
            continue  # check_bayesian refuses it
        try:
            sent[key] = tuple(
                json.dumps(coerce_value(current, item, f"SWEEP.PARAMETERS.{key}", configs.sagemaker_source))
                for item in values
            )
        except ConfigError as error:
            raise LauncherError(str(error)) from None
    return sent


def plan_points(sweep: Sweep) -> list[Point]:
    """The points of grid and random: every combination in order, or MAX_JOBS seeded draws."""
    if sweep.strategy == "grid":
        keys = list(sweep.parameters)
        lists = [sweep.parameters[key] for key in keys]
        return [dict(zip(keys, values, strict=True)) for values in itertools.product(*lists)]  # type: ignore[arg-type]
    draw = random.Random(sweep.seed)
    return [
        {key: _draw(draw, value) for key, value in sweep.parameters.items()} for _ in range(sweep.max_jobs)
    ]


def _draw(draw: random.Random, value: list[Written] | ParameterRange) -> Any:
    if isinstance(value, list):
        return draw.choice(value)
    if value.integer:
        return draw.randint(int(value.low), int(value.high))
    if value.scale == "log":
        number = math.exp(draw.uniform(math.log(value.low), math.log(value.high)))
    else:
        number = draw.uniform(value.low, value.high)
    return float(f"{number:.{_DRAW_DIGITS}g}")


def value_text(value: Any) -> str:
    """A point's value as text: a list item as written, a drawn number as JSON writes it."""
    if isinstance(value, Written):
        return value.text
    return value if isinstance(value, str) else json.dumps(value)


def shown_point(point: Point) -> dict[str, Any]:
    """A point for a dry run's JSON: list items as their written text, drawn numbers as numbers."""
    return {key: value.text if isinstance(value, Written) else value for key, value in point.items()}


def override_pairs(point: Point, typed_keys: Collection[str] = frozenset()) -> list[str]:
    """A point as ``KEY VALUE`` words that set each key as the same ``KEY: value`` in the file would: the
    text as written, which a text key takes as it is and a typed key (``typed_keys``) reads as YAML,
    kept in quotes where the file quoted it (``'5'`` stays text)."""
    pairs: list[str] = []
    for key, value in point.items():
        if isinstance(value, Written):
            pairs += [key, scalar_source(value) if key in typed_keys else value.text]
        else:
            pairs += [key, value if isinstance(value, str) else json.dumps(value)]
    return pairs


def point_configs(config_file: str, overrides: Sequence[str], point: Point, sweep: Sweep) -> ResolvedConfigs:
    """One point's validated configs: the file, the overrides, the point, the sweep's tags; its own
    resolved config holds no SWEEP section, so it launches and reproduces as a plain job."""
    tags = [
        "SAGEMAKER.TAGS." + TAG_SWEEP,
        sweep.sweep_id,
        "SAGEMAKER.TAGS." + TAG_SWEEP_OBJECTIVE,
        sweep.objective_tag,
    ]
    words = [*overrides, *override_pairs(point, sweep.typed_keys), *tags]
    configs = with_sdk_defaults(load_configs(config_file, words))
    sagemaker = configs.sagemaker.clone()
    sagemaker.defrost()
    sagemaker.SWEEP = get_sagemaker_cfg_defaults().SWEEP
    sagemaker.freeze()
    configs = dataclasses.replace(configs, sagemaker=sagemaker)
    validate(configs)
    return configs


def point_label(point: Point) -> str:
    return " ".join(f"{key}={value_text(value)}" for key, value in point.items())


@dataclass
class SweepProgress:
    """What a sweep has started so far, so that one stopping early says what runs and what did not."""

    sweep_id: str
    labels: Sequence[str]
    # (point number, job name or None when it left no folder, how it ended or None while it runs)
    started: list[tuple[int, str | None, str | None]] = field(default_factory=list)

    def stopped(self, reason: str, at: int, on_sagemaker: bool) -> str:
        """``reason``, then which jobs were started (still running on SageMaker, or run here) and which
        points were not, for a sweep that stopped at point ``at``."""
        total = len(self.labels)
        lead = reason.strip()
        if lead and not lead.endswith("."):
            lead += "."
        parts = [lead] if lead else []
        parts.append(f"Sweep {self.sweep_id} stopped at point {at} of {total}.")
        entries = [
            f"{name or 'no job folder'} (point {index}: {self.labels[index - 1]}"
            + (f", {ended})" if ended else ")")
            for index, name, ended in self.started
        ]
        where = "Started on SageMaker, left running" if on_sagemaker else "Run on this machine"
        follow = ""
        if on_sagemaker and entries:
            follow = (
                f" Stop one with '{CLI_COMMAND} stop JOB', or list them with '{CLI_COMMAND} list --sweep "
                f"{self.sweep_id}'."
            )
        parts.append(f"{where}: {_named(entries)}." if entries else "No point had started.")
        begun = {index for index, _, _ in self.started}
        waiting = [
            f"{index} ({self.labels[index - 1]})" for index in range(1, total + 1) if index not in begun
        ]
        parts.append(
            f"Not started ({len(waiting)} of {total}): point{'s' if len(waiting) > 1 else ''} "
            f"{_named(waiting)}."
            if waiting
            else "Every point started."
        )
        return " ".join(parts) + follow


def _named(entries: Sequence[str]) -> str:
    shown = ", ".join(entries[:_NAMED_ENTRIES])
    more = len(entries) - _NAMED_ENTRIES
    return f"{shown} and {more} more" if more > 0 else shown


def launch_sagemaker_points(
    configs_list: Sequence[ResolvedConfigs],
    arguments: Sequence[str],
    max_parallel: int,
    poll_seconds: float,
    echo: Callable[[str], None],
    sleep: Callable[[float], None],
    progress: SweepProgress | None = None,
) -> list[str]:
    """Create each point's job, keeping at most ``max_parallel`` running; returns the job names.

    A failed launch or an interrupt stops the sweep there: the error (``LauncherError``, or
    ``KeyboardInterrupt``) is raised again with the jobs already started, which keep running, and the
    points not started.
    """
    from sagemaker_launcher.aws.clients import aws_client
    from sagemaker_launcher.aws.faults import aws_errors, aws_fault_message
    from sagemaker_launcher.aws.training_jobs import TRAINING_JOB as TRAINING
    from sagemaker_launcher.aws.training_jobs import describe
    from sagemaker_launcher.config.spec_building import job_spec
    from sagemaker_launcher.launch.sequence import launch_on_sagemaker
    from sagemaker_launcher.spec.statuses import ENDED_STATUSES

    progress = progress or SweepProgress("", [f"point {index}" for index in range(1, len(configs_list) + 1)])
    names: list[str] = []
    running: list[str] = []
    sagemaker = None
    index, name = 1, ""
    try:
        for index, configs in enumerate(configs_list, 1):
            name = ""
            while len(running) >= max_parallel:
                sagemaker = sagemaker or aws_client("sagemaker", configs.sagemaker.SAGEMAKER.REGION)
                with aws_errors("Checking the sweep's running jobs", "sagemaker:DescribeTrainingJob"):
                    running = [
                        job for job in running if _running(describe(sagemaker, TRAINING, job), ENDED_STATUSES)
                    ]
                if len(running) >= max_parallel:
                    sleep(poll_seconds)
            spec = job_spec(configs, arguments)
            name = spec.name
            launch_on_sagemaker(spec)
            progress.started.append((index, spec.name, None))
            names.append(spec.name)
            running.append(spec.name)
            echo(f"Sweep point {index}/{len(configs_list)}: started {spec.name} ({spec.prefix})")
    except KeyboardInterrupt as interrupt:
        _created_anyway(progress, index, name, str(interrupt))
        raise KeyboardInterrupt(progress.stopped(str(interrupt), index, True)) from None
    except LauncherError as error:
        _created_anyway(progress, index, name, error.message)
        raise LauncherError(progress.stopped(error.message, index, True)) from None
    except Exception as error:
        message = aws_fault_message(error, f"Launching sweep point {index}")
        if message is None:
            error.add_note(progress.stopped("", index, True))
            raise
        raise LauncherError(progress.stopped(message, index, True)) from None
    return names


def _created_anyway(progress: SweepProgress, index: int, name: str, reason: str) -> None:
    """A launch stopped after its create request left may have created the job all the same; its undo
    (``undo.Undo.outcome``) has asked SageMaker and says so, and then the job counts as started."""
    if name and f"{name} was created all the same" in reason:
        progress.started.append((index, name, "created all the same"))


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
    """Hyperparameter name -> its range, or its values as the job sends each as a hyperparameter."""
    ranges: dict[str, tuple[str, ...] | ParameterRange] = {}
    for key, value in sweep.parameters.items():
        if isinstance(value, ParameterRange):
            ranges[names[key]] = value
        else:
            ranges[names[key]] = sweep.sent_values.get(key) or tuple(json.dumps(item.value) for item in value)
    return ranges
