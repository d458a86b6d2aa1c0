"""The dry run's cost bound: on-demand hourly price x INSTANCE_COUNT x MAX_RUN_SECONDS / 3600.

For a job, each point of a sweep and the sweep in total, or a tuning job's MAX_JOBS. A job stops by
MAX_RUN_SECONDS, so this is an upper bound; a spot job bills less than its on-demand bound. The
Price List questions run on background threads while the dry run builds its request, one per
instance type and region; where the Price List does not answer, the line says why instead
("no cost estimate: <reason>") and the dry run goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

from yacs.config import CfgNode

from sagemaker_launcher.aws.prices import HourlyPrice, NoPrice, training_price
from sagemaker_launcher.config.run_modes import is_local

SECONDS_PER_HOUR = 3600
# Longest wait for an answer, beyond the client's own connect and read timeouts (credentials included).
LOOKUP_DEADLINE_S = 10
_PREFIX = "no cost estimate: "


@dataclass(frozen=True)
class Estimate:
    """One job's bound, or the reason there is none (``amount`` is then None)."""

    instance_type: str
    region: str
    count: int
    hours: float
    spot: bool
    amount: float | None = None
    hourly: float | None = None
    currency: str = ""
    reason: str = ""

    def money(self, amount: float) -> str:
        return f"{self.currency} {amount:,.2f}"

    @property
    def basis(self) -> str:
        """How the bound is made: ``on-demand ml.g5.xlarge in us-east-1 at USD 1.408 an hour x 2 instances
        x 1 h (SAGEMAKER.MAX_RUN_SECONDS)``."""
        instances = f"{self.count} instance{'s' if self.count != 1 else ''}"
        return (
            f"on-demand {self.instance_type} in {self.region} at {self.currency} {self.hourly:g} an hour "
            f"x {instances} x {self.hours:.4g} h (SAGEMAKER.MAX_RUN_SECONDS)"
        )


class _Lookup(threading.Thread):
    """One Price List question, asked while the dry run does its own work."""

    def __init__(self, instance_type: str, region: str) -> None:
        super().__init__(name=f"price-{instance_type}", daemon=True)
        self.instance_type, self.region = instance_type, region
        self.answer: HourlyPrice | str | None = None

    def run(self) -> None:
        try:
            self.answer = training_price(self.instance_type, self.region)
        except NoPrice as error:
            self.answer = str(error)
        except Exception as error:  # the dry run goes on whatever the estimate meets
            self.answer = f"the price lookup failed ({type(error).__name__}: {error})"


class PriceLookups:
    """The Price List questions of some jobs' configs, started at once; ``estimate`` waits for one."""

    def __init__(self, configs: Sequence[CfgNode]) -> None:
        keys = {_key(cfg) for cfg in configs if not is_local(cfg.SAGEMAKER.INSTANCE_TYPE)}
        if keys:
            # Imported in this thread, before the SDK starts importing on its own (sagemaker_sdk.preload_sdk):
            # the lookups then import nothing while it does.
            import boto3  # noqa: F401
        self._lookups = {key: _Lookup(*key) for key in keys}
        for lookup in self._lookups.values():
            lookup.start()

    def estimate(self, cfg: CfgNode) -> Estimate:
        """The bound of a job with ``cfg``, once its price has come (or the reason it has not)."""
        sm = cfg.SAGEMAKER
        instance_type, region = _key(cfg)
        base = Estimate(
            instance_type,
            region,
            sm.INSTANCE_COUNT,
            sm.MAX_RUN_SECONDS / SECONDS_PER_HOUR,
            sm.USE_SPOT_INSTANCES,
        )
        if is_local(instance_type):
            return replace(
                base, reason=f"{instance_type} runs on this machine, which SageMaker does not bill"
            )
        lookup = self._lookups[(instance_type, region)]
        lookup.join(LOOKUP_DEADLINE_S)
        answer = lookup.answer
        if answer is None:
            return replace(base, reason=f"the AWS Price List did not answer within {LOOKUP_DEADLINE_S} s")
        if isinstance(answer, str):
            return replace(base, reason=answer)
        return replace(
            base,
            amount=answer.amount * base.count * base.hours,
            hourly=answer.amount,
            currency=answer.currency,
        )


def _key(cfg: CfgNode) -> tuple[str, str]:
    return cfg.SAGEMAKER.INSTANCE_TYPE, cfg.SAGEMAKER.REGION


def _spot_note(estimates: Sequence[Estimate]) -> str:
    if any(estimate.spot for estimate in estimates):
        return " Spot jobs bill less: this is their on-demand bound."
    return ""


def hold_lines(estimate: Estimate, hold_seconds: int) -> list[str]:
    """What DEBUGGER.HOLD_ON_FAILURE_SECONDS can add to a failed job: within the bound, as the hold never
    outlasts MAX_RUN_SECONDS, but beyond what the failure alone would have billed."""
    if not hold_seconds:
        return []
    hold = f"A failure keeps the job up to {hold_seconds} s longer (DEBUGGER.HOLD_ON_FAILURE_SECONDS)"
    if is_local(estimate.instance_type):
        return [f"{hold}, on this machine; quitting the debugger ends it."]
    if estimate.hourly is None:
        return [f"{hold}, on {estimate.count} x {estimate.instance_type}; quitting the debugger ends it."]
    extra = estimate.hourly * estimate.count * hold_seconds / SECONDS_PER_HOUR
    return [f"{hold}: at most {estimate.money(extra)} more, within the bound; quitting the debugger ends it."]


def job_lines(lookups: PriceLookups, cfg: CfgNode, jobs: int = 1) -> list[str]:
    """One job's bound in one line; with ``jobs`` above 1 (a tuning job's MAX_JOBS), all of theirs too;
    then what the hold on failure can add."""
    estimate = lookups.estimate(cfg)
    hold = hold_lines(estimate, cfg.DEBUGGER.HOLD_ON_FAILURE_SECONDS)
    if estimate.amount is None:
        return [_PREFIX + estimate.reason, *hold]
    bound = estimate.money(estimate.amount)
    if jobs == 1:
        text = (
            f"Cost estimate: at most {bound}, an upper bound: {estimate.basis}; a job bills only the time "
            "it runs."
        )
    else:
        text = (
            f"Cost estimate: at most {bound} per training job ({estimate.basis}) and at most "
            f"{estimate.money(estimate.amount * jobs)} for all {jobs} (SWEEP.MAX_JOBS), an upper bound."
        )
    return [text + _spot_note([estimate]), *hold]


def sweep_lines(lookups: PriceLookups, points: Sequence[tuple[str, CfgNode]]) -> list[str]:
    """Each point's bound (label, then bound) and the sweep's total; one line when none has a price."""
    estimates = [lookups.estimate(cfg) for _, cfg in points]
    reasons = {estimate.reason for estimate in estimates}
    if all(estimate.amount is None for estimate in estimates) and len(reasons) == 1:
        return [_PREFIX + reasons.pop()]
    lines = ["Cost estimate per job, an upper bound (on-demand price x count x SAGEMAKER.MAX_RUN_SECONDS):"]
    for index, ((label, _), estimate) in enumerate(zip(points, estimates, strict=True), 1):
        if estimate.amount is None:
            lines.append(f"  {index}. {label}: {_PREFIX}{estimate.reason}")
        else:
            lines.append(f"  {index}. {label}: at most {estimate.money(estimate.amount)} ({estimate.basis})")
    priced = [estimate for estimate in estimates if estimate.amount is not None]
    currencies = sorted({estimate.currency for estimate in priced})
    if len(priced) < len(estimates):
        lines.append(
            f"{_PREFIX}in total, since {len(estimates) - len(priced)} of the {len(estimates)} have none."
        )
    elif len(currencies) > 1:
        lines.append(f"{_PREFIX}in total, since the jobs are priced in {' and '.join(currencies)}.")
    else:
        total = sum(estimate.amount or 0.0 for estimate in priced)
        lines.append(
            f"Cost estimate in total: at most {priced[0].money(total)} for all {len(estimates)} jobs."
            + _spot_note(estimates)
        )
    return lines
