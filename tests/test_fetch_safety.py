"""``fetch`` against hostile model archives and broken transfers, through the real command and S3 (moto).

Model and output archives are written by training code, so each case is an archive a job could
leave: links that lead out only once other links exist, an archive that declares more bytes than fit,
too many members, names with control characters; and a download cut by Ctrl-C. After every refusal,
nothing of the archive exists: no target folder, no partial download, no scratch folder.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import tarfile
from pathlib import Path

import boto3
import pytest
from conftest import BUCKET, REGION, REPO_ROOT, aws_environment, python_command, run_cli
from faulty_proxy import Faults, faulty_proxy

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")


def launched_job(prefix_experiment: str = "exp-a") -> tuple[str, str]:
    """A job on the endpoint; returns its name and the S3 key of its model archive."""
    output = run_cli("--config", EXAMPLE, "S3.EXPERIMENT_NAME", prefix_experiment).output
    name = output.split("Started training job ", 1)[1].split()[0]
    return name, f"{prefix_experiment}/{name}/output/model.tar.gz"


def archive_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, data in members:
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", data: bytes = b"x") -> tuple:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


def put(key: str, body: bytes) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=body)


def leftovers(dest: Path, name: str) -> list[str]:
    """What a refused fetch left: anything at all under DEST/JOB."""
    job_dir = dest / name
    return sorted(p.name for p in job_dir.iterdir()) if job_dir.exists() else []


CHAINED_LINKS = {
    # Each link is harmless as text; together "x" resolves to the folder's parent, or to "/".
    "a link through a link defined later": [
        entry("x", tarfile.SYMTYPE, "y/.."),
        entry("y", tarfile.SYMTYPE, "."),
    ],
    "a longer chain to the root": [
        entry("top", tarfile.SYMTYPE, "a/b/../../.."),
        entry("a", tarfile.SYMTYPE, "."),
        entry("b", tarfile.SYMTYPE, "."),
    ],
}


@pytest.mark.parametrize("label", list(CHAINED_LINKS))
def test_links_that_lead_out_through_other_links_are_refused(aws: str, tmp_path: Path, label: str) -> None:
    name, key = launched_job()
    put(key, archive_of([entry("fine.txt"), *CHAINED_LINKS[label]]))
    dest = tmp_path / "dest"
    result = run_cli("fetch", name, "--dest", str(dest), expect_exit=1)
    assert "Refusing to unpack" in result.output and "Traceback" not in result.output
    assert leftovers(dest, name) == []


def test_an_archive_declaring_more_than_fits_is_refused_before_writing(aws: str, tmp_path: Path) -> None:
    # 131 bytes of GNU sparse tar that declare a 10 TB file.
    work = tmp_path / "bomb"
    work.mkdir()
    (work / "huge.bin").touch()
    os.truncate(work / "huge.bin", 10 * 1024**4)
    subprocess.run(["tar", "--sparse", "-czf", "bomb.tar.gz", "huge.bin"], cwd=work, check=True)
    name, key = launched_job()
    put(key, (work / "bomb.tar.gz").read_bytes())
    dest = tmp_path / "dest"
    result = run_cli("fetch", name, "--dest", str(dest), expect_exit=1)
    assert "unpacks to 10995116277760 bytes" in result.output and "bytes are free in" in result.output
    assert leftovers(dest, name) == []


def test_max_size_bounds_what_an_archive_may_unpack_to(aws: str, tmp_path: Path) -> None:
    name, key = launched_job()
    put(key, archive_of([entry("zeros.bin", data=bytes(5 * 1024 * 1024))]))
    dest = tmp_path / "dest"
    refused = run_cli("fetch", name, "--dest", str(dest), "--max-size", "1M", expect_exit=1).output
    assert "more than --max-size (1048576 bytes)" in refused
    assert leftovers(dest, name) == []
    assert "not a size" in run_cli("fetch", name, "--max-size", "lots", expect_exit=2).output
    fetched = run_cli("fetch", name, "--dest", str(dest), "--max-size", "10M").output
    assert (dest / name / "model" / "zeros.bin").stat().st_size == 5 * 1024 * 1024, fetched


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ([entry("bell\x07.txt")], "control character"),
        ([entry("ok.txt", tarfile.SYMTYPE, "dir\x1b[2J")], "control character"),
    ],
)
def test_members_with_control_characters_are_refused(
    aws: str, tmp_path: Path, members: list, problem: str
) -> None:
    name, key = launched_job()
    put(key, archive_of(members))
    dest = tmp_path / "dest"
    result = run_cli("fetch", name, "--dest", str(dest), expect_exit=1)
    assert problem in result.output
    assert leftovers(dest, name) == []


def test_ctrl_c_during_the_download_leaves_nothing_and_a_rerun_works(aws: str, tmp_path: Path) -> None:
    name, key = launched_job()
    put(key, archive_of([entry("weights.bin", data=os.urandom(3 * 1024 * 1024))]))
    dest = tmp_path / "dest"
    faults = Faults(stall_answers_after_bytes=1024 * 1024)
    with faulty_proxy(aws, faults) as proxy:
        process = subprocess.Popen(
            python_command("fetch", name, "--dest", str(dest)),
            cwd=REPO_ROOT,
            env={**os.environ, **aws_environment(proxy)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert faults.stalled.wait(60), "the download never started"
        process.send_signal(signal.SIGINT)
        faults.released.set()
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert leftovers(dest, name) == []
    run_cli("fetch", name, "--dest", str(dest))
    assert (dest / name / "model" / "weights.bin").stat().st_size == 3 * 1024 * 1024
    assert leftovers(dest, name) == ["model"]
