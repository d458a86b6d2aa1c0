"""Failures: user errors give their message alone, internal errors their type and innermost frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.container import container_module, make_tree, run_job, write_digits_data


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_data(tmp_path_factory.mktemp("digits"))


def test_unknown_hyperparameter_is_a_user_error(tmp_path: Path, data_dir: Path) -> None:
    base = make_tree(tmp_path, data_dir, hyperparameters={"SOLVER.BASE_LRR": 0.1})
    completed = run_job(base)
    assert completed.returncode == 1
    reason = (base / "output" / "failure").read_text()
    assert reason.startswith("ConfigError: hyperparameters.json: unknown key 'SOLVER.BASE_LRR'.")
    assert "Did you mean 'SOLVER.BASE_LR'?" in reason
    assert "Traceback" not in completed.stderr
    assert not (base / "model").exists()


def test_missing_data_channel_is_a_user_error(tmp_path: Path) -> None:
    base = make_tree(tmp_path, None)
    completed = run_job(base)
    assert completed.returncode == 1
    reason = (base / "output" / "failure").read_text()
    assert reason.startswith("DataError: Channel 'train' has no digits.npz")
    assert "scripts/make_digits_data.py" in reason


def test_internal_error_reports_type_and_innermost_frames(tmp_path: Path, data_dir: Path) -> None:
    base = make_tree(tmp_path, data_dir)
    # The checkpoint folder is a file: the job cannot list it.
    (base / "checkpoints").write_text("not a folder")
    completed = run_job(base)
    assert completed.returncode == 1
    reason = (base / "output" / "failure").read_text()
    assert reason.startswith("Internal error NotADirectoryError: ")
    assert "Innermost frames:" in reason
    assert "checkpoints.py:" in reason and "in list_checkpoints" in reason
    assert "Traceback (most recent call last)" in completed.stderr


def test_failure_reason_fits_sagemakers_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failure = container_module("digits.failure")
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))

    def explode() -> None:
        raise RuntimeError("x" * 5000)

    assert failure.run_guarded(explode) == 1
    reason = (tmp_path / "output" / "failure").read_text()
    assert len(reason) <= 1024
    assert reason.startswith("Internal error RuntimeError: xxx")
    assert "in explode: raise RuntimeError" in reason
