"""The job's processes, the device each one trains on, and the collectives between them.

A process started by torchrun (SageMaker's per-GPU launch, or host mode's copy of it) finds its
place in RANK, LOCAL_RANK, WORLD_SIZE and LOCAL_WORLD_SIZE, and the rendezvous in MASTER_ADDR and
MASTER_PORT. One started without them (the toolkit's plain runner, or by hand) is one process per
host, ranked by its host's index in resourceconfig.json. A world of one makes no process group and
every collective is a local no-op, so the job's code reads the same at any size.

Device rule: every rank trains on ``cuda:LOCAL_RANK`` when every rank has a GPU of its own. When
some rank has none, or two ranks would share one (two hosts rehearsed on one GPU, which NCCL
refuses as "Duplicate GPU detected"), every rank trains on the CPU over gloo, and the log says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from sagemaker_contract import names

from . import paths

SINGLE_HOST = "algo-1"
# The rendezvous port when MASTER_PORT is unset (a multi-host job started without torchrun).
DEFAULT_MASTER_PORT = 29500
# NCCL moves CUDA tensors, gloo CPU ones (object collectives and the barrier go over gloo too).
GPU_BACKENDS = "cpu:gloo,cuda:nccl"
CPU_BACKEND = "gloo"


@dataclass(frozen=True)
class World:
    """Every process of the job, and this one's place among them."""

    # The hosts in rank order (sorted, as SageMaker lists them).
    hosts: tuple[str, ...]
    current_host: str
    rank: int
    local_rank: int
    size: int
    # Processes on each host.
    local_size: int

    @property
    def host_count(self) -> int:
        """Hosts taking part: torchrun starts the same number of processes on each."""
        return self.size // self.local_size


def read_world() -> World:
    """This process's world, from torchrun's variables or else from ``resourceconfig.json``."""
    config = paths.read_json(paths.resource_config_file())
    hosts = tuple(sorted(config.get("hosts", [SINGLE_HOST])))
    current_host = config.get("current_host", hosts[0])
    if current_host not in hosts:
        raise RuntimeError(f"resourceconfig.json: current_host {current_host!r} is not among hosts {hosts}.")
    if names.RANK_ENV not in os.environ:
        return World(hosts, current_host, hosts.index(current_host), 0, len(hosts), 1)
    return World(
        hosts,
        current_host,
        rank=int(os.environ[names.RANK_ENV]),
        local_rank=int(os.environ.get(names.LOCAL_RANK_ENV, "0")),
        size=int(os.environ[names.WORLD_SIZE_ENV]),
        local_size=int(os.environ.get(names.LOCAL_WORLD_SIZE_ENV, "1")),
    )


@dataclass(frozen=True)
class Cluster:
    """The world joined up: this process's device, and collectives over every process."""

    world: World
    device: torch.device
    # Why the job trains on the CPU although a GPU is visible; None otherwise.
    cpu_reason: str | None = None

    @property
    def rank(self) -> int:
        """This process's global rank."""
        return self.world.rank

    @property
    def world_size(self) -> int:
        """Number of processes in the job."""
        return self.world.size

    @property
    def current_host(self) -> str:
        """The host this process runs on."""
        return self.world.current_host

    @property
    def is_main(self) -> bool:
        """Global rank 0: the only process that writes model, metrics and checkpoints."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        """More than one process."""
        return self.world_size > 1

    def describe(self) -> str:
        """E.g. ``world size 4: 2 hosts x 2 processes, device cpu``."""
        world = self.world
        hosts = f"{world.host_count} host{'s' if world.host_count != 1 else ''}"
        processes = f"{world.local_size} process{'es' if world.local_size != 1 else ''}"
        return f"world size {world.size}: {hosts} x {processes}, device {self.device.type}"

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over processes."""
        if not self.is_distributed:
            return values
        total = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return total.tolist()

    def gather(self, value: Any) -> list[Any]:
        """Every process's ``value``, in rank order (picklable values only)."""
        if not self.is_distributed:
            return [value]
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, value)
        return gathered

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every process."""
        if not self.is_distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        """Wait until every process gets here."""
        if self.is_distributed:
            dist.barrier()


class StopVote:
    """The ranks agreeing to stop between two steps, without making any step wait for the vote.

    Each call sends this rank's flag to the others in the background (a CPU tensor, over gloo, so
    no GPU sync either) and returns the outcome of the previous call's vote: every rank stops at
    the same step, one step after the first rank saw the flag.
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._flag = torch.zeros(1, dtype=torch.int32)
        self._work: dist.Work | None = None

    def __call__(self, requested: bool) -> bool:
        """Whether every rank stops now; a single process answers ``requested`` itself."""
        if not self.cluster.is_distributed:
            return requested
        stop = self.settle()
        if not stop:
            self._flag.fill_(int(requested))
            self._work = dist.all_reduce(self._flag, op=dist.ReduceOp.MAX, async_op=True)
        return stop

    def settle(self) -> bool:
        """Wait for the vote in flight, if any; whether it said stop."""
        if self._work is None:
            return False
        self._work.wait()
        self._work = None
        return bool(self._flag.item())


def start(world: World) -> Cluster:
    """Join the process group (none for a world of one) and settle every rank's device together."""
    if world.size > 1:
        address = os.environ.get(names.MASTER_ADDR_ENV) or world.hosts[0]
        port = int(os.environ.get(names.MASTER_PORT_ENV) or DEFAULT_MASTER_PORT)
        dist.init_process_group(
            backend=GPU_BACKENDS if torch.cuda.is_available() else CPU_BACKEND,
            init_method=f"tcp://{address}:{port}",
            rank=world.rank,
            world_size=world.size,
        )
    claim = _own_gpu(world)
    claims = [claim] if world.size == 1 else Cluster(world, torch.device("cpu")).gather(claim)
    reason = gpu_sharing_problem(claims)
    if reason is not None or claim is None:
        return Cluster(world, torch.device("cpu"), reason)
    device = torch.device("cuda", world.local_rank)
    torch.cuda.set_device(device)
    return Cluster(world, device)


def _own_gpu(world: World) -> dict[str, Any] | None:
    """The GPU this rank would take, ``cuda:LOCAL_RANK``, as host and UUID; None when there is none."""
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if world.local_rank >= visible:
        return None if visible == 0 else {"host": world.current_host, "uuid": None, "visible": visible}
    uuid = str(torch.cuda.get_device_properties(world.local_rank).uuid)
    return {"host": world.current_host, "uuid": uuid, "visible": visible}


def gpu_sharing_problem(claims: list[dict[str, Any] | None]) -> str | None:
    """Why the ranks cannot each have a GPU of their own, or None when they can (or none has one)."""
    if not any(claims):
        return None
    for rank, claim in enumerate(claims):
        if claim is None or claim["uuid"] is None:
            seen = f"{claim['visible']} GPU(s) visible on {claim['host']}" if claim else "no GPU"
            return f"rank {rank} has no GPU of its own ({seen})"
    owners: dict[str, int] = {}
    for rank, claim in enumerate(claims):
        first = owners.get(claim["uuid"])
        if first is not None:
            return f"ranks {first} and {rank} would share GPU {claim['uuid']} on {claim['host']}"
        owners[claim["uuid"]] = rank
    return None


def data_parallel(network: torch.nn.Module, cluster: Cluster, example: torch.Tensor) -> torch.nn.Module:
    """``network`` under DistributedDataParallel with its gradient buckets settled; itself for one process.

    DDP lays its buckets out again after its first backward pass, in the order gradients arrived.
    A run resumed mid-training would sum its first step's gradients in the first layout where the
    uninterrupted run used the second, and on three ranks or more that changes the bits. So one
    throwaway backward pass on ``example`` (in eval mode: no dropout, no RNG drawn) runs first, in
    every run, and every real step uses the settled layout.
    """
    if not cluster.is_distributed:
        return network
    use_cuda = cluster.device.type == "cuda"
    model = DistributedDataParallel(network, device_ids=[cluster.device] if use_cuda else None)
    model.eval()
    model(example.to(cluster.device)).sum().backward()
    model.zero_grad(set_to_none=True)
    return model


def stop(cluster: Cluster) -> None:
    """Leave the process group."""
    if cluster.is_distributed and dist.is_initialized():
        dist.destroy_process_group()
