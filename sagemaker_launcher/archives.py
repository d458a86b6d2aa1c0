"""Downloading a job's tar.gz artifacts and unpacking them without letting them write elsewhere.

An artifact is whatever the training code put in its model or output folder, so it is untrusted:
every member is checked before anything is written, and anything that could land outside the
target folder (absolute paths, ``..``, links leading out, device files) refuses the whole archive.
"""

from __future__ import annotations

import posixpath
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.storage import split_s3_uri


def download_and_unpack(s3: Any, uri: str, target: Path, progress: Callable[[str, int], Any]) -> bool:
    """Download the archive at ``uri`` beside ``target`` and unpack it into ``target``; False if absent.

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
    download = target.parent / f".{target.name}.{posixpath.basename(key)}.part"
    try:
        with progress(f"{target.name}: {posixpath.basename(key)}", size) as bar:
            s3.download_file(bucket, key, str(download), Callback=bar.update)
        safe_unpack(download, target, uri)
    finally:
        download.unlink(missing_ok=True)
    return True


def safe_unpack(archive_path: Path, target: Path, label: str) -> None:
    """Unpack a tar archive into the new folder ``target`` after checking every member."""
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            members = archive.getmembers()
            check_members(members, label)
            target.mkdir(parents=True)
            try:
                # The standard library's "data" filter re-checks each member against the disk as it goes.
                archive.extractall(target, members=members, filter="data")
            except (tarfile.TarError, OSError) as error:
                shutil.rmtree(target, ignore_errors=True)
                raise LauncherError(f"Refusing to unpack {label}: {error}. Nothing of it was kept.") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise LauncherError(f"{label} is not a readable tar archive ({error}).") from None


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
