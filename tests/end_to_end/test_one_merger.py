"""One merger, one set of type rules: every case runs through the launcher and through the image's code.

The launcher merges a training YAML file (``TRAINING.CONFIG_FILE``) and ``KEY VALUE`` pairs from its
command line; the image merges the config channel's ``training_config.yaml`` and
``hyperparameters.json``, where SageMaker and its tuner put every value as a string. A case gives the
same config, or the same refusal, on both sides.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.container import CONTAINER_DIR, REPO, job_env, make_tree

from sagemaker_launcher.config.loading import load_configs
from sagemaker_launcher.config.validation import check_training_values
from sagemaker_launcher.errors import LauncherError

# The example's defaults lack a true/false key and a tuple key; the cases' copy has both.
EXTRA_DEFAULTS = """
# A true/false key.
_C.EXTRA = CN()
# Off by default.
_C.EXTRA.FLAG = False
# A tuple of whole numbers.
_C.EXTRA.SIZES = (1, 2)
"""
# The image's side: load the config as main.py does, print it or the refusal as JSON.
IMAGE_PROBE = """
import json
from digits.job_config import load_training_config
from digits.job_errors import ConfigError
try:
    print(json.dumps({"config": load_training_config()}))
except ConfigError as error:
    print(json.dumps({"refused": str(error)}))
"""


@dataclass(frozen=True)
class Case:
    """A training YAML file and ``KEY TEXT`` pairs, and the values they give or the refusal's words."""

    yaml: str = ""
    pairs: dict[str, str] = field(default_factory=dict)
    gives: dict[str, Any] = field(default_factory=dict)
    refused: str = ""


CASES = {
    # A training YAML file: the launcher's TRAINING.CONFIG_FILE, the image's config channel.
    "int": Case("SOLVER:\n  EPOCHS: 4\n", gives={"SOLVER.EPOCHS": 4}),
    "int given a float": Case(
        "SOLVER:\n  EPOCHS: 4.0\n",
        refused="'SOLVER.EPOCHS' must be a whole number (its default is 15), got 4.0",
    ),
    "int given quoted digits": Case(
        'SOLVER:\n  BATCH_SIZE: "64"\n',
        refused="'SOLVER.BATCH_SIZE' must be a whole number (its default is 64)",
    ),
    "int given null": Case(
        "SEED: null\n", refused="'SEED' must be a whole number (its default is 0), got None"
    ),
    "float given an int": Case("SOLVER:\n  BASE_LR: 1\n", gives={"SOLVER.BASE_LR": 1.0}),
    "float in YAML 1.1's text form": Case("SOLVER:\n  BASE_LR: 1e-3\n", gives={"SOLVER.BASE_LR": 0.001}),
    "float given words": Case("SOLVER:\n  BASE_LR: fast\n", refused="'SOLVER.BASE_LR' must be a number"),
    "text given a number": Case(
        "SOLVER:\n  OPTIMIZER: 1\n", refused="'SOLVER.OPTIMIZER' must be one of adamw, sgd, got '1'"
    ),
    "text kept as written": Case("DATA:\n  FILE_NAME: 1.10\n", gives={"DATA.FILE_NAME": "1.10"}),
    "bool": Case("EXTRA:\n  FLAG: true\n", gives={"EXTRA.FLAG": True}),
    "bool given quoted true": Case(
        'EXTRA:\n  FLAG: "true"\n',
        refused="'EXTRA.FLAG' must be true or false (its default is False), got 'true'",
    ),
    "list": Case("MODEL:\n  CONV_CHANNELS: [8, 16]\n", gives={"MODEL.CONV_CHANNELS": [8, 16]}),
    "list item of another type": Case(
        "MODEL:\n  CONV_CHANNELS: [8, 16.5]\n", refused="'MODEL.CONV_CHANNELS[]' must be a whole number"
    ),
    "list given one value": Case(
        "MODEL:\n  CONV_CHANNELS: 8\n", refused="'MODEL.CONV_CHANNELS' must be a list"
    ),
    "tuple given a list": Case("EXTRA:\n  SIZES: [3, 4, 5]\n", gives={"EXTRA.SIZES": [3, 4, 5]}),
    "unknown key": Case(
        "SOLVER:\n  EPOCH: 3\n", refused="unknown key 'SOLVER.EPOCH'. Did you mean 'SOLVER.EPOCHS'?"
    ),
    "section given a value": Case("SOLVER: 3\n", refused="'SOLVER' is a section"),
    "value outside its rule": Case(
        "SOLVER:\n  EPOCHS: 0\n", refused="'SOLVER.EPOCHS' must be at least 1, got 0"
    ),
    # KEY TEXT: the launcher's command line, the image's hyperparameters (as the tuner sends them).
    "tuner's int": Case(pairs={"SOLVER.EPOCHS": "4"}, gives={"SOLVER.EPOCHS": 4}),
    "tuner's float for an int": Case(
        pairs={"SOLVER.EPOCHS": "4.0"}, refused="'SOLVER.EPOCHS' must be a whole number (its default is 15)"
    ),
    "tuner's float": Case(pairs={"SOLVER.BASE_LR": "0.01"}, gives={"SOLVER.BASE_LR": 0.01}),
    "tuner's int for a float": Case(pairs={"SOLVER.BASE_LR": "1"}, gives={"SOLVER.BASE_LR": 1.0}),
    "tuner's text": Case(pairs={"SOLVER.OPTIMIZER": "sgd"}, gives={"SOLVER.OPTIMIZER": "sgd"}),
    "text that reads as a number": Case(pairs={"DATA.FILE_NAME": "0.010"}, gives={"DATA.FILE_NAME": "0.010"}),
    "tuner's bool": Case(pairs={"EXTRA.FLAG": "true"}, gives={"EXTRA.FLAG": True}),
    "bool given a number": Case(pairs={"EXTRA.FLAG": "1"}, refused="'EXTRA.FLAG' must be true or false"),
    "list as text": Case(pairs={"MODEL.CONV_CHANNELS": "[8, 16]"}, gives={"MODEL.CONV_CHANNELS": [8, 16]}),
    "list given one value as text": Case(
        pairs={"MODEL.CONV_CHANNELS": "8"}, refused="'MODEL.CONV_CHANNELS' must be a list"
    ),
    "unknown key as text": Case(
        pairs={"SOLVER.LRR": "0.1"}, refused="unknown key 'SOLVER.LRR'. Did you mean 'SOLVER.BASE_LR'?"
    ),
    "file then text": Case(
        "SOLVER:\n  EPOCHS: 9\n  BATCH_SIZE: 16\n",
        pairs={"SOLVER.EPOCHS": "3"},
        gives={"SOLVER.EPOCHS": 3, "SOLVER.BATCH_SIZE": 16},
    ),
}

# Either side's answer to a case: the resolved config as JSON data, or the refusal's message.
Outcome = tuple[dict[str, Any] | None, str]


@pytest.fixture(scope="module")
def code_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A code folder holding only the example's training defaults plus ``EXTRA_DEFAULTS``."""
    folder = tmp_path_factory.mktemp("code")
    defaults = (CONTAINER_DIR / "training_default_config.py").read_text()
    (folder / "training_default_config.py").write_text(defaults + EXTRA_DEFAULTS)
    return folder


def launcher_side(case: Case, code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    """``load_configs`` with the case's YAML as TRAINING.CONFIG_FILE and its pairs on the command line."""
    # The launcher imports training_default_config from the code folder: not the copy other tests imported.
    monkeypatch.delitem(sys.modules, "training_default_config", raising=False)
    experiment: dict[str, Any] = {"SAGEMAKER": {"SOURCE_DIR": str(code)}}
    if case.yaml:
        training_file = tmp_path / "training_config.yaml"
        training_file.write_text(case.yaml)
        experiment["TRAINING"] = {"CONFIG_FILE": str(training_file)}
    config = tmp_path / "experiment.yaml"
    config.write_text(yaml.safe_dump(experiment))
    try:
        configs = load_configs(config, [word for pair in case.pairs.items() for word in pair])
        check_training_values(configs)
    except LauncherError as error:
        return None, error.message
    return json.loads(json.dumps(configs.training)), ""


def image_side(case: Case, code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    """main.py's loading in its own process: the YAML in the config channel, the pairs as hyperparameters."""
    base = make_tree(
        tmp_path / "opt_ml", None, hyperparameters={**case.pairs, "sagemaker_program": '"main.py"'}
    )
    if case.yaml:
        channel = base / "input" / "data" / "config"
        channel.mkdir(parents=True)
        (channel / "training_config.yaml").write_text(case.yaml)
    # Run from the code folder, so its training defaults come first; the package from the source folder.
    env = job_env(base, PYTHONPATH=str(CONTAINER_DIR))
    done = subprocess.run(
        [sys.executable, "-c", IMAGE_PROBE], cwd=code, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    return answer.get("config"), answer.get("refused", "")


@pytest.mark.parametrize("side", [launcher_side, image_side], ids=["launcher", "image"])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_both_sides_merge_by_the_same_rules(
    side: Callable[..., Outcome],
    case: Case,
    code_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, refusal = side(case, code_folder, tmp_path, monkeypatch)
    if case.refused:
        assert config is None and case.refused in refusal, refusal
        return
    assert config is not None, refusal
    for key, expected in case.gives.items():
        value = config
        for part in key.split("."):
            value = value[part]
        assert (value, type(value)) == (expected, type(expected)), key


def test_both_sides_resolve_the_same_whole_config(
    code_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = Case(
        "SEED: 7\nSOLVER:\n  BASE_LR: 1e-3\nDATA:\n  FILE_NAME: '010'\nEXTRA:\n  SIZES: [5]\n",
        pairs={"SOLVER.EPOCHS": "3", "MODEL.CONV_CHANNELS": "[4, 8]", "EXTRA.FLAG": "true"},
    )
    (tmp_path / "launcher").mkdir()
    launcher, _ = launcher_side(case, code_folder, tmp_path / "launcher", monkeypatch)
    image, _ = image_side(case, code_folder, tmp_path, monkeypatch)
    assert launcher is not None and launcher == image


def test_the_launcher_merges_without_the_training_code_or_torch() -> None:
    check = (
        "import sys; from sagemaker_launcher.config.loading import load_configs; "
        "load_configs('configs/sagemaker_config.yaml', ['SOLVER.EPOCHS', '3']); "
        "assert not {'torch', 'digits'} & set(sys.modules), sorted(sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
