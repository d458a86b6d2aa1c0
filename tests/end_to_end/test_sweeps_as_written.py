"""Sweeps run what the file says: each point's value reaches its job exactly as the same ``KEY: value``
would, a key given twice is refused in every file, ranges take numbers in exponent form and refuse
infinities, local and ml.* points never mix, sizes are bounded and refused at once, and a sweep that
stops early (a failed launch, Ctrl-C) names the jobs it started and the points it did not.

The files are written as text, not through ``yaml.safe_dump``, so their values are exactly as a user
types them (``1.10``, ``010``, ``on``, ``1e-5``). SageMaker jobs go to the loopback endpoint (through the
dialect's fault proxy for the failure and Ctrl-C cases); local sweeps run a tiny script of their own.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.aws import aws_environment, s3_keys, training_jobs
from support.aws_dialect import AwsDialect, Faults, faulty_endpoint
from support.commands import REPO_ROOT, python_command, run_cli

EXAMPLE = REPO_ROOT / "configs/sagemaker_config.yaml"
TRAINING_EXAMPLE = REPO_ROOT / "configs/training_config.yaml"
OBJECTIVE = "  OBJECTIVE: {METRIC: 'validation:accuracy'}\n"
# A tiny entry point: "fail" exits 3, "quick..." ends at once, anything else sleeps until it is stopped.
SCRIPT = """import sys, time
mode = sys.argv[sys.argv.index("--mode") + 1]
print("point-started", mode, flush=True)
if mode == "fail":
    sys.exit(3)
time.sleep(0 if mode.startswith("quick") else 120)
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sweep_file(folder: Path, sweep: str, base: Path = EXAMPLE, extra: str = "") -> Path:
    """An experiment over ``base`` with ``sweep`` (the SWEEP section's indented lines) as written."""
    return write(
        folder / "sweep.yaml",
        f"_BASE_: {base}\nS3:\n  EXPERIMENT_NAME: as-written\n{extra}SWEEP:\n{sweep}{OBJECTIVE}",
    )


def own_hyperparameters(request: dict[str, Any]) -> dict[str, str]:
    return {
        key: value for key, value in request["HyperParameters"].items() if not key.startswith("sagemaker_")
    }


def dry_run_points(config: Path) -> list[dict[str, Any]]:
    return json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)["points"]


def refusal(*args: str) -> str:
    """The one-paragraph error of a command that must fail."""
    output = run_cli(*args, expect_exit=1).output
    assert "Traceback" not in output
    return " ".join(output.split())


# ---------------------------------------------------------------------------------------------- #
# 1. A point is a YAML value, set as the file writes it
# ---------------------------------------------------------------------------------------------- #
def tiny_code(folder: Path) -> Path:
    code = folder / "code"
    code.mkdir(exist_ok=True)
    write(code / "train.py", SCRIPT)
    return code


def tiny_config(folder: Path, instance_type: str, body: str, name: str = "tiny.yaml") -> Path:
    """The tiny script's job (its own arguments, no training config), its runs under ``folder``/runs."""
    return write(
        folder / name,
        f"_BASE_: {REPO_ROOT / 'configs/team_base.yaml'}\n"
        f"SAGEMAKER:\n  INSTANCE_TYPE: {instance_type}\n  BASE_JOB_NAME: tiny\n"
        f"  SOURCE_DIR: {tiny_code(folder)}\n  ENTRY_POINT: train.py\n"
        f"S3:\n  EXPERIMENT_NAME: tiny\nTRAINING:\n  DEFAULTS: ''\n"
        f"LOCAL:\n  RUNS_DIR: {folder / 'runs'}\n{body}",
    )


def tiny_sweep(folder: Path, parameters: str, instance_type: str = "local_process") -> Path:
    """A sweep of the tiny script over ``parameters`` (the PARAMETERS section's lines as written)."""
    sweep = f"SWEEP:\n  PARAMETERS:\n{parameters}  OBJECTIVE: {{METRIC: loss}}\n"
    return tiny_config(folder, instance_type, sweep)


def test_text_keys_and_script_arguments_keep_their_text_and_flags_get_yaml_values(
    aws: str, tmp_path: Path
) -> None:
    config = tiny_sweep(
        tmp_path,
        "    IMAGE.TAG: [1.10, 010]\n"
        "    HYPERPARAMETERS.lr: [0.050]\n"
        "    HYPERPARAMETERS.mode: [on]\n"
        "    NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC: [on]\n",
        "ml.m5.large",
    )
    written = {"HYPERPARAMETERS.lr": "0.050", "HYPERPARAMETERS.mode": "on"}
    written["NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC"] = "on"
    assert dry_run_points(config) == [{"IMAGE.TAG": "1.10", **written}, {"IMAGE.TAG": "010", **written}]

    output = run_cli("sweep", "--config", str(config)).output
    assert "1. IMAGE.TAG=1.10 HYPERPARAMETERS.lr=0.050 HYPERPARAMETERS.mode=on" in output
    assert "2. IMAGE.TAG=010 " in output
    jobs = {job["AlgorithmSpecification"]["TrainingImage"].rsplit(":", 1)[1]: job for job in training_jobs()}
    assert sorted(jobs) == ["010", "1.10"]
    for tag, job in jobs.items():
        # The same values written as plain keys of one file.
        plain = tiny_config(
            tmp_path,
            "ml.m5.large",
            f"IMAGE:\n  TAG: {tag}\nHYPERPARAMETERS:\n  lr: 0.050\n  mode: on\n"
            "NETWORK:\n  ENCRYPT_INTER_CONTAINER_TRAFFIC: on\n",
            f"plain-{tag}.yaml",
        )
        request = json.loads(run_cli("--config", str(plain), "--dry-run").stdout)
        image = job["AlgorithmSpecification"]["TrainingImage"]
        assert image == request["AlgorithmSpecification"]["TrainingImage"] and image.endswith(f":{tag}")
        assert job["EnableInterContainerTrafficEncryption"] is True
        assert request["EnableInterContainerTrafficEncryption"] is True
        assert own_hyperparameters(job) == own_hyperparameters(request) == {"lr": '"0.050"', "mode": '"on"'}


def test_training_keys_get_the_value_a_training_yaml_would_give(aws: str, tmp_path: Path) -> None:
    config = sweep_file(
        tmp_path, "  PARAMETERS:\n    SOLVER.BASE_LR: [0.050, 1e-3]\n    SOLVER.OPTIMIZER: [sgd]\n"
    )
    assert dry_run_points(config) == [
        {"SOLVER.BASE_LR": "0.050", "SOLVER.OPTIMIZER": "sgd"},
        {"SOLVER.BASE_LR": "1e-3", "SOLVER.OPTIMIZER": "sgd"},
    ]
    run_cli("sweep", "--config", str(config))
    jobs = {job["HyperParameters"]["SOLVER.BASE_LR"]: job for job in training_jobs()}
    assert sorted(jobs) == ["0.001", "0.05"]
    for rate, job in zip(("0.050", "1e-3"), (jobs["0.05"], jobs["0.001"]), strict=True):
        training = write(
            tmp_path / "training.yaml",
            f"_BASE_: {TRAINING_EXAMPLE}\nSOLVER:\n  BASE_LR: {rate}\n  OPTIMIZER: sgd\n",
        )
        plain = write(
            tmp_path / "plain.yaml",
            f"_BASE_: {EXAMPLE}\nS3:\n  EXPERIMENT_NAME: as-written\nTRAINING:\n  CONFIG_FILE: {training}\n",
        )
        request = json.loads(run_cli("--config", str(plain), "--dry-run").stdout)
        # Every hyperparameter alike, the SDK's own (which name each job's code location) aside.
        assert own_hyperparameters(job) == own_hyperparameters(request)
        assert job["HyperParameters"]["SOLVER.OPTIMIZER"] == '"sgd"'


def test_a_quoted_number_is_refused_by_a_whole_number_key_as_a_plain_file_refuses_it(tmp_path: Path) -> None:
    config = sweep_file(tmp_path, "  PARAMETERS:\n    SAGEMAKER.INSTANCE_COUNT: ['2']\n")
    assert "'SAGEMAKER.INSTANCE_COUNT' must be a whole number" in refusal(
        "sweep", "--config", str(config), "--dry-run"
    )
    plain = write(tmp_path / "plain.yaml", f"_BASE_: {EXAMPLE}\nSAGEMAKER:\n  INSTANCE_COUNT: '2'\n")
    assert "'SAGEMAKER.INSTANCE_COUNT' must be a whole number" in refusal("--config", str(plain), "--dry-run")


def test_a_bayesian_category_is_sent_as_the_plain_job_would_send_it(aws: str, tmp_path: Path) -> None:
    def categories(config: Path) -> dict[str, list[str]]:
        request = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)
        ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
        return {entry["Name"]: entry["Values"] for entry in ranges["CategoricalParameterRanges"]}

    training = sweep_file(
        tmp_path,
        "  STRATEGY: bayesian\n  PARAMETERS:\n"
        "    SOLVER.OPTIMIZER: [adamw, sgd]\n    SOLVER.BASE_LR: [0.050, 1e-3]\n",
    )
    assert categories(training) == {
        "SOLVER.OPTIMIZER": ['"adamw"', '"sgd"'],
        "SOLVER.BASE_LR": ["0.05", "0.001"],
    }
    arguments = tiny_config(
        tmp_path,
        "ml.m5.large",
        "SWEEP:\n  STRATEGY: bayesian\n  PARAMETERS:\n    HYPERPARAMETERS.lr: [0.050, 10]\n"
        "  OBJECTIVE: {METRIC: loss}\nMETRICS:\n  loss: 'loss=(\\S+)'\n",
    )
    assert categories(arguments) == {"lr": ['"0.050"', "10"]}


# ---------------------------------------------------------------------------------------------- #
# 2. A key given twice is refused in every mapping of every file
# ---------------------------------------------------------------------------------------------- #
def test_a_key_given_twice_is_refused_in_every_file_naming_the_file_line_and_key(tmp_path: Path) -> None:
    twice = write(
        tmp_path / "twice.yaml",
        f"_BASE_: {EXAMPLE}\nSAGEMAKER:\n  BASE_JOB_NAME: first\nS3:\n  EXPERIMENT_NAME: x\n"
        "SAGEMAKER:\n  INSTANCE_COUNT: 2\n",
    )
    message = refusal("--config", str(twice), "--dry-run")
    assert f"{twice}, line 6: the key 'SAGEMAKER' is given twice in one mapping (first on line 2)" in message

    base = write(
        tmp_path / "base.yaml", f"_BASE_: {EXAMPLE}\nS3:\n  EXPERIMENT_NAME: a\n  EXPERIMENT_NAME: b\n"
    )
    child = write(tmp_path / "child.yaml", "_BASE_: base.yaml\n")
    assert f"{base}, line 4: the key 'EXPERIMENT_NAME' is given twice" in refusal(
        "--config", str(child), "--dry-run"
    )

    training = write(tmp_path / "training.yaml", "SOLVER:\n  BASE_LR: 0.1\n  EPOCHS: 2\n  BASE_LR: 0.2\n")
    uses = write(tmp_path / "uses.yaml", f"_BASE_: {EXAMPLE}\nTRAINING:\n  CONFIG_FILE: {training}\n")
    assert f"{training}, line 4: the key 'BASE_LR' is given twice" in refusal(
        "--config", str(uses), "--dry-run"
    )

    sweep = sweep_file(tmp_path, "  PARAMETERS:\n    SOLVER.BASE_LR: [0.1]\n    SOLVER.BASE_LR: [0.2]\n")
    message = refusal("sweep", "--config", str(sweep), "--dry-run")
    assert (
        f"{sweep}, line 7: the key 'SOLVER.BASE_LR' is given twice in one mapping (first on line 6)"
        in message
    )


# ---------------------------------------------------------------------------------------------- #
# 3. Ranges: exponent form is a number, infinities and NaN are refused
# ---------------------------------------------------------------------------------------------- #
def test_range_bounds_in_exponent_form_are_numbers(tmp_path: Path) -> None:
    config = sweep_file(
        tmp_path,
        "  STRATEGY: random\n  MAX_JOBS: 20\n  PARAMETERS:\n"
        "    SOLVER.BASE_LR: {MIN: 1e-5, MAX: 1e-1, SCALE: log}\n",
    )
    points = dry_run_points(config)
    assert len(points) == 20 and all(1e-5 <= point["SOLVER.BASE_LR"] <= 1e-1 for point in points)
    assert min(point["SOLVER.BASE_LR"] for point in points) < 1e-3


def test_a_bayesian_range_in_exponent_form_reaches_the_tuner(aws: str, tmp_path: Path) -> None:
    config = sweep_file(
        tmp_path,
        "  STRATEGY: bayesian\n  PARAMETERS:\n    SOLVER.BASE_LR: {MIN: 1e-5, MAX: 1E-1, SCALE: log}\n",
    )
    request = json.loads(run_cli("sweep", "--config", str(config), "--dry-run").stdout)
    [continuous] = request["HyperParameterTuningJobConfig"]["ParameterRanges"]["ContinuousParameterRanges"]
    assert (float(continuous["MinValue"]), float(continuous["MaxValue"])) == (1e-5, 1e-1)


def test_three_bayesian_sweeps_started_at_once_each_get_their_own_tuning_job_and_record(
    aws: str, tmp_path: Path
) -> None:
    import boto3

    config = sweep_file(
        tmp_path, "  STRATEGY: bayesian\n  PARAMETERS:\n    SOLVER.BASE_LR: {MIN: 1e-5, MAX: 1e-1}\n"
    )
    env = {**os.environ, **aws_environment(aws)}
    started = [
        subprocess.Popen(
            python_command("sweep", "--config", str(config)),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=180)[0] for process in started]
    assert [process.returncode for process in started] == [0, 0, 0], outputs
    answer = boto3.client("sagemaker").list_hyper_parameter_tuning_jobs()
    names = {summary["HyperParameterTuningJobName"] for summary in answer["HyperParameterTuningJobSummaries"]}
    assert len(names) == 3
    records = [key for key in s3_keys() if key.endswith("/record.json")]
    assert len(records) == 3 and all(any(name in key for key in records) for name in names)


@pytest.mark.parametrize(
    ("bounds", "shown"),
    [
        ("{MIN: 0, MAX: .inf}", "MAX is inf"),
        ("{MIN: -.Inf, MAX: 1}", "MIN is -inf"),
        ("{MIN: .nan, MAX: 1}", "MIN is nan"),
    ],
)
def test_infinite_and_nan_bounds_are_refused(tmp_path: Path, bounds: str, shown: str) -> None:
    config = sweep_file(tmp_path, f"  STRATEGY: random\n  PARAMETERS:\n    SOLVER.BASE_LR: {bounds}\n")
    message = refusal("sweep", "--config", str(config), "--dry-run")
    assert f"SWEEP.PARAMETERS.SOLVER.BASE_LR.{shown}; a range's bounds must be finite numbers" in message


# ---------------------------------------------------------------------------------------------- #
# 4. Local and ml.* points never mix
# ---------------------------------------------------------------------------------------------- #
def run_names(folder: Path) -> list[str]:
    return sorted(path.name for path in (folder / "runs" / "tiny").glob("tiny-*"))


def test_a_sweep_mixing_local_modes_and_ml_types_is_refused_before_anything_runs(
    aws: str, tmp_path: Path
) -> None:
    config = tiny_sweep(
        tmp_path,
        "    SAGEMAKER.INSTANCE_TYPE: [local_process, ml.m5.large]\n    HYPERPARAMETERS.mode: [quick]\n",
    )
    for dry_run in (["--dry-run"], []):
        message = refusal("sweep", "--config", str(config), *dry_run)
        assert "mixes local modes (local_process) with SageMaker instance types (ml.m5.large)" in message
    assert training_jobs() == [] and run_names(tmp_path) == []


def test_an_all_local_sweep_over_an_ml_base_runs_here_and_an_all_ml_one_plans(
    aws: str, tmp_path: Path
) -> None:
    config = tiny_sweep(
        tmp_path,
        "    SAGEMAKER.INSTANCE_TYPE: [local_process]\n    HYPERPARAMETERS.mode: [quick, quick2]\n",
        "ml.m5.large",
    )
    output = run_cli("sweep", "--config", str(config)).output
    assert "2 of 2 points completed" in output
    assert len(run_names(tmp_path)) == 2 and training_jobs() == []

    remote = tiny_sweep(
        tmp_path, "    SAGEMAKER.INSTANCE_TYPE: [ml.m5.large, ml.g5.xlarge]\n", "local_process"
    )
    assert [point["SAGEMAKER.INSTANCE_TYPE"] for point in dry_run_points(remote)] == [
        "ml.m5.large",
        "ml.g5.xlarge",
    ]
    assert training_jobs() == []


# ---------------------------------------------------------------------------------------------- #
# 5. Sizes are bounded and refused in under a second
# ---------------------------------------------------------------------------------------------- #
A_RANGE = "    SOLVER.BASE_LR: {MIN: 0.001, MAX: 0.1}\n"


@pytest.mark.parametrize(
    ("section", "words"),
    [
        (
            f"  STRATEGY: random\n  MAX_JOBS: 1000000\n  PARAMETERS:\n{A_RANGE}",
            "SWEEP.MAX_JOBS is 1000000, more than 1000",
        ),
        (
            "  MAX_JOBS: 1000\n  PARAMETERS:\n"
            + "".join(
                f"    {key}: [{', '.join(str(n) for n in range(1, 41))}]\n"
                for key in ("SEED", "SOLVER.EPOCHS")
            )
            + "".join(
                f"    HYPERPARAMETERS.{name}: [{', '.join(str(n) for n in range(40))}]\n" for name in "ab"
            ),
            "the grid has 2560000 points (40 x 40 x 40 x 40, the lengths of the PARAMETERS lists) but "
            "SWEEP.MAX_JOBS is 1000. A grid runs at most 1000 points",
        ),
        (
            f"  STRATEGY: bayesian\n  MAX_JOBS: 751\n  PARAMETERS:\n{A_RANGE}",
            "SWEEP.MAX_JOBS is 751, more than 750",
        ),
        (
            "  MAX_PARALLEL: 101\n  PARAMETERS:\n    SOLVER.BASE_LR: [0.1]\n",
            "SWEEP.MAX_PARALLEL is 101, more than 100",
        ),
    ],
    ids=["random-max-jobs", "huge-grid", "bayesian-max-jobs", "max-parallel"],
)
def test_sizes_past_their_bounds_are_refused_in_under_a_second(
    tmp_path: Path, section: str, words: str
) -> None:
    config = sweep_file(tmp_path, section)
    refusal("sweep", "--config", str(config), "--dry-run")  # the modules are imported once
    started = time.monotonic()
    message = refusal("sweep", "--config", str(config))
    assert time.monotonic() - started < 1.0
    assert words in message, message


# ---------------------------------------------------------------------------------------------- #
# 6. A sweep that stops early names the jobs it started and the points it did not
# ---------------------------------------------------------------------------------------------- #
def test_ctrl_c_stops_a_local_sweep_and_names_its_runs_and_the_points_left(tmp_path: Path) -> None:
    config = tiny_sweep(tmp_path, "    HYPERPARAMETERS.mode: [fail, slow, slower]\n")
    process = subprocess.Popen(
        python_command("sweep", "--config", str(config)),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the launcher and its script in one group, as a terminal's Ctrl-C has them
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "point-started slow" in line:
            break
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)
    output = "".join(seen) + process.communicate(timeout=120)[0]
    assert process.returncode == 130, output
    # Both runs may start within one second, so their names sort by a random suffix: tell them by status.
    statuses = {
        json.loads((tmp_path / "runs" / "tiny" / name / "status.json").read_text())["status"]: name
        for name in run_names(tmp_path)
    }
    assert sorted(statuses) == ["Failed", "Stopped"], statuses
    failed, stopped = statuses["Failed"], statuses["Stopped"]
    last = " ".join(output.strip().splitlines()[-1].split())
    assert last.startswith("Interrupted: local run "), output
    assert "stopped at point 2 of 3" in last
    assert f"Run on this machine: {failed} (point 1: HYPERPARAMETERS.mode=fail, failed, exit code 3)" in last
    assert f"{stopped} (point 2: HYPERPARAMETERS.mode=slow, stopped)" in last
    assert last.endswith("Not started (1 of 3): point 3 (HYPERPARAMETERS.mode=slower).")
    assert "point-started slower" not in output


@pytest.fixture
def quiet_dialect(aws: str, session_dialect: AwsDialect | None) -> Iterator[str]:
    """No first-call throttling (retries are off in these launches) and new jobs found at once."""
    if session_dialect:
        session_dialect.knobs.throttle_first_calls = False
        session_dialect.knobs.not_found_after_create = 0
    yield aws


def marked_sweep(folder: Path) -> tuple[Path, str]:
    """Three SageMaker points side by side; the second one's learning rate is a text no other request
    holds (made here, so that this file's own text never matches it)."""
    mark = "0.00" + "271828"
    return sweep_file(
        folder, f"  MAX_PARALLEL: 3\n  PARAMETERS:\n    SOLVER.BASE_LR: [0.01, {mark}, 0.001]\n"
    ), mark


def sweep_process(config: Path, aws: str, proxy: str) -> subprocess.Popen[str]:
    env = {**os.environ, **aws_environment(aws), "AWS_ENDPOINT_URL_SAGEMAKER": proxy, "AWS_MAX_ATTEMPTS": "1"}
    return subprocess.Popen(
        python_command("sweep", "--config", str(config)),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_failed_launch_stops_a_sagemaker_sweep_and_names_the_running_jobs(
    quiet_dialect: str, tmp_path: Path
) -> None:
    config, mark = marked_sweep(tmp_path)
    with faulty_endpoint(quiet_dialect, Faults(reject_marker=mark.encode())) as proxy:
        process = sweep_process(config, quiet_dialect, proxy)
        stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 1 and "Traceback" not in stderr, stderr
    [job] = training_jobs()
    name = job["TrainingJobName"]
    assert f"started {name}" in stdout
    message = " ".join(stderr.split())
    assert "ValidationException: rejected by the test proxy" in message and "No job was created" in message
    assert (
        f"stopped at point 2 of 3. Started on SageMaker, left running: {name} (point 1: SOLVER.BASE_LR=0.01)."
        in message
    )
    assert f"Not started (2 of 3): points 2 (SOLVER.BASE_LR={mark}), 3 (SOLVER.BASE_LR=0.001)." in message
    assert "stop JOB', or list them with 'python run_sagemaker_job.py list --sweep" in message


def test_ctrl_c_stops_a_sagemaker_sweep_and_names_the_jobs_it_created(
    quiet_dialect: str, tmp_path: Path
) -> None:
    config, mark = marked_sweep(tmp_path)
    faults = Faults(stall_request_marker=mark.encode())
    with faulty_endpoint(quiet_dialect, faults) as proxy:
        process = sweep_process(config, quiet_dialect, proxy)
        assert faults.stalled.wait(120), "the second point's create never left"
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the request goes on to the service after the interrupt
        faults.released.set()
        _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    names = {job["HyperParameters"]["SOLVER.BASE_LR"]: job["TrainingJobName"] for job in training_jobs()}
    assert sorted(names) == ["0.00271828", "0.01"]
    message = " ".join(stderr.strip().splitlines()[-1].split())
    assert message.startswith(f"Interrupted: Training job {names[mark]} was created all the same"), stderr
    assert (
        f"Started on SageMaker, left running: {names['0.01']} (point 1: SOLVER.BASE_LR=0.01), {names[mark]} "
        f"(point 2: SOLVER.BASE_LR={mark}, created all the same)." in message
    )
    assert "Not started (1 of 3): point 3 (SOLVER.BASE_LR=0.001)." in message
    assert re.search(r"list --sweep \S+-sweep-", message)
