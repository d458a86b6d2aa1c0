"""Every validation error: one clear message naming key and value, exit 1, no job, no S3 object."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest
from support.aws import s3_keys, training_jobs
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml

from sagemaker_launcher.spec.layout import new_job_name

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")

BAD_OVERRIDES = [
    (["SAGEMAKER.INSTANCE_TYPE", "ml.g5.xlarg"], "Did you mean 'ml.g5.xlarge'?"),
    (["SAGEMAKER.INSTANCE_COUNT", "0"], "SAGEMAKER.INSTANCE_COUNT = 0 must be at least 1"),
    (["SAGEMAKER.VOLUME_SIZE_GB", "0"], "SAGEMAKER.VOLUME_SIZE_GB = 0 must be at least 1"),
    (["SAGEMAKER.USE_SPOT_INSTANCES", "true"], "SAGEMAKER.MAX_WAIT_SECONDS = 0 must be at least"),
    (
        ["SAGEMAKER.USE_SPOT_INSTANCES", "true", "SAGEMAKER.MAX_WAIT_SECONDS", "100"],
        "must be at least SAGEMAKER.MAX_RUN_SECONDS (3600)",
    ),
    (["SAGEMAKER.MAX_WAIT_SECONDS", "7200"], "only applies with SAGEMAKER.USE_SPOT_INSTANCES"),
    (
        [
            "SAGEMAKER.USE_SPOT_INSTANCES",
            "true",
            "SAGEMAKER.MAX_WAIT_SECONDS",
            "7200",
            "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS",
            "600",
        ],
        "cannot be used with spot",
    ),
    (["SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", "999999"], "must be at most 21600"),
    (["SAGEMAKER.BASE_JOB_NAME", "my_job"], "SAGEMAKER.BASE_JOB_NAME = 'my_job' must be 1 to 42"),
    (["SAGEMAKER.BASE_JOB_NAME", "x" * 43], "must be 1 to 42"),
    (["SAGEMAKER.ROLE_ARN", ""], "SAGEMAKER.ROLE_ARN = '' is required for ml.g5.xlarge jobs"),
    (["SAGEMAKER.ROLE_ARN", "SageMakerRole"], "is not an IAM role ARN"),
    (["SAGEMAKER.REGION", "mars-1"], "SAGEMAKER.REGION = 'mars-1' is not an AWS region"),
    (["S3.BUCKET", "s3://My_Bucket"], "S3.BUCKET = 's3://My_Bucket' is not a valid bucket name"),
    (["S3.EXPERIMENT_NAME", "my experiment"], "S3.EXPERIMENT_NAME = 'my experiment' must be"),
    (["IMAGE.REPOSITORY", ""], "IMAGE.URI = '' is empty and so is IMAGE.REPOSITORY"),
    (["INPUTS.train", "s3://Bad_Bucket/x"], "INPUTS.train = 's3://Bad_Bucket/x' is not a valid S3 URI"),
    (["INPUTS.train", "/no/such/folder"], "INPUTS.train = '/no/such/folder' does not exist"),
    (["INPUTS.train", "https://example.com/x"], "must be an s3:// URI or a local path"),
    (["INPUTS.bad/name", "s3://b-1/x"], "invalid channel name"),
    (["INPUTS.config", "s3://b-1/x"], "reserved channel name 'config'"),
    (["SAGEMAKER.SOURCE_DIR", "no_such_dir"], "SAGEMAKER.SOURCE_DIR = 'no_such_dir' is not a folder"),
    (["SAGEMAKER.SOURCE_DIR", "configs"], "SAGEMAKER.ENTRY_POINT = 'main.py' is not a file"),
    (
        ["SAGEMAKER.SOURCE_DIR", "sagemaker_container", "SAGEMAKER.ENTRY_POINT", "../run_sagemaker_job.py"],
        "SAGEMAKER.ENTRY_POINT = '../run_sagemaker_job.py' must be a path inside the code folder",
    ),
    (["SAGEMAKER.ENTRY_POINT", "/opt/ml/code/main.py"], "must be a path inside the code folder"),
    (
        ["SAGEMAKER.SOURCE_DIR", "sagemaker_container", "SAGEMAKER.ENTRY_POINT", "__pycache__/main.py"],
        "SAGEMAKER.ENTRY_POINT = '__pycache__/main.py' is not a file in SAGEMAKER.SOURCE_DIR",
    ),
    (["SAGEMAKER.ENVIRONMENT.1BAD", "x"], "SAGEMAKER.ENVIRONMENT.1BAD"),
    (["SAGEMAKER.TAGS.team", "a" * 300], "does not fit the API's TagValue"),
    (["SAGEMAKER.TAGS.aws:owner", "me"], "reserved tag key"),
    (["SAGEMAKER.TAGS.sm-launcher:experiment", "x"], "reserved tag key"),
    (["NETWORK.SUBNETS", "[subnet-0abc]"], "NETWORK.SECURITY_GROUP_IDS = [] is empty while its partner"),
    (["DEBUGGER.ADAPTER", "gdb"], "DEBUGGER.ADAPTER = 'gdb' must be one of pdb, debugpy"),
    (["DEBUGGER.PORT", "80"], "DEBUGGER.PORT = 80 must leave room for one port per process"),
    (["DEBUGGER.PORT", "65530"], "(here 65537)"),
    (["DEBUGGER.HOLD_ON_FAILURE_SECONDS", "-1"], "DEBUGGER.HOLD_ON_FAILURE_SECONDS = -1 must be at least 0"),
    (["DEBUGGER.HOLD_ON_FAILURE_SECONDS", "3601"], "is longer than the job may run"),
    (["DEBUGGER.HOLD_ON_FAILURE_SECONDS", "600"], "with SAGEMAKER.SOURCE_DIR '' the code is the image's"),
    (["SAGEMAKER.ENVIRONMENT.SM_LAUNCHER_HOLD_ON_FAILURE_SECONDS", "5"], "set those instead"),
    (
        ["NETWORK.SUBNETS", "[subnet-0abc]", "NETWORK.SECURITY_GROUP_IDS", "['sg 1']"],
        "has an invalid ID 'sg 1'",
    ),
    (["SAGEMAKER.VOLUME_KMS_KEY_ID", "key with spaces"], "does not fit the API's KmsKeyId"),
    (["METRICS.loss", "loss=(["], "is not a valid regular expression"),
    (["METRICS.loss", "loss=\\d+"], "needs a capture group"),
    (["CHECKPOINT_SYNC.S3_URI", "s3://"], "is not a valid S3 URI"),
    (["CHECKPOINT_SYNC.LOCAL_PATH", "ckpt"], "must be an absolute path"),
    (["MODEL.CONV_CHANNELS", str(list(range(700)))], "too long to send as a hyperparameter"),
    (
        ["SOLVER.OPTIMIZER", "adamm"],
        "training config key 'SOLVER.OPTIMIZER' must be one of adamw, sgd, got 'adamm'",
    ),
    (["MODEL.DROPOUT", "1.5"], "training config key 'MODEL.DROPOUT' must be from 0 up to (not including) 1"),
    (
        ["TRAINING.CONFIG_FILE", "configs/nope.yaml"],
        "configs/nope.yaml (from TRAINING.CONFIG_FILE) does not exist",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), BAD_OVERRIDES, ids=lambda value: str(value)[:40])
def test_bad_value_is_named_and_nothing_is_created(aws: str, overrides: list[str], expected: str) -> None:
    result = run_cli("--config", EXAMPLE, *overrides, expect_exit=1)
    assert result.output.startswith("Error: ")
    assert expected in result.output
    assert "Traceback" not in result.output
    assert training_jobs() == [] and s3_keys() == []


def test_config_file_errors_name_the_file_and_create_nothing(aws: str, tmp_path: Path) -> None:
    config = write_yaml(tmp_path / "exp.yaml", {"_BASE_": EXAMPLE, "SAGEMAKER": {"INSTANCE_CUONT": 2}})
    result = run_cli("--config", str(config), expect_exit=1)
    assert f"{config}: unknown key 'SAGEMAKER.INSTANCE_CUONT'" in result.output
    assert "Did you mean 'SAGEMAKER.INSTANCE_COUNT'?" in result.output
    assert training_jobs() == [] and s3_keys() == []


def test_a_training_config_with_more_keys_than_hyperparameters_fit_is_refused() -> None:
    from yacs.config import CfgNode

    from sagemaker_launcher.config.loading import leaf_keys, load_configs
    from sagemaker_launcher.config.validation import validate
    from sagemaker_launcher.errors import LauncherError

    configs = load_configs(EXAMPLE)

    def with_leaves(count: int) -> CfgNode:
        training = configs.training.clone()
        training.defrost()
        extra = count - len(list(leaf_keys(training)))
        for index in range(extra):
            training[f"EXTRA_{index}"] = index
        return training

    with pytest.raises(LauncherError, match=r"would send 95 hyperparameters .* at most 94 beside the SDK"):
        validate(dataclasses.replace(configs, training=with_leaves(95)))
    validate(dataclasses.replace(configs, training=with_leaves(94)))


def test_job_names_differ_within_one_second_and_fit_the_api() -> None:
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    names = {new_job_name("x" * 42, now) for _ in range(50)}
    # 4 random hex digits: two names of one second collide 1 time in 65,536 (and a taken name is
    # refused at launch); among 50, one collision has a 2% chance, two under 0.02%.
    assert len(names) >= 49
    from sagemaker_launcher.spec import service_model

    limits = service_model.field("TrainingJobName")
    assert all(len(name) == limits.max and limits.matches(name) for name in names)


def _timed(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(python_command(*args), capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    return done, time.perf_counter() - started


IMPORTED_SDK = (
    "import sys, runpy; sys.argv = ['run_sagemaker_job.py', *sys.argv[1:]]\n"
    "try:\n    runpy.run_path('run_sagemaker_job.py', run_name='__main__')\n"
    "except SystemExit as done:\n    code = done.code\n"
    "print('SDK-LOADED' if 'sagemaker' in sys.modules else 'SDK-NOT-LOADED', file=sys.stderr)\n"
)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["launch", "--help"], ["--config", EXAMPLE, "SAGEMAKER.INSTANCE_COUNT", "0"]],
    ids=["help", "launch-help", "validation-error"],
)
def test_help_and_validation_errors_do_not_import_the_sdk(args: list[str]) -> None:
    import sys

    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_SDK, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert "SDK-NOT-LOADED" in done.stderr, done.stderr


def test_help_lists_examples_and_the_override_convention() -> None:
    done, _ = _timed("launch", "--help")
    assert done.returncode == 0
    assert "KEY VALUE" in done.stdout and "--dry-run" in done.stdout
    assert "SAGEMAKER.INSTANCE_COUNT 2 SOLVER.BASE_LR 0.01" in done.stdout


@pytest.mark.parametrize("name", ["a=b", "has space", "-leading", "tab\tname", ""])
def test_a_script_argument_name_a_command_line_cannot_carry_is_refused(tmp_path: Path, name: str) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    config = write_yaml(
        tmp_path / "job.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": "local_process",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
            },
            "TRAINING": {"DEFAULTS": ""},
            "HYPERPARAMETERS": {name: "1"},
            "LOCAL": {"RUNS_DIR": str(tmp_path / "runs")},
        },
    )
    result = run_cli("--config", str(config), expect_exit=1)
    assert "has a name a script cannot receive" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("instance_type", "processes", "most"),
    [("ml.g5.xlarge", "1000000", "at most 4"), ("ml.g5.12xlarge", "49", "at most 48")],
)
def test_processes_per_host_are_bounded_by_what_the_instance_has(
    instance_type: str, processes: str, most: str
) -> None:
    result = run_cli(
        "--config", EXAMPLE, "SAGEMAKER.INSTANCE_TYPE", instance_type,
        "SAGEMAKER.PROCESSES_PER_HOST", processes, "--dry-run", expect_exit=1,
    )  # fmt: skip
    assert f"is more processes than an {instance_type} can run side by side: {most}" in result.output


def local_inputs(digits: Path) -> list[str]:
    """Overrides giving configs/local_process.yaml the example's channels, wherever the tests made them."""
    return ["INPUTS.train", str(digits / "train"), "INPUTS.validation", str(digits / "validation")]


def test_processes_per_host_are_bounded_by_this_machine_locally(digits: Path) -> None:
    import os

    many = str((os.cpu_count() or 1) + 1)
    result = run_cli(
        "--config",
        "configs/local_process.yaml",
        *local_inputs(digits),
        "SAGEMAKER.PROCESSES_PER_HOST",
        many,
        expect_exit=1,
    )
    assert "is more processes than this machine can run side by side" in result.output


def test_a_runs_dir_that_cannot_hold_a_run_is_refused_before_anything_runs(
    tmp_path: Path, digits: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli(
        "--config",
        "configs/local_process.yaml",
        *local_inputs(digits),
        "LOCAL.RUNS_DIR",
        str(blocker / "runs"),
        expect_exit=1,
    )
    assert f"cannot hold this run's folder: {blocker} is not a folder" in result.output
    assert "Traceback" not in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_an_unreadable_input_file_is_one_paragraph_before_anything_is_written(tmp_path: Path) -> None:
    """Where the tests run as root (which reads any file), the launcher runs as root without its
    capabilities, so a file's permission bits hold for it as for anyone, wherever the checkout lies."""
    import os

    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "ok.csv").write_text("1\n")
    locked = folder / "locked.csv"
    locked.write_text("2\n")
    locked.chmod(0)
    command = python_command("--config", EXAMPLE, "INPUTS.extra", str(folder), "--dry-run")
    if os.geteuid() == 0:
        command = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", *command]
    # A home of its own: the SDK defaults files are looked for there.
    env = {**os.environ, "HOME": str(tmp_path)}
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60, check=False, env=env
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"holds {locked}, which cannot be read (permission denied)" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize(
    ("link_target", "problem"),
    [
        ("../does-not-exist.py", "is a link to ../does-not-exist.py, which does not exist"),
        ("..", "links back to"),
    ],
)
def test_a_link_in_the_code_folder_that_cannot_be_packed_is_refused_before_anything_is_written(
    tmp_path: Path, aws: str, link_target: str, problem: str
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('hi')\n")
    (code / "odd").symlink_to(link_target)
    result = run_cli(
        "--config",
        EXAMPLE,
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        expect_exit=1,
    )
    assert f"SAGEMAKER.SOURCE_DIR ({code}): {code / 'odd'} {problem}" in result.output
    assert "Traceback" not in result.output
    assert s3_keys() == [] and training_jobs() == []
