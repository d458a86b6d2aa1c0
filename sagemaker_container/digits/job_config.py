"""The job's training config: defaults, then the config channel's YAML (or ``--config-file``), then
the hyperparameters, merged by the launcher's own rules (``sagemaker_contract.merging``).

So a value the launcher would refuse before the job starts is refused here too, whichever way it
arrives: ``SOLVER.EPOCHS: 4.0`` is not a whole number, while a tuner's hyperparameter ``"4"`` is 4.
"""

from __future__ import annotations

from pathlib import Path

from yacs.config import CfgNode

from sagemaker_contract import errors, merging
from sagemaker_contract.names import CONFIG_CHANNEL, HYPERPARAMETERS_FILE, TRAINING_CONFIG_FILE
from sagemaker_contract.yaml_reading import read_mapping
from training_default_config import get_training_cfg_defaults, value_problems

from . import paths
from .job_errors import ConfigError

SCHEMA = merging.Schema("training_default_config.py")
# How messages name the hyperparameters' source.
HYPERPARAMETERS_SOURCE = Path(HYPERPARAMETERS_FILE).name


def load_training_config(config_file: Path | None = None) -> CfgNode:
    """The frozen config this job trains with."""
    cfg = get_training_cfg_defaults()
    channel_file = paths.channel_dir(CONFIG_CHANNEL) / TRAINING_CONFIG_FILE
    if channel_file.is_file():
        if config_file is not None:
            raise ConfigError(
                f"Both the config channel's {channel_file} and --config-file {config_file} are given; "
                "drop --config-file (the channel holds the launcher's resolved config)."
            )
        config_file = channel_file
    elif config_file is not None and not config_file.is_file():
        raise ConfigError(f"Training config file {config_file} does not exist.")
    try:
        if config_file is not None:
            merging.merge_mapping(cfg, read_mapping(config_file), str(config_file), SCHEMA)
        hyperparameters = paths.read_json(paths.hyperparameters_file())
        merging.merge_hyperparameters(cfg, hyperparameters, HYPERPARAMETERS_SOURCE, SCHEMA)
    except errors.ConfigError as error:
        raise ConfigError(str(error)) from None
    problems = value_problems(cfg)
    if problems:
        raise ConfigError(f"Training config key {problems[0]}.")
    cfg.freeze()
    return cfg
