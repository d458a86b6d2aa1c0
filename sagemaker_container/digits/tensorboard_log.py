"""TensorBoard event files of each epoch's metrics and learning rate, in SageMaker's TensorBoard folder.

SageMaker syncs ``/opt/ml/output/tensorboard`` (``paths.tensorboard_dir``) to the job's
TensorBoardOutputConfig as the job runs; a local run's launcher copies it into the run's folder. Only
global rank 0 writes, with the names of the ``[metric]`` lines and the epoch as the step. Without the
``tensorboard`` package the job trains all the same, and says once that the files are skipped.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LEARNING_RATE_TAG = "train:learning_rate"


class EpochBoard:
    """One scalar per metric per epoch; writes nothing without a folder or the tensorboard package."""

    def __init__(self, folder: Path | None, first_epoch: int = 1) -> None:
        """``first_epoch``: the next epoch to train; a resumed job's later epochs already in the
        folder (written before an interruption) are dropped, so each epoch shows once."""
        self._writer: Any = None
        if folder is None:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            logger.warning("TensorBoard files are skipped: %s; pip install tensorboard to write them.", error)
            return
        self._writer = SummaryWriter(str(folder), purge_step=first_epoch if first_epoch > 1 else None)

    def write(self, record: dict[str, float], learning_rate: float) -> None:
        """One epoch's record (its ``epoch`` key is the step) and the learning rate it ended with."""
        if self._writer is None:
            return
        epoch = int(record["epoch"])
        for name, value in record.items():
            if name != "epoch":
                self._writer.add_scalar(name, value, epoch)
        self._writer.add_scalar(LEARNING_RATE_TAG, learning_rate, epoch)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
