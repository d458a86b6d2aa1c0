"""The ``/opt/ml``-shaped tree of each host of a local run, with the files SageMaker writes there.

<RUNS_DIR>/<experiment>/<job>/
    config/                the resolved configs, record and hyperparameters (the config channel)
    hosts/algo-N/          one SAGEMAKER_BASE_DIR per host:
        input/config/      hyperparameters.json, inputdataconfig.json, resourceconfig.json (no
                           checkpointconfig.json: local runs sync no checkpoints, as in Docker local mode)
        input/data/<name>  each channel, linked to its local folder
        model/  output/data/  output/failure  output/tensorboard/  checkpoints/
    output/                model.tar.gz and output.tar.gz, as SageMaker leaves them in S3
    tensorboard/           the first host's output/tensorboard, as SageMaker syncs it to S3
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract import names
from sagemaker_launcher.aws.storage import local_path
from sagemaker_launcher.config.run_modes import LOCAL_PROCESS
from sagemaker_launcher.launch.plan import MODEL_ARCHIVE, OUTPUT_ARCHIVE, JobPlan, encode_hyperparameters

HOSTS_DIR = "hosts"
OUTPUT_DIR = "output"


def host_names(count: int) -> list[str]:
    """SageMaker's host names: ``algo-1`` .. ``algo-N``."""
    return [f"algo-{index}" for index in range(1, count + 1)]


@dataclass(frozen=True)
class HostTree:
    """One host's SAGEMAKER_BASE_DIR."""

    host: str
    base_dir: Path

    @property
    def model_dir(self) -> Path:
        return self.base_dir / names.MODEL_DIR

    @property
    def output_data_dir(self) -> Path:
        return self.base_dir / names.OUTPUT_DATA_DIR

    @property
    def failure_file(self) -> Path:
        return self.base_dir / names.FAILURE_FILE

    @property
    def tensorboard_dir(self) -> Path:
        return self.base_dir / names.TENSORBOARD_OUTPUT_DIR


def job_dir(plan: JobPlan) -> Path:
    """The local folder of a job planned under a ``file://`` root."""
    return local_path(plan.prefix)


def script_mode_hyperparameters(
    plan: JobPlan, source_dir: Path, entry_point: str, region: str
) -> dict[str, str]:
    """The job's hyperparameters plus the ones SageMaker's script mode adds, JSON-encoded as the SDK does."""
    return encode_hyperparameters(
        {
            **plan.hyperparameters,
            names.PROGRAM_HYPERPARAMETER: entry_point,
            names.SUBMIT_DIRECTORY_HYPERPARAMETER: str(source_dir),
            names.CONTAINER_LOG_LEVEL_HYPERPARAMETER: 20,
            names.JOB_NAME_HYPERPARAMETER: plan.job_name,
            names.REGION_HYPERPARAMETER: region,
        }
    )


def local_request(cfg: CfgNode, plan: JobPlan, hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """The run in CreateTrainingJob's shape, kept as ``config/request.json`` as a SageMaker job's is.

    Channels are ``file://`` sources, as in SageMaker local mode; host mode names no image.
    """
    sm = cfg.SAGEMAKER
    image = "" if sm.INSTANCE_TYPE == LOCAL_PROCESS else plan.image_uri
    return {
        "TrainingJobName": plan.job_name,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": name, "Regex": regex} for name, regex in cfg.METRICS.items()],
        },
        "HyperParameters": dict(hyperparameters),
        "InputDataConfig": [
            {
                "ChannelName": name,
                "DataSource": {
                    "FileDataSource": {"FileUri": uri, "FileDataDistributionType": "FullyReplicated"}
                },
            }
            for name, uri in plan.channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": plan.output_path},
        "ResourceConfig": {"InstanceType": sm.INSTANCE_TYPE, "InstanceCount": sm.INSTANCE_COUNT},
        "Environment": dict(sm.ENVIRONMENT),
        "Tags": plan.tags,
    }


def lay_out_hosts(
    plan: JobPlan, hosts: list[str], hyperparameters: Mapping[str, str], instance_type: str
) -> list[HostTree]:
    """Create every host's tree and its input/config files; channels link to their local folders."""
    input_data_config = {
        name: {
            "TrainingInputMode": "File",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "None",
        }
        for name in plan.channels
    }
    trees = []
    for host in hosts:
        tree = HostTree(host, job_dir(plan) / HOSTS_DIR / host)
        folders = (names.CHANNELS_DIR, names.MODEL_DIR, names.OUTPUT_DATA_DIR, names.CHECKPOINTS_DIR)
        for folder in (Path(names.HYPERPARAMETERS_FILE).parent, *folders):
            (tree.base_dir / folder).mkdir(parents=True, exist_ok=True)
        for name, uri in plan.channels.items():
            _link_channel(tree.base_dir / names.CHANNELS_DIR / name, local_path(uri))
        resource_config = {
            "current_host": host,
            "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster",
            "hosts": hosts,
            "instance_groups": [
                {"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": hosts}
            ],
            "network_interface_name": "lo",
        }
        config_files: dict[str, Any] = {
            names.HYPERPARAMETERS_FILE: dict(hyperparameters),
            names.INPUT_DATA_CONFIG_FILE: input_data_config,
            names.RESOURCE_CONFIG_FILE: resource_config,
        }
        for path, content in config_files.items():
            (tree.base_dir / path).write_text(json.dumps(content, indent=2))
        trees.append(tree)
    return trees


def _link_channel(channel_dir: Path, source: Path) -> None:
    """SageMaker copies a channel into its folder; a link gives the same view without the copy."""
    if source.is_dir():
        if not channel_dir.is_symlink():
            channel_dir.symlink_to(source, target_is_directory=True)
        return
    channel_dir.mkdir(parents=True, exist_ok=True)
    link = channel_dir / source.name
    if not link.is_symlink():
        link.symlink_to(source)


def pack_artifacts(plan: JobPlan, first_host: HostTree) -> tuple[Path, Path]:
    """Write model.tar.gz and output.tar.gz from the first host's model and output data folders."""
    output = job_dir(plan) / OUTPUT_DIR
    output.mkdir(parents=True, exist_ok=True)
    archives = (output / MODEL_ARCHIVE, output / OUTPUT_ARCHIVE)
    for archive, folder in zip(archives, (first_host.model_dir, first_host.output_data_dir), strict=True):
        with tarfile.open(archive, "w:gz") as bundle:
            for path in sorted(folder.rglob("*")):
                bundle.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return archives


def keep_tensorboard(plan: JobPlan, first_host: HostTree) -> None:
    """Copy the first host's TensorBoard event files (rank 0 runs there) into the run's ``tensorboard/``,
    where SageMaker would sync them."""
    if first_host.tensorboard_dir.is_dir():
        shutil.copytree(first_host.tensorboard_dir, local_path(plan.tensorboard_uri), dirs_exist_ok=True)
