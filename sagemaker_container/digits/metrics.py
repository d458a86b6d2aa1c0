"""Metric reporting: one ``[metric] <name>=<value> epoch=<n>`` line per metric, and metrics.json.

The launcher's SageMaker MetricDefinitions (``METRICS`` in sagemaker_default_config.py) match these
lines, so the format is a contract: six decimals, epochs counted from 1.
"""

from __future__ import annotations

import json
from pathlib import Path

from sagemaker_contract.names import METRICS_FILE


def metric_line(name: str, value: float, epoch: int) -> str:
    """E.g. ``[metric] validation:accuracy=0.971234 epoch=3``."""
    return f"[metric] {name}={value:.6f} epoch={epoch}"


def print_epoch(record: dict[str, float]) -> None:
    """Print every metric of one epoch's record (its ``epoch`` key gives the epoch)."""
    epoch = int(record["epoch"])
    for name, value in record.items():
        if name != "epoch":
            print(metric_line(name, value, epoch), flush=True)


def write_metrics(history: list[dict[str, float]], folder: Path) -> Path:
    """``metrics.json``: ``final`` (the last epoch's record) and ``epochs`` (every record)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METRICS_FILE
    path.write_text(json.dumps({"final": history[-1], "epochs": history}, indent=2) + "\n")
    return path
