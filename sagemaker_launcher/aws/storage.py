"""Writing and removing a job's files: in S3 for SageMaker jobs, in a local folder for local runs.

``put`` and ``put_file`` take ``s3://`` or ``file://`` URIs, so writing the config channel does not
care where a job runs. Uploads carry SSE-KMS under ``S3.KMS_KEY_ID`` when one is set, so a bucket whose
policy requires it accepts them. boto3 is imported only when an S3 URI is used.
"""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sagemaker_container import job_debugger
from sagemaker_container.job_debugger import RUNNER_FILE
from sagemaker_container.sagemaker_contract.names import (
    RECORD_FILE,
    REQUEST_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.aws.clients import aws_client
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.spec.code_folder import code_files
from sagemaker_launcher.spec.job import JobSpec
from sagemaker_launcher.spec.layout import is_s3_uri, local_path, split_s3_uri
from sagemaker_launcher.spec.record import dump_json

# The job's debugger, added beside code that lacks it (the hold's runner, breakpoint()'s server).
RUNNER_PATH = Path(job_debugger.__file__)
# DeleteObjects takes at most 1000 keys a call (S3 API reference, DeleteObjects).
_DELETE_BATCH = 1000


@dataclass
class Removal:
    """What removing a prefix did: objects removed, objects S3 refused to remove, uploads aborted."""

    removed: int = 0
    # (key, code, message) of each object S3 answered with a per-key error.
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    aborted: int = 0


class JobStorage:
    """Puts bytes and local files under a job's prefix, in S3 or in a local folder."""

    def __init__(self, region: str | None = None, kms_key_id: str = "") -> None:
        self._region = region
        self._client: Any = None
        self.kms_key_id = kms_key_id

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("s3", self._region)
        return self._client

    @property
    def encryption(self) -> dict[str, str]:
        """The arguments of an upload that S3 encrypts with the job's KMS key (none without one)."""
        if not self.kms_key_id:
            return {}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}

    def put(self, uri: str, data: bytes) -> None:
        """Write ``data`` at ``uri``."""
        if is_s3_uri(uri):
            bucket, key = split_s3_uri(uri)
            self.client.put_object(Bucket=bucket, Key=key, Body=data, **self.encryption)
            return
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def put_file(self, uri: str, source: Path, callback: Any = None) -> None:
        """Copy the file ``source`` to ``uri``, streamed (multipart in S3 for large files)."""
        if is_s3_uri(uri):
            bucket, key = split_s3_uri(uri)
            self.client.upload_file(str(source), bucket, key, ExtraArgs=self.encryption, Callback=callback)
            return
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)

    def read(self, uri: str) -> bytes | None:
        """One object's bytes, or None when it does not exist."""
        from sagemaker_launcher.aws.faults import is_not_found

        bucket, key = split_s3_uri(uri)
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as error:
            if is_not_found(error):
                return None
            raise

    def holds_objects(self, s3_prefix: str) -> bool:
        """Whether any object already lies under ``s3_prefix``."""
        bucket, key = split_s3_uri(s3_prefix)
        return bool(self.client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount"))

    def remove_prefix(self, s3_prefix: str) -> Removal:
        """Delete every object under ``s3_prefix`` and abort its unfinished multipart uploads.

        DeleteObjects answers 200 even when it refuses keys, listing each under ``Errors`` (e.g.
        AccessDenied without s3:DeleteObject, or a bucket policy): those are reported, not counted as
        removed. Only for a prefix this launch owns (checked empty first).
        """
        bucket, key = split_s3_uri(s3_prefix)
        removal = Removal()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            for start in range(0, len(objects), _DELETE_BATCH):
                batch = objects[start : start + _DELETE_BATCH]
                answer = self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                errors = answer.get("Errors", [])
                removal.refused += [
                    (e.get("Key", "?"), e.get("Code", "?"), e.get("Message", "")) for e in errors
                ]
                removal.removed += len(batch) - len(errors)
        for page in self.client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key):
            for upload in page.get("Uploads", []):
                self.client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                removal.aborted += 1
        return removal

    def upload(self, source: Path, s3_prefix: str, label: str) -> None:
        """Upload a file or folder under ``s3_prefix``, with a progress bar over its bytes.

        Only SageMaker jobs upload: local runs read their channels where they are.
        """
        from tqdm import tqdm

        files = list(files_below(source))
        with unreadable_named(f"Uploading {label}"):
            total = sum(path.stat().st_size for path, _ in files)
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"upload {label}", disable=None) as bar:
                for path, relative in files:
                    self.put_file(f"{s3_prefix}{relative}", path, callback=bar.update)


def files_below(source: Path) -> Iterator[tuple[Path, str]]:
    """Each regular file of a file or folder, with its path relative to the folder."""
    if source.is_file():
        yield source, source.name
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            yield path, path.relative_to(source).as_posix()


@contextlib.contextmanager
def unreadable_named(action: str) -> Iterator[None]:
    """A local file that cannot be read (permissions, a file gone meanwhile) as one paragraph naming it."""
    try:
        yield
    except OSError as error:
        if isinstance(error, ConnectionError) or not getattr(error, "filename", None):
            raise
        raise LauncherError(
            f"{action}: {error.filename} cannot be read ({error.strerror}). Make it readable, or move it out "
            "of the folder, then launch again."
        ) from None


def pack_source_dir(source_dir: Path, target: IO[bytes], added: Mapping[str, Path] | None = None) -> None:
    """Write a gzipped tar of the code folder to ``target``, file by file, as SageMaker's script mode
    expects (files at the archive's root); links are stored as the files they point at. ``added`` files
    (archive name -> file) join those the folder lacks."""
    with (
        unreadable_named("Packing SAGEMAKER.SOURCE_DIR"),
        tarfile.open(fileobj=target, mode="w:gz", dereference=True) as archive,
    ):
        for path, name in code_files(source_dir):
            archive.add(path, arcname=name, recursive=False)
        for name, path in (added or {}).items():
            if not (source_dir / name).exists():
                archive.add(path, arcname=name, recursive=False)


def write_config_channel(
    storage: JobStorage, spec: JobSpec, record: dict[str, Any], request: dict[str, Any]
) -> None:
    """Write the resolved configs, the record and the request into the job's ``config`` channel."""
    provenance = spec.provenance
    files = {
        SAGEMAKER_CONFIG_FILE: provenance.sagemaker_yaml.encode(),
        RECORD_FILE: dump_json(record).encode(),
        REQUEST_FILE: dump_json(request).encode(),
    }
    if provenance.training_yaml is not None:
        files[TRAINING_CONFIG_FILE] = provenance.training_yaml.encode()
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        for done in [pool.submit(storage.put, spec.config_uri + name, data) for name, data in files.items()]:
            done.result()


def put_code(storage: JobStorage, spec: JobSpec) -> None:
    """Pack SOURCE_DIR into the job's code archive, streamed through a temporary file (never in memory)."""
    assert spec.code.source_dir is not None and spec.code.archive_uri is not None
    added = {RUNNER_FILE: RUNNER_PATH} if spec.debugger.adds_module else {}
    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as archive:
        pack_source_dir(spec.code.source_dir, archive, added)
        archive.flush()
        storage.put_file(spec.code.archive_uri, Path(archive.name))
