"""``reproduce``: a new job from what a recorded job ran, read from S3 and SageMaker, not from this machine.

The new job gets the recorded resolved configs, the parent's own hyperparameters where they differ from
those configs (a tuning job's trial: the values the tuner chose), its input channels (the S3 URIs in its
InputDataConfig), its code archive (its ``sagemaker_submit_directory``) and its image by digest when the
record has one. A local path named in the record is never read or uploaded: a recorded
``INPUTS.train: ~/.aws`` must not send the reproducer's credentials to S3. Only what the user overrides on
the command line (an ``INPUTS`` key, ``SAGEMAKER.SOURCE_DIR``, ``IMAGE.*``) is taken as given.

Fetched code is never run here unless the user asks (``trust_code``): the overrides are checked against the
recorded training config itself, which holds every key with its type, and the archive is unpacked (safely)
only to check that it holds the entry point. The new record names the code's commit (the parent's) and
the reproducer's checkout, both.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

from sagemaker_container import job_debugger
from sagemaker_container.sagemaker_contract.names import (
    CONFIG_CHANNEL,
    SAGEMAKER_CONFIG_FILE,
    SDK_HYPERPARAMETER_PREFIX,
    SUBMIT_DIRECTORY_HYPERPARAMETER,
    TRAINING_CONFIG_FILE,
)
from sagemaker_container.sagemaker_contract.yaml_reading import RefusedYAML, parse, plain
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.aws.faults import aws_errors, is_not_found
from sagemaker_launcher.aws.images import by_digest
from sagemaker_launcher.config.loading import BASE_KEY, ResolvedConfigs, load_configs
from sagemaker_launcher.config.run_modes import is_local
from sagemaker_launcher.config.spec_building import ParentCode
from sagemaker_launcher.config.training_defaults import TrainingDefaults
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.lookup import JobInfo, find_job, no_record_note, record_text, recorded_configs
from sagemaker_launcher.spec.layout import SOURCE_ARCHIVE, is_s3_uri, split_s3_uri

SOURCE_DIR_KEY = "SAGEMAKER.SOURCE_DIR"
RUNNER_FILE = job_debugger.RUNNER_FILE
IMAGE_KEYS = ("IMAGE.URI", "IMAGE.REPOSITORY", "IMAGE.TAG")
# The YAML laid over the recorded config: the parent's channels and code, pinned before the overrides.
_PINS_FILE = "reproduce.yaml"


@dataclass(frozen=True)
class ParentJob:
    """A recorded job as it ran: its resolved configs and its input channels."""

    info: JobInfo
    sagemaker_yaml: str
    # None when the job had no training config (its TRAINING.DEFAULTS gave none).
    training_yaml: str | None
    # Channel name -> S3 URI, the config channel left out.
    channels: dict[str, str]


@dataclass(frozen=True)
class Reproduction:
    """The new job's validated configs, the parent's code, and the parent's own values it takes."""

    configs: ResolvedConfigs
    parent: ParentCode
    # KEY VALUE words taken from the parent's hyperparameters (a tuning trial's values), before the user's.
    parent_values: tuple[str, ...]


def find_parent(job: str, region: str | None) -> ParentJob:
    """The job to reproduce; an error if it has no recorded configs or reads from something but S3."""
    info = find_job(job, region)
    if not info.config_uri:
        raise LauncherError(f"Cannot reproduce: {no_record_note(info)}")
    texts = recorded_configs(info, region)
    if texts[SAGEMAKER_CONFIG_FILE] is None:
        raise _missing(info, SAGEMAKER_CONFIG_FILE)
    return ParentJob(info, texts[SAGEMAKER_CONFIG_FILE] or "", texts[TRAINING_CONFIG_FILE], _channels(info))


def resolve_reproduction(
    parent: ParentJob, overrides: Sequence[str], region: str | None, trust_code: bool = False
) -> Reproduction:
    """The new job's validated configs and the parent's code archive it runs as it is.

    The archive is None when the parent ran the image's code, or when ``overrides`` set SOURCE_DIR (then
    that folder is packed as in any launch). For the checks the archive is unpacked into a temporary
    folder; the resolved config keeps the recorded SOURCE_DIR only as a record of where the code came
    from. ``trust_code`` imports the recorded TRAINING.DEFAULTS module from that archive, so its own value
    rules apply; otherwise nothing fetched is run.
    """
    overridden = set(overrides[::2])
    code_uri = None if SOURCE_DIR_KEY in overridden else _code_archive(parent.info)
    parent_values = _parent_values(parent)
    # Messages about the configs name these files: the folder's name says which job they came from.
    with tempfile.TemporaryDirectory(prefix=f"reproduce-{parent.info.name}-") as folder:
        recorded_file = Path(folder, SAGEMAKER_CONFIG_FILE)
        recorded_file.write_text(parent.sagemaker_yaml, encoding="utf-8")
        recorded = _recorded_job_config(parent, recorded_file)
        training_file = ""
        if parent.training_yaml is not None:
            training_file = str(Path(folder, TRAINING_CONFIG_FILE))
            Path(training_file).write_text(parent.training_yaml, encoding="utf-8")
        pins: dict[str, Any] = {
            BASE_KEY: SAGEMAKER_CONFIG_FILE,
            "INPUTS": parent.channels,
            "TRAINING": {"CONFIG_FILE": training_file},
        }
        code = None
        if SOURCE_DIR_KEY not in overridden:
            code = _unpack_code(code_uri, Path(folder, "code"), region) if code_uri else None
            pins["SAGEMAKER"] = {"SOURCE_DIR": str(code or "")}
        digest = record_text(parent.info.record, "image", "digest")
        image = record_text(parent.info.record, "image", "uri")
        if digest and image and not overridden & set(IMAGE_KEYS):
            pins["IMAGE"] = {"URI": by_digest(image, digest)}
        pins_file = Path(folder, _PINS_FILE)
        pins_file.write_text(yaml.safe_dump(pins), encoding="utf-8")
        words = [*parent_values, *overrides]
        defaults = None if trust_code else _recorded_defaults(parent)
        configs = load_configs(pins_file, words, defaults)
        _check_matches_parent(parent, configs, overridden)
        validate(configs)
        if code is not None and configs.sagemaker.DEBUGGER.HOLD_ON_FAILURE_SECONDS:
            _check_runner_in(code, parent.info.name)
    if code_uri:
        cfg = configs.sagemaker.clone()
        cfg.defrost()
        cfg.SAGEMAKER.SOURCE_DIR = recorded.SAGEMAKER.SOURCE_DIR
        cfg.freeze()
        configs = dataclasses.replace(configs, sagemaker=cfg)
    commit = record_text(parent.info.record, "code", "commit") or record_text(
        parent.info.record, "git", "commit"
    )
    code = ParentCode(parent.info.name, code_uri, commit or None)
    return Reproduction(configs, code, tuple(parent_values))


def _check_runner_in(code: Path, job: str) -> None:
    """The hold runs the parent's archive through job_debugger.py, which the archive must then hold."""
    if not (code / RUNNER_FILE).is_file():
        raise LauncherError(
            f"DEBUGGER.HOLD_ON_FAILURE_SECONDS needs {RUNNER_FILE} beside the code, and the code archive of "
            f"{job} has none (its launch had the hold off). Pass SAGEMAKER.SOURCE_DIR with the code folder, "
            "so it is packed anew with the runner, or leave the hold off."
        )


def _recorded_job_config(parent: ParentJob, path: Path) -> CfgNode:
    """The recorded SageMaker config alone (no training config, nothing checked yet).

    A resolved config never names a ``_BASE_``: one that does would pull a file from this machine in.
    """
    alone = load_configs(path, ["TRAINING.DEFAULTS", "", "TRAINING.CONFIG_FILE", ""])
    if len(alone.sagemaker_files) > 1:
        raise LauncherError(
            f"Cannot reproduce job {parent.info.name}: its recorded {SAGEMAKER_CONFIG_FILE} names a "
            f"'{BASE_KEY}' file, which a resolved config never does, so the record was edited after the "
            "launch. Launch from your own YAML file instead."
        )
    return alone.sagemaker


def _recorded_defaults(parent: ParentJob) -> TrainingDefaults:
    """The recorded training config as the defaults to check against: every key, with its type."""
    training = _yaml_mapping(parent.sagemaker_yaml, "").get("TRAINING")
    spec = str(training.get("DEFAULTS") or "") if isinstance(training, dict) else ""
    if parent.training_yaml is None:
        return TrainingDefaults(spec, None)
    data = _yaml_mapping(parent.training_yaml, f"the recorded {TRAINING_CONFIG_FILE} of {parent.info.name}")
    return TrainingDefaults(spec, CfgNode(data), f"{TRAINING_CONFIG_FILE} of job {parent.info.name}")


def _parent_values(parent: ParentJob) -> list[str]:
    """The parent's hyperparameters that differ from its recorded configs, as KEY VALUE words.

    A tuning job's trials share the tuning job's record, while the tuner set some hyperparameters itself:
    those are the values the trial ran. Text values go as their text, others as their JSON (read as YAML).
    """
    hyperparameters = parent.info.description.get("HyperParameters") or {}
    training = _flat(_yaml_mapping(parent.training_yaml, "")) if parent.training_yaml else {}
    arguments = _yaml_mapping(parent.sagemaker_yaml, "").get("HYPERPARAMETERS") or {}
    words: list[str] = []
    for name, text in sorted(hyperparameters.items()):
        if name.startswith(SDK_HYPERPARAMETER_PREFIX) or not isinstance(text, str):
            continue
        decoded = _decoded(text)
        # A text value goes as its text (a text key keeps what it is given); others as JSON, read as YAML.
        value = decoded if isinstance(decoded, str) else text
        if name in training:
            if decoded != training[name]:
                words += [name, value]
        elif isinstance(arguments, dict) and name in arguments and str(arguments[name]) != value:
            words += [f"HYPERPARAMETERS.{name}", value]
    return words


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _yaml_mapping(text: str | None, what: str) -> dict[str, Any]:
    try:
        data = plain(parse(text or ""))
    except (yaml.YAMLError, RefusedYAML, RecursionError):
        if not what:
            return {}
        raise LauncherError(f"Cannot reproduce: {what} is not readable YAML.") from None
    return data if isinstance(data, dict) else {}


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _check_matches_parent(parent: ParentJob, configs: ResolvedConfigs, overridden: set[str]) -> None:
    """Refuse what would make the new job differ from the parent without the user asking for it."""
    name = parent.info.name
    instance_type = configs.sagemaker.SAGEMAKER.INSTANCE_TYPE
    if is_local(instance_type):
        raise LauncherError(
            f"reproduce starts SageMaker jobs; SAGEMAKER.INSTANCE_TYPE '{instance_type}' runs locally. Print "
            f"the recorded configs with 'show {name} --configs' and launch them locally from a YAML file."
        )
    for channel, location in configs.sagemaker.INPUTS.items():
        if channel not in parent.channels and f"INPUTS.{channel}" not in overridden:
            raise LauncherError(
                f"Cannot reproduce job {name}: its recorded {SAGEMAKER_CONFIG_FILE} names INPUTS.{channel} = "
                f"{location!r}, which is not one of the job's input channels "
                f"({', '.join(sorted(parent.channels)) or 'none'}), so the record does not match the job. "
                f"Give that channel's location on the command line (INPUTS.{channel} s3://...) to use it."
            )
    if len(configs.training_files) > 1:
        raise LauncherError(
            f"Cannot reproduce job {name}: its recorded {TRAINING_CONFIG_FILE} names a '{BASE_KEY}' file, "
            "which a resolved config never does, so the record was edited after the launch."
        )
    if parent.training_yaml is None and configs.training is not None:
        raise _missing(parent.info, TRAINING_CONFIG_FILE)


def _missing(info: JobInfo, file_name: str) -> LauncherError:
    return LauncherError(
        f"Cannot reproduce job {info.name}: {file_name} is missing from {info.config_uri}. Only jobs whose "
        "resolved configs were recorded at launch can be reproduced."
    )


def _channels(info: JobInfo) -> dict[str, str]:
    """The parent's input channels as SageMaker describes them, but the launcher's own config channel."""
    channels = {}
    for channel in info.description.get("InputDataConfig", []):
        name = channel.get("ChannelName", "")
        if name == CONFIG_CHANNEL:
            continue
        uri = channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri")
        if not uri:
            raise LauncherError(
                f"Cannot reproduce job {info.name}: its input channel '{name}' does not read from S3, and "
                f"this tool launches S3 channels only. Give it on the command line: INPUTS.{name} s3://..."
            )
        channels[name] = uri
    return channels


def _code_archive(info: JobInfo) -> str | None:
    """The parent's sourcedir.tar.gz as its hyperparameters name it; None when it ran the image's code."""
    encoded = info.description.get("HyperParameters", {}).get(SUBMIT_DIRECTORY_HYPERPARAMETER)
    if encoded is None:
        return None
    uri = _decoded(encoded)
    if not isinstance(uri, str) or not is_s3_uri(uri):
        raise LauncherError(
            f"Cannot reproduce job {info.name}: its {SUBMIT_DIRECTORY_HYPERPARAMETER} hyperparameter "
            f"({encoded[:200]!r}) does not name a code archive in S3 (a JSON-encoded s3:// URI of "
            f"{SOURCE_ARCHIVE}). Pass {SOURCE_DIR_KEY} FOLDER to run a code folder from this machine instead."
        )
    return uri


def _unpack_code(uri: str, target: Path, region: str | None) -> Path:
    """Download the parent's code archive and unpack it safely into ``target``; returns ``target``."""
    from sagemaker_launcher.jobs.archives import safe_unpack

    archive = target.with_name(SOURCE_ARCHIVE)
    bucket, key = split_s3_uri(uri)
    with aws_errors(f"Downloading {uri}", "s3:GetObject"):
        try:
            aws_client("s3", region).download_file(bucket, key, str(archive))
        except Exception as error:
            if not is_not_found(error):
                raise
            raise LauncherError(
                f"Cannot reproduce: the code archive the job ran, {uri}, is no longer in S3. Pass "
                f"{SOURCE_DIR_KEY} FOLDER to run a code folder from this machine instead."
            ) from None
    safe_unpack(archive, target, uri)
    return target
