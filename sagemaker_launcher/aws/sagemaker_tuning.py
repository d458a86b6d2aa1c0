"""The SDK's hyperparameter tuner around the experiment's Estimator: a bayesian sweep's request.

Beside ``sagemaker_sdk``, whose session and Estimator it uses, so a tuning job's training jobs run
exactly as a launched job would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yacs.config import CfgNode

from sagemaker_launcher.aws.sagemaker_sdk import build_estimator, request_session
from sagemaker_launcher.launch.plan import JobPlan

_SCALING = {"linear": "Linear", "log": "Logarithmic"}


def create_tuning_job(
    cfg: CfgNode,
    plan: JobPlan,
    tuning: dict[str, Any],
    *,
    send: bool,
    before_send: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Build a hyperparameter tuning job around the same Estimator and return its request.

    ``tuning`` holds ``name``, ``metric``, ``goal``, ``max_jobs``, ``max_parallel`` and ``ranges``
    (hyperparameter -> a list of JSON-encoded values, or an object with ``low``, ``high``, ``scale``
    and ``integer``). As with a training job, the request is taken where the SDK sends it, so a dry
    run shows exactly what a launch would send; ``before_send`` sees it just before it goes out.
    """
    session = request_session(cfg, send=send, before_send=before_send)
    from sagemaker.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter
    from sagemaker.tuner import HyperparameterTuner

    estimator = build_estimator(cfg, plan, session, role=cfg.SAGEMAKER.ROLE_ARN, source_dir=plan.code_uri)
    ranges: dict[str, Any] = {}
    for name, spec in tuning["ranges"].items():
        if isinstance(spec, list):
            ranges[name] = CategoricalParameter(spec)
        elif spec.integer:
            ranges[name] = IntegerParameter(int(spec.low), int(spec.high), scaling_type=_SCALING[spec.scale])
        else:
            ranges[name] = ContinuousParameter(spec.low, spec.high, scaling_type=_SCALING[spec.scale])
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=tuning["metric"],
        hyperparameter_ranges=ranges,
        metric_definitions=[{"Name": name, "Regex": regex} for name, regex in cfg.METRICS.items()],
        strategy="Bayesian",
        objective_type=tuning["goal"].capitalize(),
        max_jobs=tuning["max_jobs"],
        max_parallel_jobs=tuning["max_parallel"],
        tags=plan.tags,
    )
    tuner.fit(inputs=plan.channels, job_name=tuning["name"], include_cls_metadata=False, wait=False)
    if session.request is None:
        raise RuntimeError("the SageMaker SDK built no CreateHyperParameterTuningJob request")
    return session.request
