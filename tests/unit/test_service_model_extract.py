"""The service model's on-disk extract: the same answers as botocore's whole model, rebuilt when damaged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sagemaker_launcher.spec import service_model


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(service_model, "_CACHE_DIR", str(tmp_path))
    service_model._model.cache_clear()
    service_model.field.cache_clear()
    yield tmp_path
    service_model._model.cache_clear()
    service_model.field.cache_clear()


def test_the_extract_answers_as_the_whole_model_and_is_written_once(cache_dir: Path) -> None:
    whole = service_model._whole_model()
    for name in ("TrainingJobName", "TrainingInstanceType", "HyperParameterValue", "KmsKeyId", "S3Uri"):
        limits = service_model.field(name)
        assert (limits.min, limits.max, limits.pattern) == tuple(
            whole["shapes"][name].get(k) for k in ("min", "max", "pattern")
        )
    [written] = cache_dir.iterdir()
    extract = service_model._model()
    assert set(extract["operations"]) == set(service_model.CHECKED_OPERATIONS)
    assert len(extract["shapes"]) < len(whole["shapes"]) / 10
    request = {"TrainingJobName": "bad name!"}
    problems = service_model.request_problems("CreateTrainingJob", request)
    assert "RoleArn: is required" in problems
    assert any(line.startswith("TrainingJobName: 'bad name!' does not match") for line in problems)
    assert written.stat().st_size > 0


def test_a_damaged_extract_is_rebuilt_and_an_unreached_shape_comes_from_the_whole_model(
    cache_dir: Path,
) -> None:
    service_model._model()
    [written] = cache_dir.iterdir()
    written.write_text("[1, 2")
    service_model._model.cache_clear()
    assert service_model.field("TrainingJobName").max == 63
    assert written.read_text().startswith("{")
    assert service_model.field("EndpointName").max == 63, "a shape no checked operation reaches"
