"""A full default training run of main.py: accuracy, outputs, metric lines, inference, overrides."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from support.container import REPO, final_weights, make_tree, read_metrics, run_job, write_digits_data

MIN_ACCURACY = 0.95
TIME_LIMIT_S = 60


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_data(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def default_run(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path
) -> tuple[Path, subprocess.CompletedProcess[str], float]:
    """One run with the default config and no config channel, as the launcher's defaults send it."""
    base = make_tree(
        tmp_path_factory.mktemp("opt_ml"), data_dir, hyperparameters={"sagemaker_program": "main.py"}
    )
    started = time.monotonic()
    completed = run_job(base)
    return base, completed, time.monotonic() - started


def test_default_config_reaches_accuracy_within_a_minute(default_run: tuple) -> None:
    base, completed, seconds = default_run
    assert completed.returncode == 0, completed.stderr
    metrics = read_metrics(base)
    assert metrics["final"]["validation:accuracy"] >= MIN_ACCURACY
    assert [record["epoch"] for record in metrics["epochs"]] == list(range(1, 16))
    assert metrics["final"] == metrics["epochs"][-1]
    assert seconds < TIME_LIMIT_S
    assert not (base / "output" / "failure").exists()


def test_model_dir_holds_what_inference_needs_and_nothing_else(default_run: tuple) -> None:
    base, _, _ = default_run
    model_dir = base / "model"
    files = sorted(str(path.relative_to(model_dir)) for path in model_dir.rglob("*") if path.is_file())
    assert files == [
        "code/digits_net.py",
        "code/inference.py",
        "labels.json",
        "model.pth",
        "training_config.yaml",
    ]
    import torch

    saved = torch.load(model_dir / "model.pth", weights_only=True)
    assert set(saved) == {"network_args", "state_dict"}
    assert json.loads((model_dir / "labels.json").read_text()) == [str(digit) for digit in range(10)]
    resolved = yaml.safe_load((model_dir / "training_config.yaml").read_text())
    assert resolved["SOLVER"]["EPOCHS"] == 15 and resolved["MODEL"]["CONV_CHANNELS"] == [32, 64]


def test_metric_definitions_match_the_real_log_lines(default_run: tuple) -> None:
    base, completed, _ = default_run
    # The digits experiment's configs declare the metric definitions, the same in both.
    [definitions, *others] = [
        yaml.safe_load((REPO / "configs" / name).read_text())["METRICS"]
        for name in ("local_process.yaml", "sagemaker_config.yaml")
    ]
    assert len(definitions) == 3 and all(other == definitions for other in others)
    metric_lines = [line for line in completed.stdout.splitlines() if line.startswith("[metric]")]
    assert len(metric_lines) == 15 * 3
    epochs = read_metrics(base)["epochs"]
    for name, regex in definitions.items():
        captured = [float(match) for match in re.findall(regex, completed.stdout)]
        assert captured == [round(record[name], 6) for record in epochs], name
    for line in metric_lines:
        assert sum(bool(re.search(regex, line)) for regex in definitions.values()) == 1, line


def test_exported_inference_code_predicts_validation_samples(default_run: tuple, data_dir: Path) -> None:
    base, _, _ = default_run
    code_dir = base / "model" / "code"
    # The serving container puts code/ on sys.path and imports inference.py from there.
    sys.path.insert(0, str(code_dir))
    try:
        spec = importlib.util.spec_from_file_location("exported_inference", code_dir / "inference.py")
        inference = importlib.util.module_from_spec(spec)
        sys.modules["exported_inference"] = inference
        spec.loader.exec_module(inference)
        with np.load(data_dir / "validation" / "digits.npz") as arrays:
            images, labels = arrays["images"][:40], arrays["labels"][:40]
        model = inference.model_fn(str(base / "model"))
        body = json.dumps({"instances": images.tolist()})
        response = json.loads(
            inference.output_fn(
                inference.predict_fn(inference.input_fn(body, "application/json"), model), "application/json"
            )
        )
        predicted = np.array([int(label) for label in response["predictions"]])
        assert np.mean(predicted == labels) >= 0.9
        assert np.allclose(np.sum(response["probabilities"], axis=1), 1.0, atol=1e-5)
        single = inference.input_fn(json.dumps(images[0].tolist()), "application/json")
        assert inference.predict_fn(single, model)["predictions"] == [response["predictions"][0]]
        with pytest.raises(ValueError, match="Unsupported content type"):
            inference.input_fn(body, "text/csv")
    finally:
        sys.path.remove(str(code_dir))
        sys.modules.pop("exported_inference", None)
        sys.modules.pop("digits_net", None)


def test_hyperparameters_override_the_config_channel(tmp_path: Path, data_dir: Path) -> None:
    channel_config = {"SOLVER": {"EPOCHS": 3, "BATCH_SIZE": 32}, "MODEL": {"HIDDEN_UNITS": 16}}
    hyperparameters = {
        "SOLVER.EPOCHS": 2,
        "MODEL.HIDDEN_UNITS": 24,
        "SOLVER.BASE_LR": 0.01,
        # A tuner's categorical value arrives as a plain string, not JSON.
        "SOLVER.OPTIMIZER": "sgd",
        "sagemaker_submit_directory": "/opt/ml/code",
    }
    base = make_tree(tmp_path, data_dir, hyperparameters=hyperparameters, training_config=channel_config)
    # The toolkit also passes hyperparameters as arguments; main.py must not trip over them.
    completed = run_job(base, "--SOLVER.EPOCHS", "7", "--sagemaker_submit_directory", "/opt/ml/code")
    assert completed.returncode == 0, completed.stderr
    resolved = yaml.safe_load((base / "model" / "training_config.yaml").read_text())
    assert resolved["SOLVER"]["EPOCHS"] == 2
    assert resolved["SOLVER"]["BATCH_SIZE"] == 32
    assert resolved["SOLVER"]["OPTIMIZER"] == "sgd"
    assert resolved["SOLVER"]["BASE_LR"] == 0.01
    assert resolved["MODEL"]["HIDDEN_UNITS"] == 24
    assert len(read_metrics(base)["epochs"]) == 2
    assert final_weights(base)["classifier.1.weight"].shape[0] == 24
