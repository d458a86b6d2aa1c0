"""The numeric precision of the forward pass: ``SOLVER.PRECISION`` applied to the device the job got.

``auto`` takes bfloat16 autocast on GPUs that compute it natively (compute capability 8.0, Ampere,
and later), float16 autocast with a gradient scaler on older GPUs, and plain float32 on the CPU.
A named precision is used as given on any device (CPU autocast runs bf16 and fp16 too, slowly),
except bf16 on a GPU without native support, which is refused at start.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .job_errors import ConfigError

# Compute capability from which a GPU runs bfloat16 natively (Ampere).
BF16_MIN_CAPABILITY = 8
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


@dataclass(frozen=True)
class Precision:
    """What the training step runs under: an autocast dtype (None: float32) and whether fp16's scaler."""

    name: str
    setting: str

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """The autocast dtype, None for plain float32."""
        return _DTYPES[self.name]

    @property
    def uses_scaler(self) -> bool:
        """float16 needs loss scaling against gradient underflow; bfloat16 has float32's range."""
        return self.name == "fp16"

    def describe(self) -> str:
        """E.g. ``bf16 (auto)`` or ``fp16 (SOLVER.PRECISION)``."""
        return f"{self.name} ({'auto' if self.setting == 'auto' else 'SOLVER.PRECISION'})"


def choose(setting: str, device: torch.device) -> Precision:
    """The precision for ``setting`` (auto, bf16, fp16 or fp32) on ``device``."""
    native_bf16 = device.type == "cuda" and torch.cuda.get_device_capability(device)[0] >= BF16_MIN_CAPABILITY
    if setting == "auto":
        if device.type != "cuda":
            return Precision("fp32", setting)
        return Precision("bf16" if native_bf16 else "fp16", setting)
    if setting == "bf16" and device.type == "cuda" and not native_bf16:
        raise ConfigError(
            f"SOLVER.PRECISION bf16 needs a GPU of compute capability {BF16_MIN_CAPABILITY}.0 or later "
            f"(Ampere), and {torch.cuda.get_device_name(device)} is "
            f"{'.'.join(map(str, torch.cuda.get_device_capability(device)))}: use auto (fp16 with loss "
            "scaling there) or fp32."
        )
    return Precision(setting, setting)
