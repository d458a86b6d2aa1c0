"""Host mode's counterpart of the container installing ``SOURCE_DIR/requirements.txt`` at job start.

The code's requirements go into a cached virtual environment of their own under
``LOCAL.REQUIREMENTS_CACHE_DIR``, keyed by the file, every file it names with ``-r``/``-c`` (read
relative to the file naming it, as pip reads them) and this interpreter. The launcher's own packages
stay visible inside it (as system site packages are), so what they already meet is not installed again,
and pip's own resolver installs the rest: nested files, constraints, ``-e ../pkg`` and relative paths
behave as pip reads them, and the job's processes run on that environment's interpreter. The
launcher's environment is never changed. When the launcher's environment already meets the whole file
(pip's dry run says so without asking any index), no environment is made at all.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import platform
import re
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from sagemaker_launcher.errors import LauncherError

REQUIREMENTS_FILE = "requirements.txt"
# Written last into a finished environment: its interpreter, or nothing when none was needed.
_COMPLETE_MARKER = ".complete"
_PIP_ERROR_LINES = 15
# "-r file", "--requirement=file", "-c file", "--constraint file": files pip reads too.
_NESTED = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(?P<path>\S+)")
# Launcher site folders a job's environment sees after its own (their .pth files processed too).
_SITE_HOOK = "launcher-site.pth"


def requirement_files(requirements: Path) -> list[Path]:
    """The file and every file it names with ``-r``/``-c``, recursively, each relative to its referrer."""
    found: list[Path] = []
    pending = [requirements.resolve()]
    while pending:
        path = pending.pop(0)
        if path in found:
            continue
        found.append(path)
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue  # pip names a missing file itself
        for line in lines:
            match = _NESTED.match(line)
            if match and "://" not in match["path"]:
                pending.append((path.parent / match["path"]).resolve())
    return found


def environment_key(requirements: Path) -> str:
    """What the environment depends on: the files' contents and this interpreter."""
    digest = hashlib.sha256()
    for path in requirement_files(requirements):
        digest.update(str(path).encode())
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    digest.update(f"{sys.version}\n{platform.machine()}\n{sys.prefix}\n{sys.executable}".encode())
    return digest.hexdigest()[:24]


def prepare_environment(source_dir: Path, cache_dir: Path, echo: Callable[[str], None]) -> Path | None:
    """The interpreter that runs the job with ``source_dir``'s requirements met; None: the launcher's own.

    Says in one line what it did: nothing needed, a cached environment reused, or one made.
    """
    requirements = (source_dir / REQUIREMENTS_FILE).resolve()
    if not requirements.is_file():
        return None
    folder = cache_dir.expanduser().resolve() / environment_key(requirements)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.with_suffix(".lock")):
        marker = folder / _COMPLETE_MARKER
        if marker.is_file():
            python = marker.read_text().strip()
            echo(
                f"{requirements}: " + (f"using the cached environment {folder}" if python else "already met")
            )
            return Path(python) if python else None
        shutil.rmtree(folder, ignore_errors=True)
        if _already_met(requirements):
            echo(f"{requirements}: already met by the launcher's environment, nothing to install.")
            folder.mkdir()
            marker.write_text("")
            return None
        echo(f"{requirements}: installing into {folder} (once; later runs with the same files reuse it)")
        python = _make_environment(folder)
        _pip(python, ["install", "--no-warn-script-location", "-r", str(requirements)], requirements)
        marker.write_text(str(python))
        return python


def _already_met(requirements: Path) -> bool:
    """Whether pip, resolving the file against the launcher's environment alone, would install nothing."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch, "report.json")
        done = subprocess.run(
            [
                sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
                "--disable-pip-version-check", "--report", str(report), "-r", str(requirements),
            ],
            cwd=requirements.parent, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not report.is_file():
            return False
        return not json.loads(report.read_text()).get("install")


def _make_environment(folder: Path) -> Path:
    """A virtual environment without pip of its own, seeing the launcher's site folders after its own."""
    done = subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise LauncherError(
            f"Making the virtual environment {folder} for this local run failed: {done.stderr}"
        )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    sites = [path for path in site.getsitepackages() if Path(path).is_dir()]
    hook = "import site; " + "; ".join(f"site.addsitedir({path!r})" for path in sites)
    Path(purelib, _SITE_HOOK).write_text(hook + "\n")
    return python


def _pip(python: Path, arguments: list[str], requirements: Path) -> None:
    """pip (the launcher's, run by the job's interpreter) from the file's folder, as the container runs it."""
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *arguments],
        cwd=requirements.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-_PIP_ERROR_LINES:])
        raise LauncherError(
            f"Installing {requirements} for this local run failed (pip exited {done.returncode}); the "
            "launcher's own environment is unchanged. Fix the file or the network and run again. pip "
            f"said:\n{tail}"
        )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One run at a time makes a given environment; the others wait, then reuse it."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def interpreter_path(python: Path | None) -> Path:
    """The interpreter a job runs on: its environment's, else the launcher's own."""
    return python or Path(sys.executable)
