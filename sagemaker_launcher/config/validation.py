"""Every check made before anything touches AWS or starts a container.

``validate`` runs them in order and raises the first problem as one ``LauncherError`` naming the
config, the key and the value: where and as whom the job runs (``resource_checks``), what it is
given (``payload_checks``), and the training values' own rules. Numeric limits and patterns of API
fields come from the service model (``service_limits``).
"""

from __future__ import annotations

from sagemaker_launcher.config import payload_checks, resource_checks
from sagemaker_launcher.config.field_checks import FieldChecker
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.errors import LauncherError


def validate(configs: ResolvedConfigs) -> None:
    """Raise ``LauncherError`` for the first problem found in the resolved configs."""
    job = FieldChecker(configs)
    resource_checks.check_resources(job)
    resource_checks.check_identity_and_storage(job)
    payload_checks.check_inputs(job)
    resource_checks.check_code(job)
    resource_checks.check_processes_per_host(job, configs)
    resource_checks.check_training_source(job, configs)
    payload_checks.check_maps(job)
    payload_checks.check_network(job)
    payload_checks.check_metrics_and_checkpoints(job)
    payload_checks.check_hyperparameters(job, configs)
    check_training_values(configs)


def check_training_values(configs: ResolvedConfigs) -> None:
    """Apply the training defaults' own value rules here, not after a 10-minute job start."""
    rules = configs.training_defaults.value_problems
    if configs.training is None or rules is None:
        return
    problems = rules(configs.training)
    if problems:
        files = configs.training_files
        source = configs.training_defaults.source
        where = str(files[-1]) if files else f"the training defaults ({source})"
        raise LauncherError(
            f"{where}{' with command-line overrides' if configs.overrides else ''}: training config key "
            f"{problems[0]}. Allowed values are documented in {source}."
        )
