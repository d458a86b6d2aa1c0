"""Unit tests of the pure text helpers: safe printing, one-line errors, durations, log stream names."""

from __future__ import annotations

import datetime as dt

import pytest

from sagemaker_launcher.aws.faults import one_line
from sagemaker_launcher.jobs.logs import host_of
from sagemaker_launcher.jobs.timing import duration_seconds, format_seconds, spot_savings
from sagemaker_launcher.terminal_text import printable, text_lines


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
        ("two\nlines", "two\\x0alines"),
        ("right-to-left \u202eevil", "right-to-left \\u202eevil"),
        ("accented é and 日本", "accented é and 日本"),
    ],
)
def test_printable_escapes_control_and_format_characters_only(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_text_lines_splits_at_newlines_only_and_drops_one_trailing_empty_line() -> None:
    assert text_lines("a\rb\nc\n") == ["a\rb", "c"]
    assert text_lines("") == [""]


def test_one_line_strips_markup_and_whitespace_and_cuts_long_text() -> None:
    assert one_line("<Error>\n  <Message>Access   denied</Message></Error>") == "Access denied"
    cut = one_line("x" * 500, limit=20)
    assert len(cut) == 20 and cut.endswith("...")


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, ""), (0, "0s"), (59.6, "1m00s"), (185, "3m05s"), (3720, "1h02m")]
)
def test_format_seconds(seconds: float | None, text: str) -> None:
    assert format_seconds(seconds) == text


def test_spot_savings_only_for_spot_jobs_with_both_times() -> None:
    spot = {"EnableManagedSpotTraining": True, "BillableTimeInSeconds": 30, "TrainingTimeInSeconds": 100}
    assert spot_savings(spot) == "70%"
    assert spot_savings({**spot, "EnableManagedSpotTraining": False}) is None
    assert spot_savings({**spot, "TrainingTimeInSeconds": 0}) is None
    assert spot_savings({**spot, "BillableTimeInSeconds": 150}) == "0%"


def test_duration_prefers_the_service_count_then_the_timestamps() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert duration_seconds({"TrainingTimeInSeconds": 42}) == 42.0
    ended = {"TrainingStartTime": start, "TrainingEndTime": start + dt.timedelta(minutes=2)}
    assert duration_seconds(ended) == 120.0
    assert duration_seconds({"TrainingStartTime": start, "TrainingJobStatus": "Failed"}) is None
    running = duration_seconds({"TrainingStartTime": start, "TrainingJobStatus": "InProgress"})
    assert running is not None and running > 0


def test_host_of_a_log_stream() -> None:
    assert host_of("job-1/algo-2-1700000000", "job-1") == "algo-2"
