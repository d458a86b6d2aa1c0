"""Builds the network, optimizer and learning-rate schedule that the config describes."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import ConstantLR, CosineAnnealingLR, LRScheduler
from yacs.config import CfgNode

from .digits_net import DigitsNet

SGD_MOMENTUM = 0.9


def network_args(cfg: CfgNode) -> dict[str, Any]:
    """``DigitsNet``'s arguments as plain values, stored with the exported weights."""
    return {
        "conv_channels": list(cfg.MODEL.CONV_CHANNELS),
        "hidden_units": cfg.MODEL.HIDDEN_UNITS,
        "dropout": cfg.MODEL.DROPOUT,
        "num_classes": cfg.MODEL.NUM_CLASSES,
    }


def build_network(cfg: CfgNode) -> DigitsNet:
    """The network, freshly initialised from the current RNG state."""
    return DigitsNet(**network_args(cfg))


def build_optimizer(network: torch.nn.Module, cfg: CfgNode) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum, at SOLVER.BASE_LR."""
    solver = cfg.SOLVER
    if solver.OPTIMIZER == "adamw":
        return torch.optim.AdamW(network.parameters(), lr=solver.BASE_LR, weight_decay=solver.WEIGHT_DECAY)
    return torch.optim.SGD(
        network.parameters(),
        lr=solver.BASE_LR,
        momentum=SGD_MOMENTUM,
        nesterov=True,
        weight_decay=solver.WEIGHT_DECAY,
    )


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: CfgNode, steps_per_epoch: int) -> LRScheduler:
    """Stepped once per training step: cosine decay to zero over all epochs, or constant."""
    if cfg.SOLVER.LR_SCHEDULE == "cosine":
        return CosineAnnealingLR(optimizer, T_max=cfg.SOLVER.EPOCHS * steps_per_epoch)
    return ConstantLR(optimizer, factor=1.0, total_iters=0)
