"""scripts/make_digits_data.py: the channel files' arrays, split and byte-for-byte determinism."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from support.container import REPO, write_digits_data


def test_writes_a_stratified_deterministic_split(tmp_path: Path) -> None:
    first = write_digits_data(tmp_path / "first")
    completed = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_digits_data.py"), str(tmp_path / "second")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    counts = {}
    for channel in ("train", "validation"):
        path = first / channel / "digits.npz"
        assert path.read_bytes() == (tmp_path / "second" / channel / "digits.npz").read_bytes()
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays["images"], arrays["labels"]
        assert images.dtype == np.float32 and images.shape[1:] == (8, 8)
        assert labels.dtype == np.int64 and labels.shape == (len(images),)
        assert images.min() == 0.0 and images.max() == 1.0
        counts[channel] = np.bincount(labels, minlength=10)
    assert counts["train"].sum() + counts["validation"].sum() == 1797
    assert counts["validation"].sum() == 360
    # Stratified: every class keeps about a fifth of its samples for validation.
    share = counts["validation"] / (counts["train"] + counts["validation"])
    assert np.all(np.abs(share - 0.2) < 0.01)
