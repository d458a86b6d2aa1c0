"""The data channels: each split's ``.npz`` file as a Dataset, and the job's DataLoaders.

The training order is a function of (SEED, epoch) alone, sharded per rank like DistributedSampler,
so a resumed run replays the interrupted epoch's order and skips the samples it already trained on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler, TensorDataset

from . import paths
from .digits_net import IMAGE_SIZE
from .job_errors import DataError


def load_split(channel: str, file_name: str, num_classes: int) -> TensorDataset:
    """A channel's images (N, 1, 8, 8) float32 and labels (N,) int64, checked for shape and range."""
    path = paths.channel_dir(channel) / file_name
    if not path.is_file():
        raise DataError(
            f"Channel '{channel}' has no {file_name} (looked for {path}). "
            "Write the digits data with scripts/make_digits_data.py, or set DATA.FILE_NAME."
        )
    images, labels = _read_arrays(path)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE) or len(images) != len(labels):
        raise DataError(
            f"{path}: expected images (N, {IMAGE_SIZE}, {IMAGE_SIZE}) and labels (N,), "
            f"got {images.shape} and {labels.shape}."
        )
    if len(labels) == 0 or labels.min() < 0 or labels.max() >= num_classes:
        raise DataError(f"{path}: labels must be 0 to {num_classes - 1} (MODEL.NUM_CLASSES) and not empty.")
    return TensorDataset(
        torch.from_numpy(images.astype(np.float32)).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))
    )


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return arrays["images"], arrays["labels"]
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{path} is not a .npz file with arrays 'images' and 'labels': {error}") from None


class ResumableSampler(Sampler[int]):
    """This rank's shard of an epoch's shuffled order, starting after ``skip`` samples."""

    def __init__(self, dataset: TensorDataset, rank: int, world_size: int, seed: int) -> None:
        self._shard = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        self._skip = 0

    def set_position(self, epoch: int, skip: int) -> None:
        """Replay ``epoch``'s order from its ``skip``-th sample on."""
        self._shard.set_epoch(epoch)
        self._skip = skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(iter(self._shard), self._skip, None)

    def __len__(self) -> int:
        return len(self._shard) - self._skip


def train_loader(
    dataset: TensorDataset,
    batch_size: int,
    rank: int,
    world_size: int,
    seed: int,
    num_workers: int,
    pin_memory: bool,
) -> DataLoader:
    """Shuffled, sharded batches; position each epoch with ``start_epoch``."""
    sampler = ResumableSampler(dataset, rank, world_size, seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        pin_memory=pin_memory,
        generator=torch.Generator(),
    )


def start_epoch(loader: DataLoader, seed: int, epoch: int, skip_batches: int) -> None:
    """Set the loader to ``epoch``'s order after ``skip_batches`` batches.

    Its generator (worker seeds) is reseeded from (seed, epoch) so iterating never draws on the
    global RNG, which a checkpoint restores for dropout.
    """
    loader.sampler.set_position(epoch, skip_batches * loader.batch_size)
    loader.generator.manual_seed(seed + epoch)


def validation_loader(
    dataset: TensorDataset, batch_size: int, rank: int, world_size: int, num_workers: int, pin_memory: bool
) -> DataLoader:
    """Every ``world_size``-th sample from ``rank`` on, in order, so ranks split the set without padding."""
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=range(rank, len(dataset), world_size),
        num_workers=num_workers,
        pin_memory=pin_memory,
        generator=torch.Generator(),
    )
