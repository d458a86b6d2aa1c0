"""How many training processes each host runs (``SAGEMAKER.PROCESSES_PER_HOST``), told the image's way.

The AWS PyTorch image's toolkit (sagemaker-pytorch-training) starts the entry point through
sagemaker-training's torchrun runner when the hyperparameter ``sagemaker_torch_distributed_enabled``
is true: ``torchrun --nnodes HOSTS --nproc_per_node P [--master_addr FIRST_HOST --master_port 7777
--node_rank INDEX] ENTRY_POINT ARGS``, where P is the hyperparameter
``sagemaker_mpi_num_of_processes_per_host`` when set, else the GPUs ``nvidia-smi`` lists, else 1.
Without the switch it runs the entry point once per host. Host mode reads the same hyperparameters
back from the toolkit's own environment and starts the same processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.names import (
    PROCESSES_PER_HOST_HYPERPARAMETER,
    TORCH_DISTRIBUTED_HYPERPARAMETER,
)
from sagemaker_launcher.config.training_defaults import uses_example_defaults


def distribution_hyperparameters(sagemaker: CfgNode) -> dict[str, Any]:
    """The hyperparameters that start the job's processes per host; none for one process per host.

    The example's main.py always runs under torchrun (one process per GPU unless the key forces a
    number); another script only when the key names a number, since scripts such as AWS's MNIST
    example take their rank from SM_HOSTS and would all be rank 0 under torchrun.
    """
    count = sagemaker.SAGEMAKER.PROCESSES_PER_HOST
    if not count and not uses_example_defaults(sagemaker):
        return {}
    values: dict[str, Any] = {TORCH_DISTRIBUTED_HYPERPARAMETER: True}
    if count:
        values[PROCESSES_PER_HOST_HYPERPARAMETER] = count
    return values


def processes_per_host(framework_parameters: Mapping[str, Any], gpus: int) -> int | None:
    """torchrun's ``--nproc_per_node`` as the toolkit picks it, or None when it runs the script once.

    ``framework_parameters`` are the job's ``sagemaker_*`` hyperparameters (SM_FRAMEWORK_PARAMS),
    ``gpus`` the host's GPU count (SM_NUM_GPUS).
    """
    if not framework_parameters.get(TORCH_DISTRIBUTED_HYPERPARAMETER):
        return None
    return int(framework_parameters.get(PROCESSES_PER_HOST_HYPERPARAMETER) or gpus or 1)
