"""The job's config loading and contract paths, in process: merges, decoding, refusals, overrides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.container import container_module, make_tree

job_config = container_module("digits.job_config")
paths = container_module("digits.paths")
merging = container_module("sagemaker_contract.merging")
ConfigError = container_module("digits.job_errors").ConfigError


@pytest.fixture
def base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SM_CHANNEL_CONFIG", "SM_MODEL_DIR", "SM_OUTPUT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("raw", "value", "text"),
    [
        ("0.003", 0.003, "0.003"),
        ("[32, 64]", [32, 64], "[32, 64]"),
        ('"adamw"', "adamw", "adamw"),
        ("adamw", "adamw", "adamw"),
        ("007", "007", "007"),
        ("0.010", 0.01, "0.010"),
        ("true", True, "true"),
    ],
)
def test_hyperparameters_decode_as_json_keeping_their_text(raw: str, value: object, text: str) -> None:
    decoded = merging.decode_hyperparameter(raw)
    assert (decoded.value, decoded.text) == (value, text)


def test_hyperparameters_apply_as_the_launcher_sends_them_and_skip_the_sdks_own() -> None:
    cfg = job_config.get_training_cfg_defaults()
    merging.merge_hyperparameters(
        cfg,
        {
            "SOLVER.BASE_LR": "1",
            "SOLVER.EPOCHS": "4",
            "MODEL.CONV_CHANNELS": "[8, 16, 32]",
            "SOLVER.OPTIMIZER": '"sgd"',
            "DATA.FILE_NAME": "0.010",
            "sagemaker_program": '"main.py"',
            "sagemaker_unknown_sdk_key": "1",
        },
        "hyperparameters.json",
        job_config.SCHEMA,
    )
    assert cfg.SOLVER.BASE_LR == 1.0 and isinstance(cfg.SOLVER.BASE_LR, float)
    assert cfg.SOLVER.EPOCHS == 4 and isinstance(cfg.SOLVER.EPOCHS, int)
    assert cfg.MODEL.CONV_CHANNELS == [8, 16, 32]
    assert (cfg.SOLVER.OPTIMIZER, cfg.DATA.FILE_NAME) == ("sgd", "0.010")


def test_config_channel_then_hyperparameters(base: Path) -> None:
    make_tree(
        base,
        None,
        hyperparameters={"SOLVER.BATCH_SIZE": 16},
        training_config={"SOLVER": {"BATCH_SIZE": 32, "BASE_LR": "3e-3"}, "SEED": 7},
    )
    cfg = job_config.load_training_config()
    assert (cfg.SOLVER.BATCH_SIZE, cfg.SOLVER.BASE_LR, cfg.SEED) == (16, 0.003, 7)
    assert cfg.is_frozen()


def test_config_file_by_hand_and_its_conflict_with_the_channel(
    base: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config_file = tmp_path_factory.mktemp("by_hand") / "mine.yaml"
    config_file.write_text("MODEL:\n  HIDDEN_UNITS: 32\n")
    assert job_config.load_training_config(config_file).MODEL.HIDDEN_UNITS == 32
    make_tree(base, None, training_config={"SEED": 1})
    with pytest.raises(ConfigError, match="drop --config-file"):
        job_config.load_training_config(config_file)


def test_unknown_yaml_key_and_bad_value_are_refused(base: Path) -> None:
    config_file = base / "bad.yaml"
    config_file.write_text("SOLVER:\n  LR: 0.1\n")
    with pytest.raises(ConfigError, match=re.escape(f"{config_file}: unknown key 'SOLVER.LR'.")):
        job_config.load_training_config(config_file)
    config_file.write_text("SOLVER:\n  OPTIMIZER: adam\n")
    with pytest.raises(ConfigError, match=re.escape("must be one of adamw, sgd, got 'adam'")):
        job_config.load_training_config(config_file)


def test_contract_paths_join_the_base_dir_and_honour_overrides(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paths.channel_dir("train") == base / "input" / "data" / "train"
    assert paths.model_dir() == base / "model"
    assert paths.output_data_dir() == base / "output" / "data"
    assert paths.failure_file() == base / "output" / "failure"
    assert paths.checkpoint_dir() == base / "checkpoints"
    monkeypatch.setenv("SM_CHANNEL_TRAIN", "/data/train")
    monkeypatch.setenv("SM_MODEL_DIR", "/m")
    assert paths.channel_dir("train") == Path("/data/train")
    assert paths.model_dir() == Path("/m")
    paths.checkpoint_config_file().parent.mkdir(parents=True)
    paths.checkpoint_config_file().write_text(json.dumps({"LocalPath": "/spot/ckpt", "S3Uri": "s3://b/p"}))
    assert paths.checkpoint_dir() == Path("/spot/ckpt")
    assert not (base / "model").exists()
