"""Downloading a job's tar.gz artifacts and unpacking them without letting them write elsewhere.

An artifact is whatever the training code put in its model or output folder, so it is untrusted.
Every member is checked before anything is written: absolute paths, '..', device files, pipes,
control characters, too many members, more bytes than fit, hard links to anything but an earlier
file, and symbolic links that lead outside once all of the archive's links exist, in any order.
The folder is unpacked in a scratch folder, checked again on disk, and only then moved into place.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sagemaker_launcher.aws.faults import is_not_found
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.jobs.link_paths import MAX_LINK_DEPTH, OUTSIDE, LinkDepthError, LinkTree
from sagemaker_launcher.spec.layout import split_s3_uri

# An archive with more members than this is refused before anything is written.
MAX_MEMBERS = 200_000
# Room left free on the destination's disk beyond the archive's declared size.
FREE_SPACE_MARGIN = 64 * 1024 * 1024


def member_bytes(archive: tarfile.TarFile, name: str, limit: int) -> bytes | None:
    """The first regular file called ``name``, in any folder of an archive open for reading, if it has
    at most ``limit`` bytes; None otherwise. Streamed archives are read only as far as that file."""
    for member in archive:
        if Path(member.name).name == name and member.isfile() and member.size <= limit:
            handle = archive.extractfile(member)
            return handle.read() if handle else None
    return None


def download_and_unpack(
    s3: Any,
    uri: str,
    target: Path,
    progress: Callable[[str, int], Any],
    max_size: int | None = None,
) -> bool:
    """Download the archive at ``uri`` and unpack it into the new folder ``target``; False if absent.

    Everything happens in a temporary folder beside ``target``, which becomes ``target`` only once
    the archive is unpacked and checked whole: Ctrl-C, a full disk or a refused archive leave nothing,
    not even the folders made to hold it. ``progress(label, total_bytes)`` gives a context manager
    with ``update(n)``, such as a tqdm bar. botocore errors other than "not found" propagate.
    """
    bucket, key = split_s3_uri(uri)
    try:
        size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    except Exception as error:
        if is_not_found(error):
            return False
        raise
    with _folder_kept_only_if_used(target.parent):
        Room(target.parent, max_size).require(size, f"{uri} ({size} bytes to download)")
        with _scratch_folder(target) as scratch:
            download = scratch / posixpath.basename(key)
            try:
                with progress(f"{target.name}: {posixpath.basename(key)}", size) as bar:
                    s3.download_file(bucket, key, str(download), Callback=bar.update)
            except OSError as error:
                raise LauncherError(
                    f"Downloading {uri} into {target.parent} failed ({_reason(error)}); nothing of it was "
                    "kept. If the disk is full, free some space or choose another --dest."
                ) from None
            safe_unpack(download, target, uri, max_size, scratch=scratch)
    return True


def safe_unpack(
    archive_path: Path, target: Path, label: str, max_size: int | None = None, scratch: Path | None = None
) -> None:
    """Unpack a tar archive into the new folder ``target`` after checking every member, or not at all.

    Members are checked before anything is written; once unpacked (in ``scratch``, or a temporary
    folder beside ``target``), the folder is checked again on disk, so nothing the extraction did
    differently from the member list can slip through. Only then does the folder become ``target``.
    """
    with _scratch_folder(target) if scratch is None else contextlib.nullcontext(scratch) as work:
        unpacked = work / "unpacked"
        try:
            with tarfile.open(archive_path, "r:*") as archive:
                members = _read_members(archive, label, Room(target.parent, max_size))
                check_members(members, label)
                unpacked.mkdir()
                # The standard library's "data" filter re-checks each member against the disk as it goes.
                archive.extractall(unpacked, members=members, filter="data")
        except tarfile.FilterError as error:
            raise LauncherError(f"Refusing to unpack {label}: {error}. Nothing of it was kept.") from None
        except (tarfile.TarError, EOFError) as error:
            raise LauncherError(f"{label} is not a readable tar archive ({error}).") from None
        except OSError as error:
            raise LauncherError(
                f"Unpacking {label} failed ({_reason(error)}); nothing of it was kept. If the disk is full, "
                "free some space or choose another --dest."
            ) from None
        problem = unpacked_problem(unpacked)
        if problem:
            raise LauncherError(
                f"Refusing to unpack {label}: once unpacked, {problem}. Nothing of it was kept."
            )
        os.rename(unpacked, target)


def check_members(members: list[tarfile.TarInfo], label: str) -> None:
    """Raise ``LauncherError`` naming the first member that could write or point outside the folder."""
    for member in members:
        problem = member_problem(member)
        if problem:
            raise _refusal(label, f"its member '{member.name}' {problem}")
    problem = links_problem(members)
    if problem:
        raise _refusal(label, problem)


def member_problem(member: tarfile.TarInfo) -> str | None:
    """What makes one member unsafe on its own, whatever else the archive holds; None if nothing."""
    name = member.name
    if any(unicodedata.category(character).startswith("C") for character in name + member.linkname):
        return "has a control character in its name or link"
    if _is_absolute(name):
        return "has an absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "climbs out of the folder with '..'"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        if member.ischr() or member.isblk():
            return "is a device file"
        if member.isfifo():
            return "is a named pipe"
        return "is of a type that is not a file, folder or link"
    return None


def links_problem(members: list[tarfile.TarInfo]) -> str | None:
    """Which member is unsafe among all the others through links, and why; None if none is.

    Symbolic links are resolved as they will stand once every member exists, whatever their order;
    hard links must name a regular file that comes earlier, as tar itself writes them.
    """
    tree = LinkTree({posixpath.normpath(m.name): m.linkname for m in members if m.issym()})
    files: set[str] = set()
    for member in members:
        name = posixpath.normpath(member.name)
        through = tree.link_above(name)
        if through:
            return f"its member '{member.name}' is written through the archive's symbolic link '{through}'"
        if member.issym():
            problem = _link_problem(tree, name)
            if problem:
                return (
                    f"its member '{member.name}' is a symbolic link to '{member.linkname}', which {problem}"
                )
        elif tree.is_link(tree.node(name)):
            return f"its member '{member.name}' has the name of a symbolic link in the archive"
        elif member.islnk() and not _names_earlier_file(member.linkname, files):
            return (
                f"its member '{member.name}' is a hard link to '{member.linkname}', which is not a regular "
                "file earlier in the archive"
            )
        if member.isfile():
            files.add(name)
    collision = tree.collision_with_link()
    return _collision_problem(*collision) if collision else None


def unpacked_problem(root: Path) -> str | None:
    """What makes an unpacked folder unsafe to keep, read from the disk itself; None if nothing.

    Every link is resolved through the others as found on disk, a regular file may share its data
    (hard links) only with files inside, and only files, folders and links may be there.
    """
    links: dict[str, str] = {}
    hard_links: dict[tuple[int, int], list[Any]] = {}
    for folder, folders, files in os.walk(root):
        for name in [*folders, *files]:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                links[relative] = os.readlink(path)
            elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
                hard_links.setdefault((info.st_dev, info.st_ino), [0, info.st_nlink, relative])[0] += 1
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                return f"'{relative}' is neither a file, a folder nor a link"
    for found, count, relative in hard_links.values():
        if found < count:
            return f"the file '{relative}' shares its data with a file outside the folder (a hard link)"
    tree = LinkTree(links)
    for relative in links:
        problem = _link_problem(tree, relative)
        if problem:
            return f"its link '{relative}' (to '{links[relative]}') {problem}"
    collision = tree.collision_with_link()
    return _collision_problem(*collision) if collision else None


def _link_problem(tree: LinkTree, path: str) -> str | None:
    try:
        leads_to = tree.resolve_link(path)
    except LinkDepthError:
        return f"resolves only through more than {MAX_LINK_DEPTH} nested links"
    if leads_to == OUTSIDE:
        return "leads outside the folder (directly or through the archive's other links)"
    return None


def _collision_problem(link: str, other: str) -> str:
    return (
        f"its path '{other}' differs only in case or Unicode form from its symbolic link '{link}', and a "
        "case-insensitive disk (macOS, Windows) would take one for the other"
    )


def _names_earlier_file(linkname: str, files: set[str]) -> bool:
    if _is_absolute(linkname) or ".." in linkname.split("/"):
        return False
    return posixpath.normpath(linkname) in files


def _refusal(label: str, problem: str) -> LauncherError:
    return LauncherError(
        f"Refusing to unpack {label}: {problem}. An archive like this could reach "
        "files outside the download folder, so nothing of it was unpacked; inspect it with 'tar -tvzf' "
        "if you trust its source."
    )


def _read_members(archive: tarfile.TarFile, label: str, room: Room) -> list[tarfile.TarInfo]:
    """The member list, read header by header: an archive that declares more members, or more bytes, than
    may be unpacked is refused at the header that crosses the bound, before the rest is decompressed
    (a small file that unpacks to far more than fits is refused in moments, not after minutes)."""
    members = []
    declared = 0
    for member in archive:
        members.append(member)
        if len(members) > MAX_MEMBERS:
            raise LauncherError(
                f"Refusing to unpack {label}: it holds more than {MAX_MEMBERS} members, more than a model "
                "or output archive ever needs. Nothing of it was written."
            )
        if member.isfile():
            declared += member.size
            room.require(declared, f"{label} (unpacks to at least {declared} bytes)")
    return members


class Room:
    """What may be written in ``folder``: its free space less a margin, and ``--max-size``."""

    def __init__(self, folder: Path, max_size: int | None) -> None:
        self.folder = folder
        self.max_size = max_size
        self.free = shutil.disk_usage(folder).free

    def require(self, size: int, what: str) -> None:
        """Refuse, before writing, what would not fit on the disk or under ``--max-size``."""
        if self.max_size is not None and size > self.max_size:
            raise LauncherError(
                f"Refusing {what}: that is more than --max-size ({self.max_size} bytes). Raise --max-size if "
                "you expect an archive this large. Nothing was written."
            )
        if size + FREE_SPACE_MARGIN > self.free:
            raise LauncherError(
                f"Refusing {what}: only {self.free} bytes are free in {self.folder}. Free some space or "
                "choose another --dest. Nothing was written."
            )


@contextmanager
def _folder_kept_only_if_used(folder: Path) -> Iterator[None]:
    """Create ``folder`` and its missing parents; if the block fails, remove those of them left empty."""
    made = [path for path in (folder, *folder.parents) if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        for path in made:  # deepest first; a folder holding anything stays
            with contextlib.suppress(OSError):
                path.rmdir()
        raise


@contextmanager
def _scratch_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside ``target`` (so the final rename stays on one disk), always removed."""
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.fetching-", dir=target.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _is_absolute(path: str) -> bool:
    path = path.replace("\\", "/")
    return path.startswith("/") or (len(path) > 1 and path[1] == ":")
