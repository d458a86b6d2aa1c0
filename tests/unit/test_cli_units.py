"""Unit tests of the command line's own value types."""

from __future__ import annotations

import click
import pytest

from sagemaker_launcher.cli.group import ByteSize


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1048576), ("2G", 2 * 1024**3), ("500m", 500 * 1024**2), ("1.5KB", 1536)]
)
def test_byte_sizes(text: str, size: int) -> None:
    assert ByteSize().convert(text, None, None) == size


@pytest.mark.parametrize("text", ["lots", "0", "-1G", "G"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(click.BadParameter):
        ByteSize().convert(text, None, None)
