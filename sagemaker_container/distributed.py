"""The job's hosts and the collectives between them: one process per host, rank = host's index.

A single host makes no process group and every collective is a local no-op, so the job's code reads
the same for one host or many.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

import paths

SINGLE_HOST = "algo-1"


@dataclass(frozen=True)
class Cluster:
    """The hosts in rank order (sorted, as SageMaker lists them) and this host's place among them."""

    hosts: tuple[str, ...]
    current_host: str
    device: torch.device

    @property
    def rank(self) -> int:
        """This host's index in ``hosts``."""
        return self.hosts.index(self.current_host)

    @property
    def world_size(self) -> int:
        """Number of hosts."""
        return len(self.hosts)

    @property
    def is_main(self) -> bool:
        """The first host: the rendezvous, and the only one that writes outputs."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        """More than one host."""
        return self.world_size > 1

    def any(self, flag: bool) -> bool:
        """True on every host when ``flag`` is true on any."""
        if not self.is_distributed:
            return flag
        value = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over hosts."""
        if not self.is_distributed:
            return values
        total = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.tolist()

    def gather(self, value: Any) -> list[Any]:
        """Every host's ``value``, in rank order (picklable values only)."""
        if not self.is_distributed:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def broadcast(self, value: Any) -> Any:
        """The first host's ``value`` on every host."""
        if not self.is_distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        """Wait until every host gets here."""
        if self.is_distributed:
            dist.barrier()


def read_cluster(device: torch.device) -> Cluster:
    """The hosts from ``resourceconfig.json``; without one, a single host."""
    config = paths.read_json(paths.resource_config_file())
    hosts = tuple(sorted(config.get("hosts", [SINGLE_HOST])))
    current_host = config.get("current_host", hosts[0])
    if current_host not in hosts:
        raise RuntimeError(f"resourceconfig.json: current_host {current_host!r} is not among hosts {hosts}.")
    return Cluster(hosts, current_host, device)


def start(cluster: Cluster) -> None:
    """Join the process group at the first host (gloo on CPU, NCCL on GPU); nothing for one host."""
    if not cluster.is_distributed:
        return
    if cluster.device.type == "cuda":
        torch.cuda.set_device(cluster.device)
    address = os.environ.get(paths.MASTER_ADDR_ENV) or cluster.hosts[0]
    port = int(os.environ.get(paths.MASTER_PORT_ENV) or paths.DEFAULT_MASTER_PORT)
    dist.init_process_group(
        backend="nccl" if cluster.device.type == "cuda" else "gloo",
        init_method=f"tcp://{address}:{port}",
        rank=cluster.rank,
        world_size=cluster.world_size,
    )


def stop(cluster: Cluster) -> None:
    """Leave the process group."""
    if cluster.is_distributed and dist.is_initialized():
        dist.destroy_process_group()
