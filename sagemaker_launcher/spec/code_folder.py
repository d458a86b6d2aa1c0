"""Which files of SAGEMAKER.SOURCE_DIR make the job's code archive, and the names they take in it.

Links are followed: a module a team links into its code folder (``common -> ../../shared``) arrives in
the job as the files it points at, since a link into the launching machine's disk means nothing on
SageMaker. A link that leads nowhere, or a folder that links back into itself, is refused by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sagemaker_launcher.errors import LauncherError

# Left out of the archive: caches and version control, never code the job needs.
SKIPPED_NAMES = frozenset({"__pycache__", ".git", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def code_files(source_dir: Path) -> Iterator[tuple[Path, str]]:
    """Each file to pack, with its name in the archive (relative to ``source_dir``), in sorted order."""
    for root, folders, names in os.walk(source_dir, followlinks=True):
        here = os.path.realpath(root)
        kept = []
        for folder in sorted(folders):
            if folder in SKIPPED_NAMES:
                continue
            path = Path(root, folder)
            real = os.path.realpath(path)
            if here == real or here.startswith(real.rstrip(os.sep) + os.sep):
                raise _refused(source_dir, path, f"links back to {real}, a folder that holds it")
            kept.append(folder)
        folders[:] = kept
        for name in sorted(names):
            if name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES):
                continue
            path = Path(root, name)
            if not path.exists():
                raise _refused(source_dir, path, f"is a link to {os.readlink(path)}, which does not exist")
            yield path, path.relative_to(source_dir).as_posix()


def _refused(source_dir: Path, path: Path, problem: str) -> LauncherError:
    return LauncherError(
        f"SAGEMAKER.SOURCE_DIR ({source_dir}): {path} {problem}. The job receives the files a link points "
        "at, so remove the link or point it at files that exist, then launch again."
    )
