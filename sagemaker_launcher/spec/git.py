"""The checkout a launch runs from: commit, branch and uncommitted changes, read with ``git``."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    """The checkout the launch came from; an empty one outside a repository."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool = False
    # ``git diff HEAD`` as it is: it may hold secrets, so a record keeps only its redacted form.
    diff: str = ""
    changed: tuple[str, ...] = field(default_factory=tuple)
    untracked: tuple[str, ...] = field(default_factory=tuple)


def git_state(directory: Path | None = None) -> GitState:
    """Read commit, branch and uncommitted changes of the repository around ``directory``."""
    cwd = directory or Path.cwd()

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, errors="replace", check=False
            )
        except FileNotFoundError:
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return GitState()
    diff = git("diff", "HEAD", "--no-color") or ""
    untracked = _names(git("ls-files", "-z", "--others", "--exclude-standard"))
    return GitState(
        commit=commit.strip(),
        branch=(git("rev-parse", "--abbrev-ref", "HEAD") or "").strip() or None,
        dirty=bool(diff or untracked),
        diff=diff,
        changed=_names(git("diff", "HEAD", "-z", "--name-only")),
        untracked=untracked,
    )


def _names(output: str | None) -> tuple[str, ...]:
    """File names from git's ``-z`` output (NUL-separated, so spaces and newlines in names survive)."""
    return tuple(name for name in (output or "").split("\0") if name)
