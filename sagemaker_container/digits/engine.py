"""The steps the job repeats: one (possibly resumed) training epoch, and one validation pass.

The forward pass runs under autocast in the dtype the job's precision names (none: float32); the
gradient scaler is on only for float16 (see precision.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader


@dataclass
class EpochProgress:
    """The epoch in flight: steps done, and this process's summed loss and sample count so far."""

    steps: int = 0
    loss_sum: float = 0.0
    samples: int = 0


def train_epoch(
    model: torch.nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    progress: EpochProgress,
    should_stop: Callable[[], bool],
    autocast_dtype: torch.dtype | None = None,
) -> bool:
    """Train on the loader's batches, updating ``progress``; False when ``should_stop`` cut it short.

    ``should_stop`` is asked before each step, so a stop lands between whole steps. The forward
    pass runs under autocast in ``autocast_dtype``, in float32 when it is None.
    """
    model.train()
    device = next(model.parameters()).device
    # Summed on the device, so the step never waits for the GPU; seeded with the saved sum so a
    # resumed epoch adds in the same order as an uninterrupted one.
    loss_sum = torch.tensor(progress.loss_sum, dtype=torch.float64, device=device)
    finished = True
    for images, labels in loader:
        if should_stop():
            finished = False
            break
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        loss_sum += loss.detach().double() * len(labels)
        progress.steps += 1
        progress.samples += len(labels)
    progress.loss_sum = loss_sum.item()
    return finished


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader: DataLoader, autocast_dtype: torch.dtype | None) -> list[float]:
    """This process's summed loss, correct predictions and sample count over ``loader``."""
    model.eval()
    device = next(model.parameters()).device
    totals = torch.zeros(3, dtype=torch.float64, device=device)
    for images, labels in loader:
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            logits = model(images)
        loss = F.cross_entropy(logits.float(), labels, reduction="sum")
        correct = (logits.argmax(dim=1) == labels).sum()
        totals += torch.stack(
            [loss.double(), correct.double(), torch.tensor(len(labels), device=device).double()]
        )
    return totals.tolist()
