"""``fetch`` against hostile model archives and broken transfers, through the real command and S3 (moto).

Model and output archives are written by training code, so each case is an archive a job could
leave: paths and links that lead out (directly, or only once other links exist, in any order),
hard links, special files, more bytes or members than make sense, names with control characters;
and transfers cut by Ctrl-C or a full disk. After every refusal nothing of the archive exists
anywhere: no target folder, no partial download, no scratch folder, not even an empty DEST.
"""

from __future__ import annotations

import gzip
import io
import os
import resource
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import boto3
import pytest
from support.aws import BUCKET, REGION, ROLE_ARN, aws_environment, described
from support.aws_dialect import Faults, faulty_endpoint
from support.commands import REPO_ROOT, python_command, run_cli

from sagemaker_launcher.jobs.archives import MAX_MEMBERS, unpacked_problem

JOB = "hostile-archive-job"
ABSOLUTE_TARGET = "/tmp/sm-launcher-fetch-safety-evil"


def job_with_model(archive: bytes) -> str:
    """A finished training job whose model.tar.gz in S3 is ``archive``; returns the model's URI."""
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_training_job(
        TrainingJobName=JOB,
        AlgorithmSpecification={
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
            "TrainingInputMode": "File",
        },
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/jobs"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    uri = described(sagemaker, JOB)["ModelArtifacts"]["S3ModelArtifacts"]
    key = uri.removeprefix(f"s3://{BUCKET}/")
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=archive)
    return uri


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"x") -> tuple:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


def archive_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def tree(folder: Path) -> set[str]:
    """Every path under ``folder``, links not followed."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def deep_link_chain(up: int) -> list[tuple]:
    """16 nested folders of 247-character names, a link to each beside it, and a link through all of them.

    Followed through the links, the last link's path is longer than PATH_MAX, the length at which
    ``os.path.realpath`` (and tarfile's "data" filter built on it, before Python 3.11.13) stops looking.
    """
    folder, members, chain = "", [], []
    for step in "abcdefghijklmnop":
        members += [
            entry(f"{folder}{'d' * 247}", tarfile.DIRTYPE),
            entry(f"{folder}{step}", tarfile.SYMTYPE, "d" * 247),
        ]
        folder, chain = f"{folder}{'d' * 247}/", [*chain, step]
    return [*members, entry("escape", tarfile.SYMTYPE, "/".join(chain) + "/.." * up)]


HOSTILE = {
    "absolute path": ([entry(ABSOLUTE_TARGET)], f"member '{ABSOLUTE_TARGET}'", "has an absolute path"),
    "dot-dot": ([entry("../../evil")], "member '../../evil'", "climbs out of the folder with '..'"),
    "symlink out": (
        [entry("link", tarfile.SYMTYPE, "../../..")],
        "member 'link'",
        "leads outside the folder",
    ),
    "absolute symlink": (
        [entry("pw", tarfile.SYMTYPE, "/etc/passwd")],
        "member 'pw'",
        "symbolic link to '/etc/passwd'",
    ),
    "write through a symlink": (
        [entry("sub", tarfile.SYMTYPE, "."), entry("sub/evil")],
        "member 'sub/evil'",
        "is written through the archive's symbolic link 'sub'",
    ),
    "a folder that a later member makes a symlink": (
        [entry("sub/evil"), entry("sub", tarfile.SYMTYPE, ".")],
        "member 'sub/evil'",
        "is written through the archive's symbolic link 'sub'",
    ),
    # Each link is harmless as text; together "x" resolves to the folder's parent, or to "/".
    "a symlink through a symlink defined later": (
        [entry("x", tarfile.SYMTYPE, "y/.."), entry("y", tarfile.SYMTYPE, ".")],
        "member 'x'",
        "leads outside the folder",
    ),
    "a longer chain to the root": (
        [
            entry("top", tarfile.SYMTYPE, "a/b/../../.."),
            entry("a", tarfile.SYMTYPE, "."),
            entry("b", tarfile.SYMTYPE, "."),
        ],
        "member 'top'",
        "leads outside the folder",
    ),
    "a symlink into a deep folder that comes back out": (
        deep_link_chain(17),
        "member 'escape'",
        "leads outside the folder",
    ),
    "a file replaced by a symlink": (
        [entry("model.pt"), entry("model.pt", tarfile.SYMTYPE, "weights")],
        "member 'model.pt'",
        "has the name of a symbolic link in the archive",
    ),
    "hard link out": (
        [entry("hard", tarfile.LNKTYPE, "../outside")],
        "member 'hard'",
        "is a hard link to '../outside'",
    ),
    # tarfile cannot hard-link a folder, so it would copy the link "s" ('..' from a/b) to the top as "h".
    "hard link to a symlink": (
        [entry("a/b/s", tarfile.SYMTYPE, "../.."), entry("h", tarfile.LNKTYPE, "a/b/s")],
        "member 'h'",
        "which is not a regular file earlier in the archive",
    ),
    "hard link to a later file": (
        [entry("h", tarfile.LNKTYPE, "later"), entry("later")],
        "member 'h'",
        "is a hard link to 'later', which is not a regular file earlier",
    ),
    "device": ([entry("null", tarfile.CHRTYPE)], "member 'null'", "is a device file"),
    "named pipe": ([entry("pipe", tarfile.FIFOTYPE)], "member 'pipe'", "is a named pipe"),
    "control character in a name": (
        [entry("bell\x07.txt")],
        "member 'bell\x07.txt'",
        "has a control character",
    ),
    "control character in a link": (
        [entry("ok", tarfile.SYMTYPE, "dir\x1b[2J")],
        "member 'ok'",
        "has a control character in its name or link",
    ),
    # On macOS or Windows "d/up" is the link "D/up" (to the top), so "esc" leads to the folder's parent.
    "names that differ only in case from a symlink": (
        [entry("D/up", tarfile.SYMTYPE, ".."), entry("esc", tarfile.SYMTYPE, "d/up/..")],
        "path 'd/up'",
        "differs only in case or Unicode form from its symbolic link 'D/up'",
    ),
}


@pytest.mark.parametrize("label", list(HOSTILE))
def test_hostile_archives_are_refused_whole_and_leave_nothing(aws: str, tmp_path: Path, label: str) -> None:
    members, culprit, problem = HOSTILE[label]
    uri = job_with_model(archive_of(entry("fine.txt"), *members))
    dest = tmp_path / "work" / "fetched"
    (tmp_path / "work" / "neighbour.txt").parent.mkdir()
    (tmp_path / "work" / "neighbour.txt").write_text("mine")
    before = tree(tmp_path)

    output = run_cli("fetch", JOB, "--dest", str(dest), expect_exit=1).output
    assert f"Error: Refusing to unpack {uri}: its {culprit} " in output, output
    assert problem in output and "nothing of it was unpacked" in output
    assert "Traceback" not in output
    assert tree(tmp_path) == before  # no DEST, no partial folder, nothing beside it
    assert not os.path.lexists(ABSOLUTE_TARGET)


def test_a_sound_archive_with_links_inside_is_fetched_whole(aws: str, tmp_path: Path) -> None:
    job_with_model(
        archive_of(
            entry("checkpoint-10/model.pt", data=b"weights"),
            entry("latest", tarfile.SYMTYPE, "checkpoint-10"),
            entry("best", tarfile.SYMTYPE, "latest/model.pt"),  # through a link defined earlier
            entry("code/model.pt", tarfile.SYMTYPE, "../newest/model.pt"),  # through one defined later
            entry("newest", tarfile.SYMTYPE, "./latest/../checkpoint-10"),
            entry("checkpoint-10/copy.pt", tarfile.LNKTYPE, "checkpoint-10/model.pt"),
        )
    )
    dest = tmp_path / "fetched"
    output = run_cli("fetch", JOB, "--dest", str(dest)).output
    model = dest / JOB / "model"
    assert f"model: {model}" in output
    for name in ("best", "code/model.pt", "checkpoint-10/copy.pt"):
        assert (model / name).read_bytes() == b"weights", name
    assert (model / "checkpoint-10" / "copy.pt").samefile(model / "checkpoint-10" / "model.pt")
    assert sorted(p.name for p in (dest / JOB).iterdir()) == ["model"]


def test_the_unpacked_folder_is_checked_again_on_disk(tmp_path: Path) -> None:
    """What the extraction wrote is checked as found, whatever the member list said."""
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    root = tmp_path / "unpacked"
    (root / "sub").mkdir(parents=True)
    (root / "file.bin").write_bytes(b"x")
    assert unpacked_problem(root) is None

    (root / "x").symlink_to("sub/y/..")  # "sub/y" is made after "x": order must not matter
    assert unpacked_problem(root) is None
    (root / "sub" / "y").symlink_to("..")
    assert unpacked_problem(root) == "its link 'x' (to 'sub/y/..') leads outside the folder " + (
        "(directly or through the archive's other links)"
    )
    (root / "x").unlink()

    os.link(outside, root / "sub" / "shared.txt")
    assert "the file 'sub/shared.txt' shares its data with a file outside the folder" in unpacked_problem(
        root
    )
    (root / "sub" / "shared.txt").unlink()
    os.link(root / "file.bin", root / "sub" / "twin.bin")  # both names inside: fine
    assert unpacked_problem(root) is None

    os.mkfifo(root / "sub" / "pipe")
    assert unpacked_problem(root) == "'sub/pipe' is neither a file, a folder nor a link"


def test_an_archive_with_absurdly_many_members_is_refused_before_writing(aws: str, tmp_path: Path) -> None:
    header = tarfile.TarInfo("empty").tobuf()
    uri = job_with_model(gzip.compress(header * (MAX_MEMBERS + 1) + bytes(1024), compresslevel=1))
    output = run_cli("fetch", JOB, "--dest", str(tmp_path / "fetched"), expect_exit=1).output
    assert f"Refusing to unpack {uri}: it holds more than {MAX_MEMBERS} members" in output
    assert tree(tmp_path) == set()


def test_an_archive_declaring_more_than_fits_is_refused_before_writing(aws: str, tmp_path: Path) -> None:
    # 131 bytes of GNU sparse tar that declare a 10 TB file.
    work = tmp_path / "bomb"
    work.mkdir()
    (work / "huge.bin").touch()
    os.truncate(work / "huge.bin", 10 * 1024**4)
    subprocess.run(["tar", "--sparse", "-czf", "bomb.tar.gz", "huge.bin"], cwd=work, check=True)
    job_with_model((work / "bomb.tar.gz").read_bytes())
    dest = tmp_path / "dest"
    output = run_cli("fetch", JOB, "--dest", str(dest), expect_exit=1).output
    assert "unpacks to at least 10995116277760 bytes" in output and "bytes are free in" in output
    assert not dest.exists()


def test_max_size_bounds_what_an_archive_may_unpack_to(aws: str, tmp_path: Path) -> None:
    job_with_model(archive_of(entry("zeros.bin", data=bytes(5 * 1024 * 1024))))
    dest = tmp_path / "dest"
    refused = run_cli("fetch", JOB, "--dest", str(dest), "--max-size", "1M", expect_exit=1).output
    assert "more than --max-size (1048576 bytes)" in refused
    assert not dest.exists()
    assert "not a size" in run_cli("fetch", JOB, "--max-size", "lots", expect_exit=2).output
    fetched = run_cli("fetch", JOB, "--dest", str(dest), "--max-size", "10M").output
    assert (dest / JOB / "model" / "zeros.bin").stat().st_size == 5 * 1024 * 1024, fetched


def fetch_process(endpoint: str, dest: Path, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        python_command("fetch", JOB, "--dest", str(dest)),
        cwd=REPO_ROOT,
        env={**os.environ, **aws_environment(endpoint)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def assert_clean_then_fetched(dest: Path, check: str, size: int) -> None:
    """Nothing was left by the failed run, and a plain rerun fetches the archive whole."""
    assert not dest.exists()
    run_cli("fetch", JOB, "--dest", str(dest))
    assert (dest / JOB / "model" / check).stat().st_size == size
    assert [path.name for path in (dest / JOB).iterdir()] == ["model"]


def test_ctrl_c_during_the_download_leaves_nothing_and_a_rerun_works(aws: str, tmp_path: Path) -> None:
    job_with_model(archive_of(entry("weights.bin", data=os.urandom(3 * 1024 * 1024))))
    dest = tmp_path / "dest"
    faults = Faults(stall_answers_after_bytes=1024 * 1024)
    with faulty_endpoint(aws, faults) as proxy:
        process = fetch_process(proxy, dest)
        assert faults.stalled.wait(60), "the download never started"
        process.send_signal(signal.SIGINT)
        faults.released.set()
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert_clean_then_fetched(dest, "weights.bin", 3 * 1024 * 1024)


def test_ctrl_c_during_the_unpacking_leaves_nothing_and_a_rerun_works(aws: str, tmp_path: Path) -> None:
    job_with_model(archive_of(*(entry(f"shards/{index:05}.bin") for index in range(20_000))))
    dest = tmp_path / "dest"
    process = fetch_process(aws, dest)
    deadline = time.monotonic() + 60
    while not list((dest / JOB).glob(".model.fetching-*/unpacked/shards")):
        assert process.poll() is None and time.monotonic() < deadline, "the unpacking never started"
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip() == "Interrupted."
    assert_clean_then_fetched(dest, "shards/19999.bin", 1)


@pytest.mark.parametrize(
    ("when", "member", "message"),
    [
        ("download", entry("weights.bin", data=os.urandom(3 * 1024 * 1024)), "Downloading s3://"),
        ("unpacking", entry("zeros.bin", data=bytes(3 * 1024 * 1024)), "Unpacking s3://"),
    ],
)
def test_a_full_disk_leaves_nothing_and_a_rerun_works(
    aws: str, tmp_path: Path, when: str, member: tuple, message: str
) -> None:
    """The fetch may write no file over 1 MB (as on a disk with 1 MB left); zeros compress to far less."""
    job_with_model(archive_of(member))
    dest = tmp_path / "dest"

    def one_megabyte_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))

    process = fetch_process(aws, dest, preexec_fn=one_megabyte_files)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert f"Error: {message}" in stderr and "(File too large); nothing of it was kept" in stderr, when
    assert "Traceback" not in stdout + stderr
    assert_clean_then_fetched(dest, member[0].name, 3 * 1024 * 1024)


def bomb(members: int, size: int) -> bytes:
    """A small gzipped tar of ``members`` files of ``size`` zero bytes each: it unpacks to far more."""
    buffer = io.BytesIO()
    zeros = io.BytesIO(bytes(size))
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as archive:
        for index in range(members):
            info = tarfile.TarInfo(f"shard-{index}.bin")
            info.size = size
            zeros.seek(0)
            archive.addfile(info, zeros)
    return buffer.getvalue()


def test_an_archive_that_unpacks_to_more_than_allowed_is_refused_at_the_header_that_crosses(
    aws: str, tmp_path: Path
) -> None:
    """The bound is checked header by header: the rest of the archive is never decompressed."""
    data = bomb(members=40, size=32 * 1024 * 1024)  # 1.25 GiB of zeros in a few MB
    job_with_model(data)
    dest = tmp_path / "dest"
    started = time.monotonic()
    refused = run_cli("fetch", JOB, "--dest", str(dest), "--max-size", "50M", expect_exit=1).output
    assert time.monotonic() - started < 15
    assert "unpacks to at least 67108864 bytes" in refused and "more than --max-size" in refused
    assert not dest.exists()


@pytest.mark.parametrize("size", ["inf", "nan", "-1", "2X"])
def test_a_max_size_that_is_no_number_of_bytes_is_refused(aws: str, size: str) -> None:
    result = run_cli("fetch", JOB, "--max-size", size, expect_exit=2)
    assert "Invalid value for '--max-size'" in result.output and "Traceback" not in result.output
