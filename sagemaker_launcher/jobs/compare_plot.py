"""``compare --plot``: every metric's curve, one panel per metric, one line per job, each line labelled
with the config keys that differ (matplotlib's Agg backend, so no display is needed)."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.compare import ComparedJob, differing_keys
from sagemaker_launcher.terminal_text import printable

# Differing keys named in a line's label; more are counted.
_LABEL_KEYS = 3
# SageMaker config sections that say where and how a job ran rather than what it trained.
_SETUP_SECTIONS = frozenset(
    {"SAGEMAKER", "NETWORK", "IMAGE", "S3", "INPUTS", "CHECKPOINT_SYNC", "TRAINING", "LOCAL"}
)
_PANEL_COLUMNS = 3
# What --plot writes, by the file's suffix.
PLOT_FORMATS = (".png", ".pdf", ".svg")


def line_label(job: ComparedJob, keys: Sequence[str]) -> str:
    """``NAME: SOLVER.BASE_LR=0.01``: the job and the differing keys that say most about it (training
    keys and hyperparameters before where and how it ran), the rest counted."""
    ranked = sorted(keys, key=lambda key: key.split(".", 1)[0] in _SETUP_SECTIONS)
    parts = [f"{_short(key)}={_value(job.values.get(key, '-'))}" for key in ranked[:_LABEL_KEYS]]
    if len(keys) > _LABEL_KEYS:
        parts.append(f"+{len(keys) - _LABEL_KEYS} more")
    return printable(f"{job.name}: {', '.join(parts)}" if parts else job.name)


def _short(key: str) -> str:
    return key if len(key) <= 24 else key.rsplit(".", 1)[-1]


def _value(value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else text[:21] + "..."


def plot(jobs: Sequence[ComparedJob], path: Path) -> list[str]:
    """Write the PNG; returns the metrics drawn. Raises ``LauncherError`` when no job has a curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    names = sorted({name for job in jobs for name in job.series.points})
    if not names:
        raise LauncherError(
            "None of these jobs has a metric curve to plot: no CloudWatch metrics or matching log lines "
            "(SageMaker jobs, through their METRICS definitions) and no metrics.json epochs (local runs). "
            "Leave out --plot, or check the METRICS regexes against the job's log."
        )
    keys = differing_keys(jobs)
    columns = min(_PANEL_COLUMNS, len(names))
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(5.2 * columns, 3.8 * rows + 0.25 * len(jobs)), squeeze=False
    )
    units = {job.series.x_unit for job in jobs if job.series.points}
    for index, name in enumerate(names):
        ax = axes[index // columns][index % columns]
        for colour, job in enumerate(jobs):
            points = job.series.points.get(name)
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", markersize=3, color=f"C{colour % 10}")
        ax.set_title(printable(name))
        ax.set_xlabel(" or ".join(sorted(units)))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
    for index in range(len(names), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    # One legend for all panels: a job keeps its colour in every panel.
    handles = [
        Line2D([], [], color=f"C{colour % 10}", marker="o", markersize=3) for colour in range(len(jobs))
    ]
    figure.legend(
        handles, [line_label(job, keys) for job in jobs], loc="lower center", fontsize="small", frameon=False
    )
    figure.tight_layout(rect=(0, _legend_height(len(jobs), rows), 1, 1))
    image = io.BytesIO()
    try:
        figure.savefig(image, format=path.suffix.lstrip(".").lower(), dpi=110)
    finally:
        plt.close(figure)
    # Written here, not by matplotlib, so that a full disk or a device such as /dev/full is an error.
    try:
        with path.open("wb") as handle:
            handle.write(image.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise LauncherError(
            f"Cannot write the plot to {path}: {error.strerror}. Choose another --plot path."
        ) from None
    return names


def _legend_height(lines: int, rows: int) -> float:
    """The share of the figure's height the legend below the panels takes."""
    legend_inches = 0.25 * lines + 0.1
    return legend_inches / (3.8 * rows + 0.25 * lines)
