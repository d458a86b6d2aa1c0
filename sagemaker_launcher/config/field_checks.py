"""What every config check shares: the config at hand, one-paragraph failures, and the API's field limits.

Each check module (``resource_checks``, ``payload_checks``) takes a ``FieldChecker`` and raises the
``LauncherError`` it builds, which names the config file, the key and the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from yacs.config import CfgNode

from sagemaker_container.sagemaker_contract.yaml_reading import clipped, shown
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.spec import service_model

# S3's bucket naming rules (the SageMaker model has no shape for them).
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class FieldChecker:
    """One resolved SageMaker config, where it came from, and checks of single values against the API."""

    def __init__(self, configs: ResolvedConfigs) -> None:
        self.cfg: CfgNode = configs.sagemaker
        self.where = configs.sagemaker_source
        self.instance_type: str = self.cfg.SAGEMAKER.INSTANCE_TYPE

    def fail(self, key: str, value: object, problem: str) -> LauncherError:
        """The error for ``key = value``: ``<file>: KEY = 'value' <problem>``; a key holding control
        characters is shown escaped, so it cannot rewrite the terminal's line."""
        key = clipped(key if key.isprintable() else repr(key))
        return LauncherError(f"{self.where}: {key} = {shown(value)} {problem}")

    def at_least(self, key: str, value: int, least: int) -> None:
        """``value`` is ``least`` or more."""
        if value < least:
            raise self.fail(key, value, f"must be at least {least}.")

    def in_field(self, key: str, value: int, shape: str) -> None:
        """``value`` is within the numeric bounds of the API field ``shape``."""
        limits = service_model.field(shape)
        if limits.min is not None and value < limits.min:
            raise self.fail(key, value, f"must be at least {limits.min}.")
        if limits.max is not None and value > limits.max:
            raise self.fail(key, value, f"must be at most {limits.max}.")

    def text(self, key: str, value: str, limits: service_model.FieldLimits) -> None:
        """``value`` has the field's length and matches its pattern."""
        if not (limits.min or 0) <= len(value) <= (limits.max or len(value)) or not limits.matches(value):
            raise self.fail(
                key,
                value,
                f"does not fit the API's {limits.name} (length {limits.min}-{limits.max}, "
                f"pattern {limits.pattern}).",
            )

    def entries(
        self,
        key: str,
        entries: Mapping[str, str],
        size: str,
        key_shape: str,
        value_shape: str,
        reserved: int = 0,
    ) -> None:
        """A map (environment, tags) within its entry count, each name and value within its shape."""
        most = service_model.field(size).max - reserved
        if len(entries) > most:
            raise self.fail(key, sorted(entries), f"has {len(entries)} entries; at most {most} fit.")
        for name, value in entries.items():
            self.text(f"{key}.{name}", name, service_model.field(key_shape))
            self.text(f"{key}.{name}", value, service_model.field(value_shape))

    def kms(self, key: str, value: str) -> None:
        """An optional KMS key ID or ARN."""
        if value:
            self.text(key, value, service_model.field("KmsKeyId"))

    def s3_uri(self, key: str, uri: str) -> None:
        """``s3://bucket/...`` with a valid bucket name, within the API's length."""
        limits = service_model.field("S3Uri")
        bucket = uri[len("s3://") :].split("/", 1)[0]
        if len(uri) > limits.max or not BUCKET_NAME.fullmatch(bucket):
            raise self.fail(key, uri, "is not a valid S3 URI; write it as s3://bucket-name/prefix/.")
