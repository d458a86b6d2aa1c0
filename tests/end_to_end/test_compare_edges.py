"""compare under hostile data: NaN metrics rank last and are null in JSON, a plot goes only where it can be
written and in a format it can be drawn in, and a METRICS regex that backtracks without end cannot hang it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import boto3
from support.aws import REGION
from support.commands import REPO_ROOT, run_cli

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


def local_run(runs: Path, name: str, accuracy: float, sweep: str = "sweep-1") -> Path:
    """A finished local run's folder, as the local executor leaves one, with its final accuracy."""
    folder = runs / "exp" / name
    (folder / "config").mkdir(parents=True)
    (folder / "config/record.json").write_text(json.dumps({"job_name": name, "experiment": "exp"}))
    tags = [
        {"Key": "sm-launcher:sweep", "Value": sweep},
        {"Key": "sm-launcher:sweep-objective", "Value": "maximize validation:accuracy"},
    ]
    request = {"ResourceConfig": {"InstanceType": "local_process", "InstanceCount": 1}, "Tags": tags}
    (folder / "config/request.json").write_text(json.dumps(request))
    (folder / "config/sagemaker_config.yaml").write_text(f"SOLVER_NOTE: {name}\n")
    (folder / "status.json").write_text(json.dumps({"status": "Completed", "training_seconds": 12}))
    data = folder / "hosts/algo-1/output/data"
    data.mkdir(parents=True)
    metrics = {
        "final": {"validation:accuracy": accuracy},
        "epochs": [{"epoch": 1, "validation:accuracy": accuracy}],
    }
    (data / "metrics.json").write_text(json.dumps(metrics))  # json writes NaN as NaN, as Python's json does
    return folder


def test_a_nan_run_ranks_last_and_is_null_in_json(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for name, accuracy in (("run-a", 0.91), ("run-nan", float("nan")), ("run-b", 0.95)):
        local_run(runs, name, accuracy)
    table = run_cli("compare", "--sweep", "sweep-1", "--runs-dir", str(runs)).output
    assert table.splitlines()[1].split()[1:] == ["run-b", "run-a", "run-nan"], table
    report = json.loads(run_cli("compare", "--sweep", "sweep-1", "--runs-dir", str(runs), "--json").stdout)
    assert [job["name"] for job in report["jobs"]] == ["run-b", "run-a", "run-nan"]
    assert report["jobs"][2]["final_metrics"]["validation:accuracy"] is None
    assert "NaN" not in run_cli("compare", "--sweep", "sweep-1", "--runs-dir", str(runs), "--json").stdout


def test_a_plot_in_a_format_it_cannot_draw_or_to_a_full_device_is_an_error(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first, second = local_run(runs, "run-a", 0.9), local_run(runs, "run-b", 0.8)
    refused = run_cli(
        "compare", str(first), str(second), "--plot", str(tmp_path / "curves.txt"), expect_exit=2
    )
    assert "ends in '.txt'; name a .png, .pdf, .svg file." in refused.output
    assert not (tmp_path / "curves.txt").exists()
    if Path("/dev/full").exists():
        device = tmp_path / "full.png"
        device.symlink_to("/dev/full")
        failed = run_cli("compare", str(first), str(second), "--plot", str(device), expect_exit=1).output
        assert f"Cannot write the plot to {device}: No space left on device" in failed
        assert "Traceback" not in failed
    drawn = run_cli("compare", str(first), str(second), "--plot", str(tmp_path / "curves.svg")).output
    assert (tmp_path / "curves.svg").read_text().startswith("<?xml") and "Plot:" in drawn


def test_a_regex_that_backtracks_without_end_cannot_hang_compare(aws: str, tmp_path: Path) -> None:
    config = str(REPO_ROOT / "configs/sagemaker_config.yaml")
    names = []
    for rate in ("0.01", "0.003"):
        output = run_cli("--config", config, "SOLVER.BASE_LR", rate, "METRICS.stuck", "(a+)+$").output
        names.append(re.search(r"Started training job (\S+)", output).group(1))
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=LOG_GROUP)
    stream = f"{names[0]}/algo-1-1700000000"
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
    now = int(time.time() * 1000)
    line = "a" * 40 + "!"  # (a+)+$ tries 2^40 ways to fail on it
    events: list[dict[str, Any]] = [{"timestamp": now, "message": line}]
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=events)
    started = time.monotonic()
    result = run_cli("compare", *names, "--json")
    assert time.monotonic() - started < 60
    assert "METRICS regexes took over 10 s" in result.stderr and "curves are left out" in result.stderr
    assert json.loads(result.stdout)["jobs"][0]["series"] == {}
