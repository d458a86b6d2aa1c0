"""Unit tests of the names a job gets before any call: job names and hyperparameter values."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from sagemaker_launcher.spec.layout import (
    encode_hyperparameters,
    is_s3_uri,
    new_job_name,
    script_argument_value,
)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("10", 10),
        ("0.01", 0.01),
        ("-3", -3),
        ("1.10", "1.10"),  # a number would arrive as 1.1
        ("1e-3", "1e-3"),  # a number would arrive as 0.001
        ("010", "010"),
        ("true", "true"),  # a boolean would arrive as True
        ("gloo", "gloo"),
        ("[1, 2]", "[1, 2]"),
        ("", ""),
    ],
)
def test_a_script_argument_reaches_the_script_exactly_as_written(text: str, sent: object) -> None:
    value = script_argument_value(text)
    assert value == sent and type(value) is type(sent)
    # The toolkit JSON-decodes the hyperparameter and passes str() of it on the command line.
    assert str(json.loads(encode_hyperparameters({"x": value})["x"])) == text


def test_job_names_sort_by_time_and_differ_within_a_second() -> None:
    now = dt.datetime(2026, 12, 3, 15, 4, 5, tzinfo=dt.UTC)
    names = {new_job_name("digits", now) for _ in range(20)}
    assert len(names) >= 19  # 4 random hex digits: a collision among 20 has a 0.3% chance
    assert all(re.fullmatch(r"digits-20261203-150405-[0-9a-f]{4}", name) for name in names)


def test_is_s3_uri() -> None:
    assert is_s3_uri("s3://bucket/key")
    assert not is_s3_uri("data/s3://not-a-uri")
