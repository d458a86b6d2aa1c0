"""Host mode's counterpart of the container installing ``SOURCE_DIR/requirements.txt`` at job start.

Requirements the launcher's own environment already meets need nothing and no network. The others
are installed once with pip into a folder of ``LOCAL.REQUIREMENTS_CACHE_DIR`` named by the file's
content and this Python; the job's processes get that folder first on ``PYTHONPATH``, and the
launcher's own environment is never changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from sagemaker_launcher.errors import LauncherError

REQUIREMENTS_FILE = "requirements.txt"
# Written last into a finished install, so a cut-short one is never reused.
_COMPLETE_MARKER = ".complete"
_PIP_ERROR_LINES = 15
# Rounds of "install, then add the dependencies still missing" before giving up.
_DEPENDENCY_ROUNDS = 5
_REQUIREMENTS_ROUND_FILE = ".requirements-round.txt"


def unmet_requirements(text: str, extra_paths: Sequence[Path] = ()) -> list[str]:
    """The requirement lines this environment (plus ``extra_paths``) does not satisfy.

    Lines it cannot judge (paths, URLs) count as unmet; options (``--find-links``, ``-r``, ...) are
    left to pip; a requirement with extras is judged by its base package alone.
    """
    unmet = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            unmet.append(line)
            continue
        if not _applies(requirement):
            continue
        if requirement.url or not _installed(requirement, extra_paths):
            unmet.append(line)
    return unmet


def _applies(requirement: Requirement) -> bool:
    """Whether the requirement's environment marker holds here (a dependency's extras never do)."""
    return requirement.marker is None or requirement.marker.evaluate({"extra": ""})


def _installed(requirement: Requirement, extra_paths: Sequence[Path]) -> bool:
    search = [*map(str, extra_paths), *sys.path]
    for distribution in importlib.metadata.distributions(name=requirement.name, path=search):
        return requirement.specifier.contains(distribution.version, prereleases=True)
    return False


def _options(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("-")]


def _missing_dependencies(folder: Path) -> list[str]:
    """Requirements of the packages installed in ``folder`` that neither it nor this environment meets."""
    missing = []
    for distribution in importlib.metadata.distributions(path=[str(folder)]):
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if _applies(requirement) and not _installed(requirement, [folder]):
                missing.append(str(requirement))
    return sorted(set(missing))


def prepare_requirements(source_dir: Path, cache_dir: Path, echo: Callable[[str], None]) -> Path | None:
    """Make ``source_dir``'s requirements importable for the job; the folder to put on PYTHONPATH, if any.

    Says in one line what it did: nothing needed, a cached install reused, or an install made.
    """
    requirements = source_dir / REQUIREMENTS_FILE
    if not requirements.is_file():
        return None
    text = requirements.read_text(encoding="utf-8", errors="replace")
    unmet = unmet_requirements(text)
    if not unmet:
        echo(f"{requirements}: already met by the launcher's environment, nothing to install.")
        return None
    identity = f"{text}\n{sys.version}\n{platform.machine()}\n{sys.prefix}"
    target = cache_dir.expanduser().resolve() / hashlib.sha256(identity.encode()).hexdigest()[:24]
    if (target / _COMPLETE_MARKER).is_file():
        echo(f"{requirements}: using the cached install of {', '.join(unmet)} in {target}")
        return target
    echo(f"{requirements}: installing {', '.join(unmet)} into {target} (once; later runs reuse it)")
    _install(requirements, unmet, target)
    return target


def _install(requirements: Path, unmet: list[str], target: Path) -> None:
    """Install ``unmet`` and then only the dependencies still missing, into a folder moved into place whole.

    pip's ``--target`` would reinstall everything a package depends on, this environment's torch
    included, so each round installs without dependencies and the next round adds what is missing.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    options = _options(requirements.read_text(encoding="utf-8", errors="replace"))
    try:
        pending = unmet
        for _ in range(_DEPENDENCY_ROUNDS):
            _pip_install(requirements, [*options, *pending], partial)
            pending = _missing_dependencies(partial)
            if not pending:
                break
        else:
            raise LauncherError(
                f"Installing {requirements} for this local run did not settle: still missing "
                f"{', '.join(pending)} after {_DEPENDENCY_ROUNDS} rounds of pip."
            )
        (partial / _COMPLETE_MARKER).write_text("")
        if target.exists() and not (target / _COMPLETE_MARKER).is_file():
            shutil.rmtree(target)
        try:
            os.replace(partial, target)
        except OSError:
            # Another run finished the same install first; its copy is as good as ours.
            if not (target / _COMPLETE_MARKER).is_file():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _pip_install(requirements: Path, lines: list[str], folder: Path) -> None:
    """One ``pip install --no-deps --target`` of ``lines``, run beside the file as the container runs it."""
    listing = folder / _REQUIREMENTS_ROUND_FILE
    listing.write_text("\n".join(lines) + "\n")
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-warn-script-location", "--no-deps", "--upgrade", "--target", str(folder), "-r", str(listing),
    ]
    done = subprocess.run(command, cwd=requirements.parent, capture_output=True, text=True, check=False)
    listing.unlink()
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-_PIP_ERROR_LINES:])
        raise LauncherError(
            f"Installing {requirements} for this local run failed (pip exited {done.returncode}); the "
            f"launcher's own environment is unchanged. Fix the file or the network and run again. "
            f"pip said:\n{tail}"
        )
