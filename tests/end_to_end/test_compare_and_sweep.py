"""``compare`` and ``sweep`` end to end: real local runs of the digits example (two epochs each) and
SageMaker jobs on the loopback endpoint, with metrics put into its CloudWatch as SageMaker would."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.aws import BUCKET, REGION, s3_keys
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml

from sagemaker_container.sagemaker_contract.names import RECORD_FILE, SAGEMAKER_CONFIG_FILE
from sagemaker_launcher.jobs.local_runs import run_folders

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
RUN_TIMEOUT = 300
# The first colours of matplotlib's default cycle: the first, second and third job's line.
LINE_COLOURS = {"first": (0x1F, 0x77, 0xB4), "second": (0xFF, 0x7F, 0x0E), "third": (0x2C, 0xA0, 0x2C)}


def local_config(folder: Path, digits: Path, runs: Path, extra: dict[str, Any] | None = None) -> Path:
    """The local_process example, two epochs, with its channels and runs folder in ``folder``."""
    return write_yaml(
        folder / "experiment.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs/local_process.yaml"),
            "INPUTS": {"train": str(digits / "train"), "validation": str(digits / "validation")},
            "LOCAL": {"RUNS_DIR": str(runs)},
            **(extra or {}),
        },
    )


def run_launcher(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        python_command(*args),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, digits: Path) -> list[Path]:
    """Two finished local runs that differ only in SOLVER.BASE_LR."""
    folder = tmp_path_factory.mktemp("pair")
    config = local_config(folder, digits, folder / "runs")
    for rate in ("0.01", "0.001"):
        run_launcher("--config", str(config), "SOLVER.EPOCHS", "2", "SOLVER.BASE_LR", rate)
    runs = sorted(run_folders(folder / "runs"), key=lambda run: run.name)
    assert len(runs) == 2
    return runs


def compare_json(*args: str) -> dict[str, Any]:
    return json.loads(run_cli("compare", *args, "--json").stdout)


def colour_pixels(png: Path) -> dict[str, int]:
    """How many pixels of the PNG have each job's line colour."""
    import matplotlib.image

    pixels = (matplotlib.image.imread(png)[:, :, :3] * 255).round().astype(int)
    return {
        name: int(((abs(pixels - colour) <= 2).all(axis=2)).sum()) for name, colour in LINE_COLOURS.items()
    }


def test_two_local_runs_differ_in_exactly_base_lr_and_plot_one_curve_each(two_runs: list[Path]) -> None:
    runs_dir = two_runs[0].parent.parent
    png = runs_dir.parent / "comparison.png"
    # One by folder, one by its job name under --runs-dir.
    report = compare_json(str(two_runs[0]), two_runs[1].name, "--runs-dir", str(runs_dir), "--plot", str(png))

    rates = {
        json.loads((run / "config/request.json").read_text())["HyperParameters"]["SOLVER.BASE_LR"]
        for run in two_runs
    }
    assert list(report["differing_keys"]) == ["SOLVER.BASE_LR"]
    assert {str(value) for value in report["differing_keys"]["SOLVER.BASE_LR"]} == rates
    for job in report["jobs"]:
        assert job["where"] == "local" and job["status"] == "Completed"
        assert job["trained_seconds"] > 0
        assert [x for x, _ in job["series"]["validation:accuracy"]] == [1, 2]
        assert job["final_metrics"]["validation:accuracy"] == job["series"]["validation:accuracy"][-1][1]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    counts = colour_pixels(png)
    assert counts["first"] > 500 and counts["second"] > 500 and counts["third"] == 0, counts

    table = run_cli("compare", *(str(run) for run in two_runs)).stdout
    assert re.search(r"^SOLVER\.BASE_LR\s+0\.01\s+0\.001$", table, re.MULTILINE), table
    assert "SOLVER.EPOCHS" not in table


def test_compare_refuses_fewer_than_two_jobs_and_a_missing_plot_folder(two_runs: list[Path]) -> None:
    assert "at least two jobs" in run_cli("compare", str(two_runs[0]), expect_exit=2).output
    missing = two_runs[0] / "no-such-folder" / "plot.png"
    result = run_cli("compare", *(str(run) for run in two_runs), "--plot", str(missing), expect_exit=1)
    assert "Cannot write the plot" in result.output


def test_grid_sweep_runs_four_recorded_local_jobs_and_compare_ranks_them(
    tmp_path: Path, digits: Path
) -> None:
    runs = tmp_path / "runs"
    sweep = {
        "SWEEP": {
            "PARAMETERS": {"SOLVER.BASE_LR": [0.01, 0.001], "SEED": [1, 2]},
            "OBJECTIVE": {"METRIC": "validation:accuracy", "GOAL": "maximize"},
        }
    }
    config = local_config(tmp_path, digits, runs, sweep)

    refused = run_cli("--config", str(config), expect_exit=1).output
    assert "has a SWEEP section" in refused and "sweep --config" in refused
    assert not runs.exists()

    planned = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)
    assert len(planned["points"]) == 4 and not runs.exists()

    done = run_launcher("sweep", "--config", str(config), "SOLVER.EPOCHS", "2")
    sweep_id = re.search(r"compare --sweep (\S+)", done.stdout).group(1)
    folders = list(run_folders(runs))
    assert len(folders) == 4
    points = set()
    for folder in folders:
        record = json.loads((folder / "config" / RECORD_FILE).read_text())
        assert "run_sagemaker_job.py sweep --config" in record["command_line"]
        resolved = (folder / "config" / SAGEMAKER_CONFIG_FILE).read_text()
        assert "PARAMETERS: {}" in resolved and f"sm-launcher:sweep: {sweep_id}" in resolved
        hyperparameters = json.loads((folder / "config/request.json").read_text())["HyperParameters"]
        points.add((hyperparameters["SOLVER.BASE_LR"], hyperparameters["SEED"]))
    assert points == {("0.01", "1"), ("0.01", "2"), ("0.001", "1"), ("0.001", "2")}

    report = compare_json("--sweep", sweep_id, "--runs-dir", str(runs))
    assert report["ranked_by"] == {"metric": "validation:accuracy", "goal": "maximize"}
    assert sorted(report["differing_keys"]) == ["SEED", "SOLVER.BASE_LR"]
    accuracies = [job["final_metrics"]["validation:accuracy"] for job in report["jobs"]]
    assert len(accuracies) == 4 and accuracies == sorted(accuracies, reverse=True)


def test_sweep_section_problems_are_named(tmp_path: Path) -> None:
    cases = [
        ({"PARAMETERS": {"SOLVER.BASE_LR": {"MIN": 0.001, "MAX": 0.1}}}, "a range, which a grid cannot"),
        ({"PARAMETERS": {"SOLVER.BASE_LR": [0.1, 0.2, 0.3]}, "MAX_JOBS": 2}, "the grid has 3 points"),
        ({"PARAMETERS": {"SOLVER.BASE_LR": [0.1]}, "STRATEGY": "annealing"}, "SWEEP.STRATEGY is 'annealing'"),
        ({"PARAMETERS": {"SOLVER.BASE_LR": [[0.1]]}}, "takes a list of values"),
        ({"PARAMETERS": {"SOLVER.BASE_LR": {"MIN": 1, "MAX": 0}}, "STRATEGY": "random"}, "a range is {MIN"),
        ({"PARAMETERS": {"SOLVER.NO_SUCH_KEY": [1]}}, "unknown key 'SOLVER.NO_SUCH_KEY'"),
    ]
    for index, (section, message) in enumerate(cases):
        section.setdefault("OBJECTIVE", {"METRIC": "validation:accuracy"})
        config = write_yaml(
            tmp_path / f"sweep{index}.yaml",
            {"_BASE_": str(REPO_ROOT / "configs/sagemaker_config.yaml"), "SWEEP": section},
        )
        assert message in run_cli("sweep", "--config", str(config), "--dry-run", expect_exit=1).output


def test_random_sweep_draws_seeded_points_within_the_range(tmp_path: Path) -> None:
    section = {
        "STRATEGY": "random",
        "MAX_JOBS": 5,
        "PARAMETERS": {
            "SOLVER.BASE_LR": {"MIN": 0.0001, "MAX": 0.1, "SCALE": "log"},
            "SEED": {"MIN": 1, "MAX": 9},
        },
        "OBJECTIVE": {"METRIC": "validation:loss", "GOAL": "minimize"},
    }
    config = write_yaml(
        tmp_path / "random.yaml",
        {"_BASE_": str(REPO_ROOT / "configs/sagemaker_config.yaml"), "SWEEP": section},
    )
    first = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)["points"]
    again = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)["points"]
    assert first == again and len(first) == 5
    assert all(0.0001 <= point["SOLVER.BASE_LR"] <= 0.1 and point["SEED"] in range(1, 10) for point in first)


# ---------------------------------------------------------------------------------------------- #
# SageMaker jobs on the loopback endpoint
# ---------------------------------------------------------------------------------------------- #
def sagemaker_config(tmp_path: Path, extra: dict[str, Any] | None = None) -> Path:
    return write_yaml(
        tmp_path / "sagemaker.yaml",
        {
            "_BASE_": str(REPO_ROOT / "configs/sagemaker_config.yaml"),
            "S3": {"EXPERIMENT_NAME": "cmp"},
            **(extra or {}),
        },
    )


def put_metrics(job: str, name: str, values: list[float]) -> None:
    """Values as SageMaker publishes a job's metric, a second apart."""
    start = dt.datetime.now(dt.UTC)
    boto3.client("cloudwatch", region_name=REGION).put_metric_data(
        Namespace=LOG_GROUP,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "Host", "Value": f"{job}/algo-1"}],
                "Timestamp": start + dt.timedelta(seconds=index),
                "Value": value,
            }
            for index, value in enumerate(values)
        ],
    )


def test_sagemaker_job_with_cloudwatch_metrics_compares_with_a_local_run(
    aws: str, tmp_path: Path, two_runs: list[Path], end_job: Any
) -> None:
    output = run_cli("--config", str(sagemaker_config(tmp_path)), "SOLVER.BASE_LR", "0.01").output
    job = re.search(r"Started training job (\S+)", output).group(1)
    end_job(job)
    put_metrics(job, "validation:accuracy", [0.5, 0.8, 0.9])

    report = compare_json(job, str(two_runs[0]), "--plot", str(tmp_path / "mixed.png"))
    remote, local = report["jobs"]
    assert remote["where"] == "SageMaker" and remote["status"] == "Completed"
    assert remote["series_source"] == "CloudWatch"
    assert remote["series"]["validation:accuracy"] == [[1.0, 0.5], [2.0, 0.8], [3.0, 0.9]]
    assert remote["final_metrics"]["validation:accuracy"] == 0.9
    assert local["where"] == "local" and local["series_source"] == "metrics.json"
    assert report["differing_keys"]["SAGEMAKER.INSTANCE_TYPE"] == ["ml.g5.xlarge", "local_process"]
    assert "SOLVER.EPOCHS" in report["differing_keys"] and "SOLVER.BASE_LR" not in report["differing_keys"]
    counts = colour_pixels(tmp_path / "mixed.png")
    assert counts["first"] > 100 and counts["second"] > 100 and counts["third"] == 0, counts


def test_log_lines_give_the_curve_when_cloudwatch_has_none(aws: str, tmp_path: Path) -> None:
    names = []
    for rate in ("0.01", "0.003"):
        output = run_cli("--config", str(sagemaker_config(tmp_path)), "SOLVER.BASE_LR", rate).output
        names.append(re.search(r"Started training job (\S+)", output).group(1))
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    stream = f"{names[0]}/algo-1-1700000000"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    lines = [
        "[metric] validation:accuracy=0.700000 epoch=1",
        "noise",
        "[metric] validation:accuracy=0.950000 epoch=2",
    ]
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=stream,
        logEvents=[{"timestamp": now + index, "message": line} for index, line in enumerate(lines)],
    )
    report = compare_json(*names)
    assert list(report["differing_keys"]) == ["SOLVER.BASE_LR"]
    first, second = report["jobs"]
    assert first["series_source"] == "log lines"
    assert first["series"]["validation:accuracy"] == [[1.0, 0.7], [2.0, 0.95]]
    assert "validation:accuracy" not in second["series"]
    assert "validation:accuracy" not in second["final_metrics"]


def test_sagemaker_grid_sweep_launches_every_point_and_list_finds_them(aws: str, tmp_path: Path) -> None:
    sweep = {
        "SWEEP": {
            "PARAMETERS": {"SOLVER.BASE_LR": [0.01, 0.003, 0.001]},
            "OBJECTIVE": {"METRIC": "validation:accuracy"},
            "MAX_PARALLEL": 2,
        }
    }
    output = run_cli(
        "sweep", "--config", str(sagemaker_config(tmp_path, sweep)), "--poll-seconds", "0.1"
    ).output
    sweep_id = re.search(r"list --sweep (\S+)", output).group(1)
    started = re.findall(r"started (\S+)", output)
    assert len(started) == 3

    listed = run_cli("list", "--sweep", sweep_id).output
    assert sorted(re.findall(r"^(\S+)\s", listed, re.MULTILINE)[1:]) == sorted(started)
    for job in started:
        put_metrics(job, "validation:accuracy", [0.5, 0.6 + 0.1 * started.index(job)])
    report = compare_json("--sweep", sweep_id)
    assert [job["name"] for job in report["jobs"]] == started[::-1]


def test_bayesian_sweep_dry_run_is_the_tuning_request_and_launch_creates_it(aws: str, tmp_path: Path) -> None:
    sweep = {
        "SWEEP": {
            "STRATEGY": "bayesian",
            "PARAMETERS": {
                "SOLVER.BASE_LR": {"MIN": 0.0001, "MAX": 0.1, "SCALE": "log"},
                "SOLVER.OPTIMIZER": ["adamw", "sgd"],
            },
            "OBJECTIVE": {"METRIC": "validation:accuracy", "GOAL": "maximize"},
            "MAX_JOBS": 6,
            "MAX_PARALLEL": 2,
        }
    }
    config = sagemaker_config(tmp_path, sweep)
    request = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)
    assert s3_keys() == []
    tuning = request["HyperParameterTuningJobConfig"]
    assert tuning["Strategy"] == "Bayesian"
    assert tuning["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:accuracy",
    }
    assert tuning["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2}
    [continuous] = tuning["ParameterRanges"]["ContinuousParameterRanges"]
    assert continuous == {
        "Name": "SOLVER.BASE_LR",
        "MinValue": "0.0001",
        "MaxValue": "0.1",
        "ScalingType": "Logarithmic",
    }
    [categorical] = tuning["ParameterRanges"]["CategoricalParameterRanges"]
    assert categorical == {"Name": "SOLVER.OPTIMIZER", "Values": ['"adamw"', '"sgd"']}
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert "SOLVER.BASE_LR" not in static and static["SOLVER.EPOCHS"] == "15"

    output = run_cli("sweep", "--config", str(config)).output
    name = re.search(r"Started tuning job (\S+):", output).group(1)
    described = boto3.client("sagemaker", region_name=REGION).describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    assert described["HyperParameterTuningJobConfig"]["Strategy"] == "Bayesian"
    assert f"cmp/{name}/config/record.json" in s3_keys(BUCKET)


def test_bayesian_sweep_refuses_keys_the_tuner_cannot_vary(aws: str, tmp_path: Path) -> None:
    sweep = {
        "SWEEP": {
            "STRATEGY": "bayesian",
            "PARAMETERS": {"SAGEMAKER.VOLUME_SIZE_GB": [30, 60]},
            "OBJECTIVE": {"METRIC": "validation:accuracy"},
        }
    }
    output = run_cli(
        "sweep", "--config", str(sagemaker_config(tmp_path, sweep)), "--dry-run", expect_exit=1
    ).output
    assert "is not sent as a hyperparameter" in output
