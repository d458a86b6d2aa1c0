"""Unit tests of sweep planning and of compare's config diff and ranking."""

from __future__ import annotations

from sagemaker_launcher.jobs.compare import ComparedJob, differing_keys, flatten, rank
from sagemaker_launcher.jobs.metric_series import MetricSeries, local_series
from sagemaker_launcher.launch.sweeps import Sweep, override_pairs, plan_points
from sagemaker_launcher.spec.job import ParameterRange


def sweep(strategy: str, parameters: dict, max_jobs: int = 4) -> Sweep:
    return Sweep("s-1", strategy, parameters, "validation:accuracy", "maximize", max_jobs, 2, seed=7)


def test_a_grid_is_every_combination_in_order() -> None:
    points = plan_points(sweep("grid", {"A": [1, 2], "B": ["x", "y"]}))
    assert points == [{"A": 1, "B": "x"}, {"A": 1, "B": "y"}, {"A": 2, "B": "x"}, {"A": 2, "B": "y"}]


def test_random_draws_are_seeded_and_stay_in_their_range() -> None:
    parameters = {
        "LR": ParameterRange(1e-4, 1e-1, "log"),
        "LAYERS": ParameterRange(2, 5, "linear"),
        "OPT": ["sgd", "adamw"],
    }
    first = plan_points(sweep("random", parameters, max_jobs=30))
    assert first == plan_points(sweep("random", parameters, max_jobs=30))
    assert len(first) == 30
    assert all(1e-4 <= point["LR"] <= 1e-1 for point in first)
    assert {point["LAYERS"] for point in first} <= {2, 3, 4, 5}
    assert all(isinstance(point["LAYERS"], int) for point in first)
    assert {point["OPT"] for point in first} == {"sgd", "adamw"}


def test_override_pairs_write_values_as_the_command_line_would() -> None:
    assert override_pairs({"SOLVER.BASE_LR": 0.01, "SOLVER.OPTIMIZER": "sgd", "FLAG": True}) == [
        "SOLVER.BASE_LR",
        "0.01",
        "SOLVER.OPTIMIZER",
        "sgd",
        "FLAG",
        "true",
    ]


def job(name: str, values: dict, final: dict) -> ComparedJob:
    return ComparedJob(
        name, "local", "", "Completed", "local_process x1", None, None, None, values, final, MetricSeries()
    )


def test_only_differing_keys_are_listed_and_a_missing_key_differs() -> None:
    a = job("a", flatten({"SOLVER": {"BASE_LR": 0.01, "EPOCHS": 3}, "TAGS": {}}), {})
    b = job("b", flatten({"SOLVER": {"BASE_LR": 0.03, "EPOCHS": 3}, "TAGS": {}, "EXTRA": 1}), {})
    assert differing_keys([a, b]) == ["EXTRA", "SOLVER.BASE_LR"]


def test_rank_puts_the_best_first_and_jobs_without_the_metric_last() -> None:
    jobs = [job("low", {}, {"acc": 0.5}), job("none", {}, {}), job("high", {}, {"acc": 0.9})]
    assert [j.name for j in rank(jobs, "acc", "maximize")] == ["high", "low", "none"]
    assert [j.name for j in rank(jobs, "acc", "minimize")] == ["low", "high", "none"]


def test_local_series_reads_epochs_and_skips_what_is_not_a_finite_number() -> None:
    metrics = {"epochs": [{"epoch": 1, "loss": 1.5, "note": "x"}, {"epoch": 2, "loss": float("nan")}, "junk"]}
    series = local_series(metrics)
    assert series.points == {"loss": [(1.0, 1.5)]}
    assert series.x_unit == "epoch"
    assert local_series("not a dict").points == {}
