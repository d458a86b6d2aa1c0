"""Merging defaults, YAML files with ``_BASE_`` chains, and command-line overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support.commands import REPO_ROOT, write_yaml

from sagemaker_container.sagemaker_contract.merging import leaf_keys
from sagemaker_container.training_default_config import get_training_cfg_defaults
from sagemaker_default_config import get_sagemaker_cfg_defaults
from sagemaker_launcher.config.loading import load_configs
from sagemaker_launcher.errors import LauncherError


def test_example_config_merges_base_then_file_then_overrides() -> None:
    configs = load_configs(
        REPO_ROOT / "configs/sagemaker_config.yaml",
        ["SAGEMAKER.INSTANCE_COUNT", "2", "SOLVER.BASE_LR", "0.01", "MODEL.CONV_CHANNELS", "[8, 16]"],
    )
    sm, training = configs.sagemaker, configs.training
    assert sm.SAGEMAKER.ROLE_ARN == "arn:aws:iam::123456789012:role/SageMakerRole"  # from team_base.yaml
    assert sm.SAGEMAKER.BASE_JOB_NAME == "digits"  # from the experiment file
    assert sm.SAGEMAKER.INSTANCE_COUNT == 2  # from the command line
    assert training.SEED == 7  # from configs/training_config.yaml
    assert training.SOLVER.BASE_LR == 0.01
    assert training.MODEL.CONV_CHANNELS == [8, 16]
    assert training.SOLVER.WEIGHT_DECAY == get_training_cfg_defaults().SOLVER.WEIGHT_DECAY
    assert [p.name for p in configs.sagemaker_files] == ["team_base.yaml", "sagemaker_config.yaml"]
    assert sm.is_frozen() and training.is_frozen()


def test_defaults_are_not_mutated_by_a_merge() -> None:
    load_configs(None, ["SAGEMAKER.INSTANCE_COUNT", "5", "SOLVER.EPOCHS", "3"])
    assert get_sagemaker_cfg_defaults().SAGEMAKER.INSTANCE_COUNT == 1
    assert get_training_cfg_defaults().SOLVER.EPOCHS != 3


def test_the_two_configs_never_share_a_top_level_section() -> None:
    assert not set(get_sagemaker_cfg_defaults()) & set(get_training_cfg_defaults())


@pytest.mark.parametrize(
    "defaults_file", ["sagemaker_default_config.py", "sagemaker_container/training_default_config.py"]
)
def test_every_default_key_is_documented_by_a_comment_above_it(defaults_file: str) -> None:
    lines = (REPO_ROOT / defaults_file).read_text().splitlines()
    assignment = re.compile(r'^_C\.([A-Z_.]+)(?:\["[^"]+"\])?\s*=')
    undocumented = []
    for number, line in enumerate(lines):
        match = assignment.match(line)
        if not match:
            continue
        above = lines[number - 1]
        if not (above.startswith("#") or (assignment.match(above) and '["' in line)):
            undocumented.append(match.group(1))
    assert undocumented == []


def test_base_chain_resolves_relative_to_each_file(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    write_yaml(tmp_path / "shared/root.yaml", {"SAGEMAKER": {"VOLUME_SIZE_GB": 50, "REGION": "eu-west-1"}})
    write_yaml(tmp_path / "shared/middle.yaml", {"_BASE_": "root.yaml", "SAGEMAKER": {"VOLUME_SIZE_GB": 80}})
    child = write_yaml(tmp_path / "child.yaml", {"_BASE_": "shared/middle.yaml", "INPUTS": {"a": "s3://b/a"}})
    sm = load_configs(child).sagemaker
    assert sm.SAGEMAKER.VOLUME_SIZE_GB == 80
    assert sm.SAGEMAKER.REGION == "eu-west-1"
    assert dict(sm.INPUTS) == {"a": "s3://b/a"}


def test_base_cycle_is_refused(tmp_path: Path) -> None:
    write_yaml(tmp_path / "a.yaml", {"_BASE_": "b.yaml"})
    write_yaml(tmp_path / "b.yaml", {"_BASE_": "a.yaml"})
    with pytest.raises(LauncherError, match=r"loops back on itself .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_configs(tmp_path / "a.yaml")


def test_base_cannot_come_from_the_command_line() -> None:
    with pytest.raises(LauncherError, match="_BASE_' cannot be set on the command line"):
        load_configs(None, ["_BASE_", "x.yaml"])


def test_training_yaml_has_its_own_base(tmp_path: Path) -> None:
    write_yaml(tmp_path / "train_base.yaml", {"SOLVER": {"EPOCHS": 4, "BATCH_SIZE": 16}})
    write_yaml(tmp_path / "train.yaml", {"_BASE_": "train_base.yaml", "SOLVER": {"EPOCHS": 9}})
    config = write_yaml(tmp_path / "sm.yaml", {"TRAINING": {"CONFIG_FILE": str(tmp_path / "train.yaml")}})
    training = load_configs(config).training
    assert (training.SOLVER.EPOCHS, training.SOLVER.BATCH_SIZE) == (9, 16)


def test_unknown_key_names_file_and_suggests_the_closest(tmp_path: Path) -> None:
    config = write_yaml(tmp_path / "typo.yaml", {"SAGEMAKER": {"INSTANCE_CUONT": 2}})
    with pytest.raises(LauncherError) as raised:
        load_configs(config)
    message = raised.value.message
    assert str(config) in message
    assert "SAGEMAKER.INSTANCE_CUONT" in message
    assert "Did you mean 'SAGEMAKER.INSTANCE_COUNT'?" in message


def test_unknown_override_suggests_the_closest_key() -> None:
    with pytest.raises(LauncherError, match=r"'solver\.base_lrr'.*Did you mean 'SOLVER\.BASE_LR'"):
        load_configs(None, ["SOLVER.EPOCHS", "2", "solver.base_lrr", "1"])


def test_key_of_the_other_config_is_pointed_to_its_file(tmp_path: Path) -> None:
    config = write_yaml(tmp_path / "mixed.yaml", {"SOLVER": {"BASE_LR": 0.1}})
    with pytest.raises(LauncherError, match=r"belongs to the other config .*training_default_config\.py"):
        load_configs(config)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (["SAGEMAKER.INSTANCE_COUNT", "two"], "must be a whole number"),
        (["SAGEMAKER.USE_SPOT_INSTANCES", "maybe"], "must be true or false"),
        (["SOLVER.BASE_LR", "fast"], "must be a number"),
        (["MODEL.CONV_CHANNELS", "8"], "must be a list"),
        (["MODEL.CONV_CHANNELS", "[8, x]"], r"MODEL\.CONV_CHANNELS\[\]' must be a whole number"),
        (["SOLVER.EPOCHS"], "KEY VALUE pairs"),
        (["SOLVER", "1"], "is a section"),
    ],
)
def test_bad_override_values_are_named(override: list[str], expected: str) -> None:
    with pytest.raises(LauncherError, match=expected):
        load_configs(None, override)


def test_values_are_coerced_to_their_default_type(tmp_path: Path) -> None:
    config = write_yaml(
        tmp_path / "types.yaml",
        {"IMAGE": {"TAG": 2024}, "SAGEMAKER": {"ENVIRONMENT": {"DEBUG": True, "WORKERS": 4}}},
    )
    (tmp_path / "train.yaml").write_text("SOLVER:\n  BASE_LR: 1e-3\n  EPOCHS: 3\n")
    configs = load_configs(config, ["TRAINING.CONFIG_FILE", str(tmp_path / "train.yaml"), "IMAGE.TAG", "007"])
    assert configs.sagemaker.IMAGE.TAG == "007"
    assert dict(configs.sagemaker.SAGEMAKER.ENVIRONMENT) == {"DEBUG": "true", "WORKERS": "4"}
    assert configs.training.SOLVER.BASE_LR == 0.001


def test_python_object_tags_are_refused_without_running_them(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"SAGEMAKER:\n  BASE_JOB_NAME: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(LauncherError, match=r"evil\.yaml, line 2: .*python/object/apply:os\.system.*refused"):
        load_configs(evil)
    assert not marker.exists()


def test_python_config_files_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "experiment.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    with pytest.raises(LauncherError, match=r"is a Python file.*write the experiment as a YAML file"):
        load_configs(script)
    assert not marker.exists()


def test_missing_and_malformed_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(LauncherError, match=r"nope\.yaml .* does not exist"):
        load_configs(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("SAGEMAKER: [unclosed\n")
    with pytest.raises(LauncherError, match=r"broken\.yaml, line \d+: not valid YAML"):
        load_configs(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(LauncherError, match="must hold a mapping"):
        load_configs(listing)


def test_resolved_configs_load_on_their_own(tmp_path: Path) -> None:
    configs = load_configs(REPO_ROOT / "configs/sagemaker_config.yaml", ["SOLVER.EPOCHS", "3"])
    (tmp_path / "sm.yaml").write_text(configs.sagemaker.dump())
    (tmp_path / "train.yaml").write_text(configs.training.dump())
    reloaded = load_configs(tmp_path / "sm.yaml", ["TRAINING.CONFIG_FILE", str(tmp_path / "train.yaml")])
    assert reloaded.training == configs.training
    for key in leaf_keys(configs.sagemaker):
        if key != "TRAINING.CONFIG_FILE":
            assert _get(reloaded.sagemaker, key) == _get(configs.sagemaker, key), key
    assert yaml.safe_load(configs.training.dump())["SOLVER"]["EPOCHS"] == 3


def _get(node, dotted: str):
    for part in dotted.split("."):
        node = node[part]
    return node
