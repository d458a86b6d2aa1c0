"""Write scikit-learn's 8x8 digits as the job's ``train`` and ``validation`` channel folders.

``python scripts/make_digits_data.py [OUT_DIR]`` (default ``data/digits``) writes
``OUT_DIR/train/digits.npz`` and ``OUT_DIR/validation/digits.npz``: arrays ``images`` float32
(N, 8, 8) in [0, 1] and ``labels`` int64. The split is stratified and fixed, and the files are
byte-for-byte the same on every run, so uploads can be skipped by checksum.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np

DEFAULT_OUT_DIR = Path("data/digits")
FILE_NAME = "digits.npz"
VALIDATION_FRACTION = 0.2
SPLIT_SEED = 0
# The digits' pixel values run from 0 to 16.
MAX_PIXEL = 16.0
# A fixed timestamp for every zip entry, so the bytes never depend on when the script ran.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def make_digits_data(out_dir: Path | str = DEFAULT_OUT_DIR) -> dict[str, Path]:
    """Write both splits and return each channel's file path, by channel name."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / MAX_PIXEL).astype(np.float32)
    labels = digits.target.astype(np.int64)
    train_images, validation_images, train_labels, validation_labels = train_test_split(
        images, labels, test_size=VALIDATION_FRACTION, stratify=labels, random_state=SPLIT_SEED
    )
    splits = {"train": (train_images, train_labels), "validation": (validation_images, validation_labels)}
    written = {}
    for channel, (split_images, split_labels) in splits.items():
        path = Path(out_dir) / channel / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_npz(path, {"images": split_images, "labels": split_labels})
        written[channel] = path
    return written


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez``, without the current time in the zip entries."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME), buffer.getvalue())


def main() -> None:
    """Command line: the output folder is the one optional argument."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "out_dir", nargs="?", type=Path, default=DEFAULT_OUT_DIR, help="Folder to write the channels into."
    )
    for channel, path in make_digits_data(parser.parse_args().out_dir).items():
        print(f"{channel}: {path}")


if __name__ == "__main__":
    main()
