"""Each host's ``/opt/ml`` tree of a local run, written from the job's request as SageMaker writes it.

    <run>/hosts/algo-N/      one SAGEMAKER_BASE_DIR per host (mounted at /opt/ml in Docker mode)
        input/config/        hyperparameters.json, inputdataconfig.json, resourceconfig.json, and
                             checkpointconfig.json when the request syncs checkpoints
        input/data/<name>    each channel as this run's own view of the data: a copy (hard links for a
                             channel over COPY_LIMIT_BYTES), so what the job writes there stays in the run
        code/                the job's code archive, extracted: edits during a run and files the job
                             writes beside its code never reach SOURCE_DIR, the next run or its archive
        model/  output/data/  checkpoints/

In host mode the job runs on this machine's paths, so a hyperparameter, environment value or config
channel value naming ``/opt/ml/...`` is pointed at the same path inside its host's tree (``Rewrites``);
paths the code builds itself cannot be rewritten.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.aws.storage import unreadable_named
from sagemaker_launcher.spec.layout import HOSTS_DIR, local_path

CONTAINER_BASE_DIR = names.DEFAULT_BASE_DIR
# A channel larger than this is hard-linked rather than copied into each host's view (see README).
COPY_LIMIT_BYTES = 256 * 1024 * 1024
_GROUP = "homogeneousCluster"


def host_names(count: int) -> list[str]:
    """SageMaker's host names: ``algo-1`` .. ``algo-N``."""
    return [f"algo-{index}" for index in range(1, count + 1)]


@dataclass(frozen=True)
class HostTree:
    """One host's SAGEMAKER_BASE_DIR, and the base dir the job sees (``/opt/ml`` in a container)."""

    host: str
    base_dir: Path
    seen_as: Path

    def path(self, relative: str) -> Path:
        """A contract path inside this host's tree, e.g. ``path(names.MODEL_DIR)``."""
        return self.base_dir / relative

    @property
    def code_dir(self) -> Path:
        return self.base_dir / names.CODE_DIR


@dataclass
class Rewrites:
    """Values naming ``/opt/ml/...`` that host mode pointed into a host's tree, by where they were."""

    places: set[str] = field(default_factory=set)

    def path(self, value: str, base: Path, place: str) -> str:
        """``value`` with a leading ``/opt/ml`` replaced by ``base``; other values as they are."""
        if value == CONTAINER_BASE_DIR or value.startswith(f"{CONTAINER_BASE_DIR}/"):
            self.places.add(place)
            return f"{base}{value[len(CONTAINER_BASE_DIR) :]}"
        return value

    def data(self, value: Any, base: Path, place: str) -> Any:
        """Every text inside ``value`` (lists and mappings too) rewritten by ``path``."""
        if isinstance(value, str):
            return self.path(value, base, place)
        if isinstance(value, list):
            return [self.data(item, base, place) for item in value]
        if isinstance(value, dict):
            return {key: self.data(item, base, place) for key, item in value.items()}
        return value


def channel_sources(request: Mapping[str, Any]) -> dict[str, Path]:
    """Each channel's local file or folder, from the request's ``file://`` data sources."""
    sources = {}
    for channel in request["InputDataConfig"]:
        uri = channel["DataSource"]["FileDataSource"]["FileUri"]
        sources[channel["ChannelName"]] = local_path(uri)
    return sources


def lay_out_hosts(
    request: Mapping[str, Any], run_dir: Path, code_archive: Path, host_mode: bool, rewrites: Rewrites
) -> list[HostTree]:
    """Create every host's tree from ``request``: config files, channel views, the extracted code."""
    hosts = host_names(request["ResourceConfig"]["InstanceCount"])
    instance_type = request["ResourceConfig"]["InstanceType"]
    sources = channel_sources(request)
    trees = []
    for host in hosts:
        base = run_dir / HOSTS_DIR / host
        tree = HostTree(host, base, base if host_mode else Path(CONTAINER_BASE_DIR))
        for folder in (names.MODEL_DIR, names.OUTPUT_DATA_DIR, names.CHECKPOINTS_DIR, names.CODE_DIR):
            tree.path(folder).mkdir(parents=True, exist_ok=True)
        with tarfile.open(code_archive) as archive:
            archive.extractall(tree.code_dir, filter="data")
        for name, source in sources.items():
            view = tree.path(names.CHANNELS_DIR) / name
            if name == names.CONFIG_CHANNEL:
                _config_view(source, view, tree, host_mode, rewrites)
            else:
                data_view(source, view)
        _write_config_files(request, tree, hosts, instance_type, host_mode, rewrites)
        trees.append(tree)
    return trees


def _write_config_files(
    request: Mapping[str, Any],
    tree: HostTree,
    hosts: list[str],
    instance_type: str,
    host_mode: bool,
    rewrites: Rewrites,
) -> None:
    hyperparameters = dict(request.get("HyperParameters") or {})
    # The toolkit takes a folder for the code archive as already unpacked there.
    hyperparameters[names.SUBMIT_DIRECTORY_HYPERPARAMETER] = json.dumps(str(tree.seen_as / names.CODE_DIR))
    if host_mode:
        hyperparameters = {
            key: _rewritten_json(value, tree.base_dir, f"hyperparameter {key}", rewrites)
            for key, value in hyperparameters.items()
        }
    resource_config = {
        "current_host": tree.host,
        "current_instance_type": instance_type,
        "current_group_name": _GROUP,
        "hosts": hosts,
        "instance_groups": [{"instance_group_name": _GROUP, "instance_type": instance_type, "hosts": hosts}],
        "network_interface_name": "lo" if host_mode else "eth0",
    }
    files: dict[str, Any] = {
        names.HYPERPARAMETERS_FILE: hyperparameters,
        names.INPUT_DATA_CONFIG_FILE: {
            channel["ChannelName"]: {
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            }
            for channel in request["InputDataConfig"]
        },
        names.RESOURCE_CONFIG_FILE: resource_config,
    }
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        files[names.CHECKPOINT_CONFIG_FILE] = {
            "LocalPath": str(checkpoint_dir(tree, request)),
            "S3Uri": checkpoint["S3Uri"],
        }
    for relative, content in files.items():
        tree.path(relative).parent.mkdir(parents=True, exist_ok=True)
        tree.path(relative).write_text(json.dumps(content, indent=2))


def checkpoint_dir(tree: HostTree, request: Mapping[str, Any]) -> Path:
    """Where the job sees its synced checkpoint folder: the request's LocalPath in a container; in host
    mode always the host's own ``checkpoints/`` (a LocalPath outside /opt/ml must not write elsewhere)."""
    checkpoint = request.get("CheckpointConfig") or {}
    if tree.seen_as == tree.base_dir:
        return tree.path(names.CHECKPOINTS_DIR)
    return Path(checkpoint.get("LocalPath") or f"{CONTAINER_BASE_DIR}/{names.CHECKPOINTS_DIR}")


def _rewritten_json(encoded: str, base: Path, place: str, rewrites: Rewrites) -> str:
    """A JSON-encoded hyperparameter with its /opt/ml paths rewritten; text that is not JSON as text."""
    try:
        value = json.loads(encoded)
    except ValueError:
        return rewrites.path(encoded, base, place)
    rewritten = rewrites.data(value, base, place)
    return encoded if rewritten == value else json.dumps(rewritten)


def _config_view(source: Path, view: Path, tree: HostTree, host_mode: bool, rewrites: Rewrites) -> None:
    """The config channel as this host reads it; in host mode the training config's values naming /opt/ml
    rewritten (the SageMaker config keeps the job's own settings as they are)."""
    shutil.copytree(source, view, dirs_exist_ok=True)
    if not host_mode:
        return
    path = view / names.TRAINING_CONFIG_FILE
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rewritten = rewrites.data(data, tree.base_dir, f"config channel {path.name}")
        if rewritten != data:
            path.write_text(yaml.safe_dump(rewritten, sort_keys=False), encoding="utf-8")


def data_view(source: Path, view: Path) -> None:
    """This run's own view of a channel: the files copied, or hard-linked when the channel is large.

    As in SageMaker's File mode the job may write there (a loader's ``processed/`` folder), and none of
    it reaches ``source``. Hard links share contents: a job that rewrites a large channel's file in
    place changes the original, which is why channels up to COPY_LIMIT_BYTES are copied.
    """
    files = [(source, source.name)] if source.is_file() else _files(source)
    with unreadable_named(f"Making this run's view of channel {view.name}"):
        _view(files, view)


def _view(files: list[tuple[Path, str]], view: Path) -> None:
    link = sum(path.stat().st_size for path, _ in files) > COPY_LIMIT_BYTES
    for path, relative in files:
        target = view / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if link:
            try:
                os.link(path, target)
                continue
            except OSError:
                pass  # another file system, or links not allowed: copy instead
        shutil.copy2(path, target)


def _files(folder: Path) -> list[tuple[Path, str]]:
    return [
        (path, path.relative_to(folder).as_posix()) for path in sorted(folder.rglob("*")) if path.is_file()
    ]
