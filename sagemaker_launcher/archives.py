"""Downloading a job's tar.gz artifacts and unpacking them without letting them write elsewhere.

An artifact is whatever the training code put in its model or output folder, so it is untrusted:
every member is checked before anything is written, and anything that could land outside the
target folder (absolute paths, ``..``, links leading out, device files) refuses the whole archive.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.storage import split_s3_uri

# An archive with more members than this is refused before anything is written.
MAX_MEMBERS = 200_000
# Room left free on the destination's disk beyond the archive's declared size.
FREE_SPACE_MARGIN = 64 * 1024 * 1024


def download_and_unpack(
    s3: Any,
    uri: str,
    target: Path,
    progress: Callable[[str, int], Any],
    max_size: int | None = None,
) -> bool:
    """Download the archive at ``uri`` and unpack it into the new folder ``target``; False if absent.

    Everything happens in a temporary folder beside ``target``, which becomes ``target`` only once
    the archive is unpacked and checked whole: Ctrl-C, a full disk or a refused archive leave nothing.
    ``progress(label, total_bytes)`` gives a context manager with ``update(n)``, such as a tqdm bar.
    botocore errors other than "not found" propagate for the caller to word.
    """
    from botocore.exceptions import ClientError

    bucket, key = split_s3_uri(uri)
    try:
        size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    target.parent.mkdir(parents=True, exist_ok=True)
    _require_room(target.parent, size, max_size, f"{uri} ({size} bytes to download)")
    with _scratch_folder(target) as scratch:
        download = scratch / posixpath.basename(key)
        with progress(f"{target.name}: {posixpath.basename(key)}", size) as bar:
            s3.download_file(bucket, key, str(download), Callback=bar.update)
        safe_unpack(download, target, uri, max_size, scratch=scratch)
    return True


def safe_unpack(
    archive_path: Path, target: Path, label: str, max_size: int | None = None, scratch: Path | None = None
) -> None:
    """Unpack a tar archive into the new folder ``target`` after checking every member, or not at all.

    Members are checked before anything is written; once unpacked (in ``scratch``, or a temporary
    folder beside ``target``), every link is resolved on disk, so a chain of links that only leads
    outside once all of them exist is refused too. Only then does the folder become ``target``.
    """
    with _scratch_folder(target) if scratch is None else _as_is(scratch) as work:
        unpacked = work / "unpacked"
        try:
            with tarfile.open(archive_path, "r:*") as archive:
                members = _read_members(archive, label)
                check_members(members, label)
                declared = sum(member.size for member in members if member.isfile())
                _require_room(target.parent, declared, max_size, f"{label} (unpacks to {declared} bytes)")
                unpacked.mkdir()
                # The standard library's "data" filter re-checks each member against the disk as it goes.
                archive.extractall(unpacked, members=members, filter="data")
        except tarfile.FilterError as error:
            raise LauncherError(f"Refusing to unpack {label}: {error}. Nothing of it was kept.") from None
        except (tarfile.TarError, EOFError) as error:
            raise LauncherError(f"{label} is not a readable tar archive ({error}).") from None
        except OSError as error:
            raise LauncherError(
                f"Unpacking {label} failed ({error.strerror or error}); nothing of it was kept. Free some "
                "space or choose another --dest."
            ) from None
        escaping = links_leading_outside(unpacked)
        if escaping:
            raise LauncherError(
                f"Refusing to unpack {label}: once unpacked, its link '{escaping}' leads outside the folder "
                "(through other links in the archive). Nothing of it was kept."
            )
        os.rename(unpacked, target)


def links_leading_outside(root: Path) -> str | None:
    """The first symbolic link under ``root`` that resolves, through any other links, outside it."""
    top = os.path.realpath(root)
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                resolved = os.path.realpath(path)
                if os.path.commonpath([top, resolved]) != top:
                    return os.path.relpath(path, root)
    return None


def _read_members(archive: tarfile.TarFile, label: str) -> list[tarfile.TarInfo]:
    members = []
    for member in archive:
        members.append(member)
        if len(members) > MAX_MEMBERS:
            raise LauncherError(
                f"Refusing to unpack {label}: it holds more than {MAX_MEMBERS} members, more than a model "
                "or output archive ever needs. Nothing of it was written."
            )
    return members


def _require_room(folder: Path, size: int, max_size: int | None, what: str) -> None:
    """Refuse, before writing, what would not fit on the disk or under ``--max-size``."""
    if max_size is not None and size > max_size:
        raise LauncherError(
            f"Refusing {what}: that is more than --max-size ({max_size} bytes). Raise --max-size if you "
            "expect an archive this large. Nothing was written."
        )
    free = shutil.disk_usage(folder).free
    if size + FREE_SPACE_MARGIN > free:
        raise LauncherError(
            f"Refusing {what}: only {free} bytes are free in {folder}. Free some space or choose another "
            "--dest. Nothing was written."
        )


@contextmanager
def _scratch_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` (so the final rename stays on one disk), always removed."""
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.fetching-", dir=target.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _as_is(folder: Path) -> Iterator[Path]:
    yield folder


def check_members(members: list[tarfile.TarInfo], label: str) -> None:
    """Raise ``LauncherError`` naming the first member that could write outside the target folder."""
    links: set[str] = set()
    for member in members:
        problem = member_problem(member, links)
        if problem:
            raise LauncherError(
                f"Refusing to unpack {label}: its member '{member.name}' {problem}. An archive like this "
                "could overwrite files outside the download folder, so nothing of it was unpacked; "
                "inspect it with 'tar -tvzf' if you trust its source."
            )
        if member.issym():
            links.add(posixpath.normpath(member.name))


def member_problem(member: tarfile.TarInfo, links: set[str]) -> str | None:
    """What makes one member unsafe, given the symbolic links seen before it; None if it is safe."""
    name = member.name
    if any(unicodedata.category(character).startswith("C") for character in name + member.linkname):
        return "has a control character in its name or link"
    if _is_absolute(name):
        return "has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "climbs out of the folder with '..'"
    normalized = posixpath.normpath(name)
    parts = normalized.split("/")
    for depth in range(1, len(parts) + 1):
        through = "/".join(parts[:depth])
        if through in links:
            return f"is written through the symbolic link '{through}' in the same archive"
    if member.issym():
        if _is_absolute(member.linkname) or _escapes(
            posixpath.join(posixpath.dirname(normalized), member.linkname)
        ):
            return f"is a symbolic link to '{member.linkname}', outside the folder"
    elif member.islnk():
        if _is_absolute(member.linkname) or _escapes(member.linkname):
            return f"is a hard link to '{member.linkname}', outside the folder"
    elif member.ischr() or member.isblk():
        return "is a device file"
    elif member.isfifo():
        return "is a named pipe"
    elif not (member.isfile() or member.isdir()):
        return "is of a type that is not a file, folder or link"
    return None


def _is_absolute(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.startswith("/") or (len(path) > 1 and path[1] == ":")


def _escapes(relative: str) -> bool:
    normalized = posixpath.normpath(relative.replace("\\", "/"))
    return normalized == ".." or normalized.startswith("../")
