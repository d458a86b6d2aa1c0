"""Checkpoint files: atomic writes, keeping the last few, and finding the newest one that loads.

A file is written under a temporary name in the same folder, fsynced, then renamed over its final
name, so a crash mid-write never leaves a file the next start trusts; a file that still fails to
load (cut short by a full disk or a partial S3 sync) is skipped in favour of the one before it.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger(__name__)

_NAME = re.compile(r"checkpoint-e(\d+)-s(\d+)\.pt")
_TEMP_PREFIX = ".tmp-checkpoint-"


def checkpoint_name(epoch: int, step: int) -> str:
    """File name of the state after ``epoch`` whole epochs and ``step`` steps of the next."""
    return f"checkpoint-e{epoch:04d}-s{step:06d}.pt"


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoint files in ``folder``, oldest first."""
    if not folder.exists():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.fullmatch(path.name)
        if match:
            found.append(((int(match[1]), int(match[2])), path))
    return [path for _, path in sorted(found)]


def save(state: dict[str, Any], folder: Path, epoch: int, step: int, keep_last: int) -> Path:
    """Write ``state`` atomically, then delete all but the ``keep_last`` newest checkpoints."""
    return _write(_serialize(state), folder, epoch, step, keep_last)


class BackgroundWriter:
    """Saves checkpoints on one worker thread, so training does not wait for the disk.

    The state is serialized on the caller's thread (a consistent snapshot); writing, fsync,
    rename and pruning happen on the worker, one checkpoint at a time. ``wait`` re-raises a
    failed write, so an error is never lost.
    """

    def __init__(self, folder: Path, keep_last: int) -> None:
        self.folder = folder
        self.keep_last = keep_last
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint-writer")
        self._pending: Future[Path] | None = None

    def submit(self, state: dict[str, Any], epoch: int, step: int) -> Path:
        """Snapshot ``state`` now and write it in the background; returns the file it becomes."""
        payload = _serialize(state)
        self.wait()
        self._pending = self._pool.submit(_write, payload, self.folder, epoch, step, self.keep_last)
        return self.folder / checkpoint_name(epoch, step)

    def wait(self) -> None:
        """Block until the last submitted checkpoint is on disk."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()


def _serialize(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _write(payload: bytes, folder: Path, epoch: int, step: int, keep_last: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / checkpoint_name(epoch, step)
    handle, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    _prune(folder, keep_last)
    return target


def load_newest(folder: Path, required_keys: Collection[str]) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that loads and has ``required_keys``, or None when there is none."""
    for path in reversed(list_checkpoints(folder)):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            missing = set(required_keys) - set(state)
            if missing:
                raise ValueError(f"it lacks {sorted(missing)}")
        except Exception as error:
            logger.warning("Skipping checkpoint %s, it does not load (%s); trying an older one.", path, error)
            continue
        return path, state
    return None


def _prune(folder: Path, keep_last: int) -> None:
    for path in list_checkpoints(folder)[:-keep_last]:
        path.unlink()
    # Only one process writes here, so any temporary file left is from a crashed earlier write.
    for path in folder.glob(_TEMP_PREFIX + "*"):
        path.unlink(missing_ok=True)


def _fsync_folder(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
