"""The network: a small convolutional classifier for 8x8 grey images.

Shipped twice: imported by the training job, and copied into the model's ``code/`` folder for
``inference.py``, so it depends on torch alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

IMAGE_SIZE = 8


class DigitsNet(nn.Module):
    """3x3 conv + ReLU + 2x2 max-pool blocks, then one hidden layer, dropout and the class logits."""

    def __init__(
        self, conv_channels: Sequence[int], hidden_units: int, dropout: float, num_classes: int
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        in_channels, size = 1, IMAGE_SIZE
        for out_channels in conv_channels:
            blocks += [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU()]
            # Pool while the map is at least 2x2; deeper blocks keep a 1x1 map.
            if size >= 2:
                blocks.append(nn.MaxPool2d(2))
                size //= 2
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * size * size, hidden_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_units, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes) for images (N, 1, 8, 8)."""
        return self.classifier(self.features(images))
