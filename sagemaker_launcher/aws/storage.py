"""Writing a job's files: to S3 for SageMaker jobs, to a local folder for local runs.

``put`` takes ``s3://`` or ``file://`` URIs, so writing the config channel does not care where a job
runs. boto3 is imported only when an S3 URI is used.
"""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sagemaker_launcher.aws.clients import aws_client

# Left out of SOURCE_DIR archives: caches and version control, never code the job needs.
_SKIPPED_NAMES = {"__pycache__", ".git", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def local_path(uri: str) -> Path:
    """``file:///a/b`` -> ``Path("/a/b")``."""
    return Path(urlparse(uri).path)


class JobStorage:
    """Puts bytes and local files under a job's prefix, in S3 or in a local folder."""

    def __init__(self, region: str | None = None) -> None:
        self._region = region
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("s3", self._region)
        return self._client

    def put(self, uri: str, data: bytes) -> None:
        """Write ``data`` at ``uri``."""
        if uri.startswith("s3://"):
            bucket, key = split_s3_uri(uri)
            self.client.put_object(Bucket=bucket, Key=key, Body=data)
            return
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def holds_objects(self, s3_prefix: str) -> bool:
        """Whether any object already lies under ``s3_prefix``."""
        bucket, key = split_s3_uri(s3_prefix)
        return bool(self.client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1).get("KeyCount"))

    def remove_prefix(self, s3_prefix: str) -> int:
        """Delete every object under ``s3_prefix`` and abort its unfinished multipart uploads.

        Returns how many objects were deleted. Only for a prefix this launch owns (checked empty first).
        """
        bucket, key = split_s3_uri(s3_prefix)
        removed = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key):
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
                removed += len(objects)
        uploads = self.client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
        for upload in uploads:
            self.client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        return removed

    def upload(self, source: Path, s3_prefix: str, label: str) -> None:
        """Upload a file or folder under ``s3_prefix``, with a progress bar over its bytes.

        Only SageMaker jobs upload: local runs read their channels where they are.
        """
        from tqdm import tqdm

        files = list(_files_below(source))
        total = sum(path.stat().st_size for path, _ in files)
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"upload {label}", disable=None) as bar:
            for path, relative in files:
                bucket, key = split_s3_uri(f"{s3_prefix}{relative}")
                self.client.upload_file(str(path), bucket, key, Callback=bar.update)


def _files_below(source: Path) -> Iterator[tuple[Path, str]]:
    if source.is_file():
        yield source, source.name
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            yield path, path.relative_to(source).as_posix()


def pack_source_dir(source_dir: Path) -> bytes:
    """A gzipped tar of the code folder, as SageMaker's script mode expects; caches are left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for root, directories, names in os.walk(source_dir):
            directories[:] = sorted(d for d in directories if d not in _SKIPPED_NAMES)
            for name in sorted(names):
                if name in _SKIPPED_NAMES or name.endswith(_SKIPPED_SUFFIXES):
                    continue
                path = Path(root, name)
                archive.add(path, arcname=path.relative_to(source_dir).as_posix())
    return buffer.getvalue()
