"""The launch sequence: resolve and validate, lay out, write the record, then start the job.

Nothing is written and no AWS call is made until validation has passed, and a dry run stops
after building the request.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_container.sagemaker_contract.names import (
    RECORD_FILE,
    REQUEST_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors, aws_fault_message
from sagemaker_launcher.aws.storage import JobStorage, pack_source_dir
from sagemaker_launcher.config.loading import ResolvedConfigs, load_configs
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import CLI_COMMAND, LauncherError
from sagemaker_launcher.launch.plan import JobPlan, hyperparameters_of, plan_job
from sagemaker_launcher.launch.record import GitState, build_record, git_state


def resolve(config_file: str | Path | None, overrides: Sequence[str]) -> ResolvedConfigs:
    """Load and validate both configs; raises ``LauncherError`` before anything is touched."""
    configs = load_configs(config_file, overrides)
    validate(configs)
    return configs


def plan_for(
    configs: ResolvedConfigs,
    root: str,
    git: GitState,
    parent_job: str | None = None,
    code_uri: str | None = None,
) -> JobPlan:
    """The job's layout under ``root``, with its hyperparameters; ``code_uri``: an existing code archive."""
    return plan_job(
        configs.sagemaker, hyperparameters_of(configs), root, git.commit, parent_job, code_uri=code_uri
    )


def dump_json(data: Any) -> str:
    """The JSON form used for requests and records: stable key order, readable."""
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def dry_run_request(
    configs: ResolvedConfigs, parent_job: str | None = None, code_uri: str | None = None
) -> dict[str, Any]:
    """The CreateTrainingJob request a launch would send; sends nothing and writes nothing."""
    from sagemaker_launcher.aws.sagemaker_sdk import create_training_job, preload_sdk

    preload_sdk()
    plan = plan_for(configs, f"s3://{configs.sagemaker.S3.BUCKET}", git_state(), parent_job, code_uri)
    return create_training_job(configs.sagemaker, plan, send=False)


@dataclass(frozen=True)
class JobKind:
    """What a launch creates: ``describe`` is the SageMaker client's call that finds one by its name
    (the ``name_field`` argument), ``follow_up`` the command that shows one (``{name}`` filled in)."""

    noun: str
    describe: str
    name_field: str
    follow_up: str


TRAINING_JOB = JobKind("training job", "describe_training_job", "TrainingJobName", "show {name}")
TUNING_JOB = JobKind(
    "tuning job", "describe_hyper_parameter_tuning_job", "HyperParameterTuningJobName", "list --sweep {name}"
)
# What SageMaker answers a Describe call for a name it does not know.
_UNKNOWN_NAME_CODES = frozenset({"ValidationException", "ResourceNotFound"})


def launch_on_sagemaker(
    configs: ResolvedConfigs,
    arguments: Sequence[str],
    parent_job: str | None = None,
    code_uri: str | None = None,
) -> JobPlan:
    """Stage the job's files under its S3 prefix, then create the job, all or nothing (``stage_and_create``).

    ``code_uri`` names an existing code archive (a reproduced job's) to run instead of packing SOURCE_DIR.
    """
    from sagemaker_launcher.aws.sagemaker_sdk import create_training_job

    cfg = configs.sagemaker
    storage = prepare_launch(cfg.SAGEMAKER.REGION)
    git = git_state()
    plan = plan_for(configs, f"s3://{cfg.S3.BUCKET}", git, parent_job, code_uri)

    def create(keep_request: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        return create_training_job(cfg, plan, send=True, before_send=keep_request)

    stage_and_create(storage, configs, plan, git, arguments, TRAINING_JOB, create, parent_job)
    return plan


def prepare_launch(region: str) -> JobStorage:
    """The launch's storage, with every client the launch calls made before the SDK starts importing."""
    from sagemaker_launcher.aws.sagemaker_sdk import preload_sdk

    storage = JobStorage(region)
    _import_before_the_sdk(storage, region)
    preload_sdk()
    return storage


def stage_and_create(
    storage: JobStorage,
    configs: ResolvedConfigs,
    plan: JobPlan,
    git: GitState,
    arguments: Sequence[str],
    kind: JobKind,
    create: Callable[[Callable[[dict[str, Any]], None]], dict[str, Any]],
    parent_job: str | None = None,
) -> dict[str, Any]:
    """Upload inputs, code, configs and record under the plan's S3 prefix, then ``create`` the job.

    ``create(keep_request)`` sends the create request and returns it, handing it to ``keep_request``
    first (config/request.json). All or nothing: when any step fails, or Ctrl-C arrives, what this
    launch wrote is removed again (unless the job was created after all) and the error says so.
    """
    region = configs.sagemaker.SAGEMAKER.REGION
    with aws_errors(f"Preparing {kind.noun} {plan.job_name}", None, plan.job_name):
        record = build_record(configs, plan, git, arguments, parent_job, aws_identity=_caller_arn(region))
        _require_new_job(storage, plan, region, kind)
    with (
        _all_or_nothing(storage, plan, region, kind),
        aws_errors(f"Launching {kind.noun} {plan.job_name}", None),
    ):
        for name, path in plan.uploads.items():
            storage.upload(path, plan.channels[name], f"input '{name}'")
        if plan.packs_code:
            storage.put(plan.code_uri, pack_source_dir(Path(configs.sagemaker.SAGEMAKER.SOURCE_DIR)))
        write_config_channel(storage, plan, configs, record)

        def keep_request(request: dict[str, Any]) -> None:
            storage.put(plan.config_uri + REQUEST_FILE, dump_json(request).encode())

        return create(keep_request)


def _import_before_the_sdk(storage: JobStorage, region: str) -> None:
    """Make a client of each service the launch calls, and import its progress bar, before
    ``preload_sdk``: the launch's own work then imports no package the SDK's import is half-way through."""
    import tqdm  # noqa: F401

    aws_client("sts", region)
    aws_client("sagemaker", region)
    _ = storage.client


def _require_new_job(storage: JobStorage, plan: JobPlan, region: str, kind: JobKind = TRAINING_JOB) -> None:
    """Refuse a name that is taken, so a launch never writes over another job's record."""
    if storage.holds_objects(plan.prefix) or _job_exists(kind, plan.job_name, region):
        raise LauncherError(
            f"Job name {plan.job_name} is taken: a {kind.noun} or files under {plan.prefix} already exist, "
            "and this launch must not overwrite them. Launch again for a new name."
        )


def _job_exists(kind: JobKind, job_name: str, region: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        getattr(aws_client("sagemaker", region), kind.describe)(**{kind.name_field: job_name})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _UNKNOWN_NAME_CODES:
            return False
        raise
    return True


@contextmanager
def _all_or_nothing(storage: JobStorage, plan: JobPlan, region: str, kind: JobKind) -> Iterator[None]:
    """Remove everything under the job's prefix when the block fails, unless the job exists after all.

    A second Ctrl-C during the clean-up is held off, so the clean-up itself is never cut short.
    """
    try:
        yield
    except BaseException as error:
        if not isinstance(error, Exception | KeyboardInterrupt):
            raise
        with _ignoring_interrupts():
            outcome = _undo(storage, plan, region, kind)
        if isinstance(error, LauncherError):
            raise LauncherError(f"{error.message} {outcome}") from None
        if isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt(outcome) from None
        raise


def _undo(storage: JobStorage, plan: JobPlan, region: str, kind: JobKind) -> str:
    """Remove what the failed launch wrote; says in one sentence what is left."""
    try:
        if _job_exists(kind, plan.job_name, region):
            follow_up = kind.follow_up.format(name=plan.job_name)
            return (
                f"{kind.noun.capitalize()} {plan.job_name} was created all the same, so its files under "
                f"{plan.prefix} were kept: see it with '{CLI_COMMAND} {follow_up}'."
            )
        removed = storage.remove_prefix(plan.prefix)
    except Exception as error:
        reason = aws_fault_message(error, "Cleaning up") or f"{type(error).__name__}: {error}"
        return (
            f"No job was created, and its files under {plan.prefix} could not be removed ({reason}). "
            f"Remove them with: aws s3 rm --recursive {plan.prefix}"
        )
    return f"No job was created, and the {removed} file(s) it had written to S3 were removed."


@contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def write_config_channel(
    storage: JobStorage, plan: JobPlan, configs: ResolvedConfigs, record: dict[str, Any]
) -> None:
    """Write the resolved configs and the record into the job's ``config`` channel."""
    storage.put(plan.config_uri + SAGEMAKER_CONFIG_FILE, configs.sagemaker.dump().encode())
    if configs.training is not None:
        storage.put(plan.config_uri + TRAINING_CONFIG_FILE, configs.training.dump().encode())
    storage.put(plan.config_uri + RECORD_FILE, dump_json(record).encode())


def _caller_arn(region: str) -> str | None:
    """The AWS identity launching the job, for the record."""
    return aws_client("sts", region).get_caller_identity()["Arn"]
