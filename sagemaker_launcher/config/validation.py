"""Every check made before anything touches AWS or starts a container.

``validate`` runs them in order and raises the first problem as one ``LauncherError`` naming the
config, the key and the value: where and as whom the job runs (``resource_checks``), what it is
given (``payload_checks``), the debugger (``debugger_checks``), and the training values' own rules.
Numeric limits and patterns of API fields come from the service model (``spec.service_model``).
"""

from __future__ import annotations

from sagemaker_launcher.config import debugger_checks, payload_checks, resource_checks
from sagemaker_launcher.config.contained import contained
from sagemaker_launcher.config.field_checks import FieldChecker
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.training_defaults import VALUE_RULES_FUNCTION
from sagemaker_launcher.errors import LauncherError


def validate(configs: ResolvedConfigs) -> None:
    """Raise ``LauncherError`` for the first problem found in the resolved configs."""
    job = FieldChecker(configs)
    resource_checks.check_resources(job)
    resource_checks.check_identity_and_storage(job)
    payload_checks.check_inputs(job)
    resource_checks.check_code(job)
    resource_checks.check_runs_dir(job)
    resource_checks.check_processes_per_host(job, configs)
    debugger_checks.check_debugger(job)
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
    source = configs.training_defaults.source
    with contained(f"{VALUE_RULES_FUNCTION}() of {source}", configs.sagemaker_source, "Fix that function."):
        problems = rules(configs.training)
    texts = isinstance(problems, list) and all(isinstance(problem, str) for problem in problems)
    if problems and not texts:
        raise LauncherError(
            f"{VALUE_RULES_FUNCTION}() of {source} returned {type(problems).__name__}; it must return a list "
            "of texts, one per problem ('KEY' must be ..., got X), or an empty list."
        )
    if problems:
        files = configs.training_files
        where = str(files[-1]) if files else f"the training defaults ({source})"
        raise LauncherError(
            f"{where}{' with command-line overrides' if configs.overrides else ''}: training config key "
            f"{problems[0]}. Allowed values are documented in {source}."
        )
