"""Unit tests of the record's redaction of credential-like values."""

from __future__ import annotations

import pytest

from sagemaker_launcher.spec.redaction import REDACTED, is_secret_name, redact, redact_line


@pytest.mark.parametrize(
    "line",
    [
        "+aws_secret_access_key = wJalrXUtnFEMI/K7MDENG",
        '+    "api_key": "sk-live-123",',
        "+export PASSWORD=hunter2",
        "+url = https://user:pa55@example.com/repo",
        "+headers = {'Authorization': 'Bearer abc.def'}",
        "+key_id = AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_credential_values_are_blanked(line: str) -> None:
    redacted = redact_line(line)
    assert REDACTED in redacted
    for secret in ("wJalrXUtnFEMI", "sk-live-123", "hunter2", "pa55", "abc.def", "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in redacted


def test_ordinary_lines_are_kept() -> None:
    line = "+learning_rate = 0.01  # tokens per batch: 4096"
    assert redact_line(line) == line


@pytest.mark.parametrize(
    ("name", "secret"),
    [("aws_secret_access_key", True), ("apiKey", True), ("DB_PASSWORD", True), ("batch_size", False)],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_a_private_key_block_is_blanked_whole_and_counted() -> None:
    diff = "+-----BEGIN PRIVATE KEY-----\n+MIIEvQIBADANBg\n+-----END PRIVATE KEY-----\n context\n"
    result = redact(diff)
    assert "MIIEvQIBADANBg" not in result.text
    assert result.text.endswith(" context\n")
    assert result.lines == 3
