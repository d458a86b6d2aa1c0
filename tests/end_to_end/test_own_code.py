"""Bringing your own code: a strict-argparse SageMaker script and a YACS project, run unmodified.

Both run through the real launcher in host mode (one and two hosts) and in Docker local mode (two
containers), and their dry runs show the request SageMaker would get. Docker tests skip without an
engine and fail under CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image
from support.own_code import write_points, write_strict_script, write_wheel, write_yacs_project

RUN_TIMEOUT = 420
SDK_KEYS = {
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "sagemaker_region",
}


def run(config: Path, *overrides: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The launcher as a user runs it, to its end (``environment``: variables set for it)."""
    return subprocess.run(
        python_command("--config", str(config), *overrides),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=RUN_TIMEOUT,
        check=False,
        env={**os.environ, **environment},
    )


def strict_config(tmp_path: Path, instance_type: str = "local_process", **sections: Any) -> Path:
    """An experiment file for the strict script: its own arguments, no training config."""
    code = write_strict_script(tmp_path / "code")
    data = write_points(tmp_path / "data" / "training")
    config: dict[str, Any] = {
        "SAGEMAKER": {
            "INSTANCE_TYPE": instance_type,
            "BASE_JOB_NAME": "own-script",
            "SOURCE_DIR": str(code),
            "ENTRY_POINT": "train.py",
        },
        "S3": {"EXPERIMENT_NAME": "vision/regression/baseline"},
        "INPUTS": {"training": str(data)},
        "TRAINING": {"DEFAULTS": ""},
        "HYPERPARAMETERS": {"epochs": 60, "backend": "gloo"},
        "LOCAL": {"RUNS_DIR": str(tmp_path / "runs"), "REQUIREMENTS_CACHE_DIR": str(tmp_path / "cache")},
    }
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    return write_yaml(tmp_path / "own_script.yaml", config)


def yacs_config(tmp_path: Path, instance_type: str = "local_process") -> Path:
    """An experiment file for the YACS project, with its training YAML."""
    code = tmp_path / "code"
    training_file = write_yacs_project(code, {"SOLVER": {"LR": 0.05}})
    return write_yaml(
        tmp_path / "yacs_project.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": instance_type,
                "BASE_JOB_NAME": "yacs-project",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
            },
            "S3": {"EXPERIMENT_NAME": "vision/yacs"},
            "INPUTS": {"training": str(write_points(tmp_path / "data" / "training"))},
            "TRAINING": {"DEFAULTS": "my_project.config:get_cfg", "CONFIG_FILE": str(training_file)},
            "HYPERPARAMETERS": {"run-tag": "first"},
            "LOCAL": {"RUNS_DIR": str(tmp_path / "runs")},
        },
    )


def only_job(runs: Path) -> Path:
    # Each host's config channel links to the job's config folder: count the folder itself once.
    [job] = [path.parent.parent for path in runs.rglob("config/record.json") if "hosts" not in path.parts]
    return job


def model_result(job: Path) -> dict[str, Any]:
    with tarfile.open(job / "output/model.tar.gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.removeprefix("./") == "result.json")
        return json.loads(archive.extractfile(member).read())


# ---------------------------------------------------------------------------------------------- #
# A strict-argparse script
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize("hosts", [1, 2])
def test_strict_script_trains_in_host_mode(tmp_path: Path, hosts: int) -> None:
    config = strict_config(tmp_path, SAGEMAKER={"INSTANCE_COUNT": hosts})
    done = run(config, "HYPERPARAMETERS.lr", "0.050", "HYPERPARAMETERS.epochs", "80")
    assert done.returncode == 0, done.stderr[-3000:]

    job = only_job(tmp_path / "runs")
    # The experiment's folders become folders, as they become S3 prefixes.
    assert job.parent == tmp_path / "runs/vision/regression/baseline"
    result = model_result(job)
    # Exactly the script's own arguments, each value as written ("0.050" stays "0.050").
    assert result["argv"] == ["--backend", "gloo", "--epochs", "80", "--lr", "0.050"]
    assert result["world_size"] == hosts
    assert abs(result["weight"] - 3.0) < 0.3
    assert not (job / "config/training_config.yaml").exists()
    request = json.loads((job / "config/request.json").read_text())
    assert set(request["HyperParameters"]) == {"backend", "epochs", "lr"} | SDK_KEYS


def test_crashing_script_ends_the_output_with_its_exception(tmp_path: Path) -> None:
    done = run(strict_config(tmp_path), "HYPERPARAMETERS.lr", "-1")
    assert done.returncode == 1
    last_lines = done.stderr.strip().splitlines()[-3:]
    exception = "ValueError: learning rate must be positive, got -1.0"
    assert any(exception in line for line in last_lines), last_lines
    failure = (only_job(tmp_path / "runs") / "hosts/algo-1/output/failure").read_text()
    # As the image's toolkit reports it, so a failure reads the same in host mode, in Docker and on SageMaker.
    assert failure.startswith(
        'ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback (most recent call'
    )
    assert f'{exception}"\nCommand "' in failure
    assert failure.endswith('train.py --backend gloo --epochs 60 --lr -1"')


def test_dry_run_sends_the_script_exactly_its_arguments(aws: str, tmp_path: Path) -> None:
    config = strict_config(
        tmp_path,
        instance_type="ml.g5.xlarge",
        SAGEMAKER={"ROLE_ARN": "arn:aws:iam::123456789012:role/SageMakerRole", "REGION": "us-east-1"},
        S3={"BUCKET": "my-team-sagemaker"},
        IMAGE={"URI": "123456789012.dkr.ecr.us-east-1.amazonaws.com/team:v1"},
        INPUTS={"training": "s3://my-team-sagemaker/datasets/points/"},
    )
    request = json.loads(run_cli("--config", str(config), "HYPERPARAMETERS.lr", "0.050", "--dry-run").stdout)
    hyperparameters = request["HyperParameters"]
    assert set(hyperparameters) == {"backend", "epochs", "lr"} | SDK_KEYS
    # JSON-encoded as the SDK's own estimators send them; the toolkit turns them into --name value.
    assert (hyperparameters["epochs"], hyperparameters["backend"], hyperparameters["lr"]) == (
        "60",
        '"gloo"',
        '"0.050"',
    )
    assert json.loads(hyperparameters["sagemaker_program"]) == "train.py"
    assert request["AlgorithmSpecification"]["MetricDefinitions"] == []


# ---------------------------------------------------------------------------------------------- #
# A YACS project
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize("hosts", [1, 2])
def test_yacs_project_trains_on_its_own_resolved_config(tmp_path: Path, hosts: int) -> None:
    config = yacs_config(tmp_path)
    done = run(config, "SAGEMAKER.INSTANCE_COUNT", str(hosts), "SOLVER.EPOCHS", "5")
    assert done.returncode == 0, done.stderr[-3000:]
    job = only_job(tmp_path / "runs")
    assert model_result(job) == {"argv": ["--run-tag", "first"], "lr": 0.05, "epochs": 5, "width": 4}
    recorded = yaml.safe_load((job / "config/training_config.yaml").read_text())
    assert recorded == {"SOLVER": {"LR": 0.05, "EPOCHS": 5}, "MODEL": {"WIDTH": 4}}
    request = json.loads((job / "config/request.json").read_text())
    # A team's project reads its config from the channel: only its own argument is sent.
    assert set(request["HyperParameters"]) == {"run-tag"} | SDK_KEYS


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["SOLVER.LRR", "1"], r"'SOLVER\.LRR'.*Did you mean 'SOLVER\.LR'\?.*my_project/config\.py"),
        (["SOLVER.LR", "-1"], r"'SOLVER\.LR' must be above 0, got -1\.0"),
        (["SOLVER.EPOCHS", "many"], r"'SOLVER\.EPOCHS' must be a whole number"),
        (["TRAINING.DEFAULTS", "my_project.missing:get_cfg"], r"no module my_project\.missing in"),
        (["TRAINING.DEFAULTS", "my_project.config:get_cfgg"], r"my_project\.config has no 'get_cfgg'"),
        (["TRAINING.DEFAULTS", "my_project.config"], r"is not 'module:name'"),
        (["TRAINING.DEFAULTS", "my_project.config:_C.SOLVER"], r"is not 'module:name'"),
        (["TRAINING.DEFAULTS", "my_project.config:value_problems"], r"takes no arguments and returns one"),
        (["TRAINING.DEFAULTS", "yaml:__version__"], r"gave str, not a yacs CfgNode"),
    ],
)
def test_yacs_project_errors_name_the_key_and_create_nothing(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    config = yacs_config(tmp_path)
    result = run_cli("--config", str(config), *overrides, expect_exit=1)
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert re.search(expected, result.output.replace("\n", " ")), result.output
    assert not (tmp_path / "runs").exists()


def test_defaults_that_need_a_missing_package_say_which(tmp_path: Path) -> None:
    config = yacs_config(tmp_path)
    config_module = tmp_path / "code/my_project/config.py"
    config_module.write_text("import detectron_two_not_installed\n" + config_module.read_text())
    result = run_cli("--config", str(config), expect_exit=1)
    assert "imports 'detectron_two_not_installed', which the launcher's own Python" in result.output
    assert "pip install detectron_two_not_installed" in result.output


def test_yacs_project_dry_run_sends_only_its_arguments(aws: str, tmp_path: Path) -> None:
    config = yacs_config(tmp_path)
    request = json.loads(
        run_cli(
            "--config",
            str(config),
            "SAGEMAKER.INSTANCE_TYPE",
            "ml.m5.xlarge",
            "SAGEMAKER.ROLE_ARN",
            "arn:aws:iam::123456789012:role/SageMakerRole",
            "SAGEMAKER.REGION",
            "us-east-1",
            "S3.BUCKET",
            "my-team-sagemaker",
            "IMAGE.URI",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team:v1",
            "INPUTS.training",
            "s3://my-team-sagemaker/datasets/points/",
            "--dry-run",
        ).stdout
    )
    assert set(request["HyperParameters"]) == {"run-tag"} | SDK_KEYS
    channels = {channel["ChannelName"] for channel in request["InputDataConfig"]}
    assert channels == {"training", "config"}


# ---------------------------------------------------------------------------------------------- #
# Requirements in host mode
# ---------------------------------------------------------------------------------------------- #
def test_requirements_are_installed_once_then_reused(tmp_path: Path) -> None:
    config = strict_config(tmp_path)
    code = tmp_path / "code"
    write_wheel(code / "wheels", "smprobe-extra", "1.0", "ANSWER = 42\n")
    (code / "requirements.txt").write_text(
        "--no-index\n--find-links wheels\nsmprobe-extra==1.0\nnumpy  # already here\n"
    )
    script = code / "train.py"
    source = script.read_text()
    script.write_text(source.replace("import numpy as np\n", "import numpy as np\nimport smprobe_extra\n"))

    first = run(config)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "requirements.txt: installing into" in first.stderr
    second = run(config)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "requirements.txt: using the cached environment" in second.stderr
    assert "installing" not in second.stderr
    # The launcher's own environment is unchanged.
    assert importlib.util.find_spec("smprobe_extra") is None


def versions_script(code: Path, packages: list[str]) -> None:
    """A training script that writes the versions it imports to the model folder."""
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(
        "import importlib.metadata, json, os\n"
        f"names = {packages!r}\n"
        "versions = {name: importlib.metadata.version(name) for name in names}\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'result.json'), 'w').write(json.dumps(versions))\n"
    )


def versions_config(tmp_path: Path) -> Path:
    return strict_config(tmp_path, HYPERPARAMETERS={}, INPUTS={})


def test_requirements_that_need_backtracking_resolve_as_pip_resolves_them(tmp_path: Path) -> None:
    """pip's resolver picks the older dependency the newest one excludes (as pip does in the container),
    where installing each line on its own would take the newest and fail."""
    config = versions_config(tmp_path)
    code = tmp_path / "code"
    wheels = code / "wheels"
    write_wheel(wheels, "smprobe-dep", "1.0", "")
    write_wheel(wheels, "smprobe-dep", "2.0", "")
    write_wheel(wheels, "smprobe-app", "2.0", "", requires=("smprobe-dep<2",))
    (code / "requirements.txt").write_text("--no-index\n--find-links wheels\nsmprobe-dep\nsmprobe-app>=2\n")
    versions_script(code, ["smprobe-app", "smprobe-dep"])
    done = run(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert model_result(only_job(tmp_path / "runs")) == {"smprobe-app": "2.0", "smprobe-dep": "1.0"}


def test_nested_requirement_files_constraints_and_local_packages_read_as_pip_reads_them(
    tmp_path: Path,
) -> None:
    """-r and -c name files relative to the file naming them, -e a folder: none of them is "already met"."""
    config = versions_config(tmp_path)
    code = tmp_path / "code"
    wheels = code / "reqs" / "wheels"
    write_wheel(wheels, "smprobe-nested", "1.0", "")
    write_wheel(wheels, "smprobe-nested", "1.5", "")
    (code / "reqs" / "base.txt").write_text("--no-index\n--find-links wheels\nsmprobe-nested\n")
    (code / "reqs" / "pins.txt").write_text("smprobe-nested<1.5\n")
    package = tmp_path / "pkg"
    (package / "smprobe_local").mkdir(parents=True)
    (package / "smprobe_local" / "__init__.py").write_text("")
    (package / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "smprobe-local"\nversion = "0.3"\n'
    )
    (code / "requirements.txt").write_text("-r reqs/base.txt\n-c reqs/pins.txt\n-e ../pkg\n")
    versions_script(code, ["smprobe-nested", "smprobe-local"])
    # No index is reachable to fetch a build backend for the local package: build it with this one, as a
    # user's pip configuration can (pip reads PIP_* variables wherever it runs).
    offline = {"PIP_NO_BUILD_ISOLATION": "0"}
    done = run(config, **offline)
    assert done.returncode == 0, done.stderr[-3000:]
    assert model_result(only_job(tmp_path / "runs")) == {"smprobe-nested": "1.0", "smprobe-local": "0.3"}
    # A change to a nested file is a new environment, not the cached one.
    (code / "reqs" / "pins.txt").write_text("smprobe-nested<=1.5\n")
    again = run(config, **offline)
    assert again.returncode == 0 and "installing into" in again.stderr, again.stderr[-3000:]


def test_requirements_the_environment_meets_need_no_environment(tmp_path: Path) -> None:
    from sagemaker_launcher.local.requirements import prepare_environment

    said: list[str] = []
    assert prepare_environment(REPO_ROOT / "sagemaker_container", tmp_path / "cache", said.append) is None
    assert said and said[0].endswith("already met by the launcher's environment, nothing to install.")
    assert prepare_environment(REPO_ROOT / "sagemaker_container", tmp_path / "cache", said.append) is None
    assert said[1].endswith("already met")


# ---------------------------------------------------------------------------------------------- #
# Experiment names with folders
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize("name", ["a//b", "a/../b", "/a", "a/", "./a", "a b", "x" * 129])
def test_bad_experiment_folders_are_refused(tmp_path: Path, name: str) -> None:
    result = run_cli("--config", str(strict_config(tmp_path)), "S3.EXPERIMENT_NAME", name, expect_exit=1)
    assert "S3.EXPERIMENT_NAME" in result.output
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------------------------------------- #
# Docker local mode: the real image, two containers
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize("project", ["strict", "yacs"])
def test_own_code_trains_in_docker_local_mode_on_two_containers(tmp_path: Path, project: str) -> None:
    require_image(TRAINING_IMAGE)
    if project == "strict":
        config = strict_config(tmp_path, instance_type="local", IMAGE={"URI": TRAINING_IMAGE})
        expected = {"argv": ["--backend", "gloo", "--epochs", "60"], "world_size": 2}
    else:
        config = yacs_config(tmp_path, instance_type="local")
        expected = {"argv": ["--run-tag", "first"], "lr": 0.05}
    try:
        done = run(config, "SAGEMAKER.INSTANCE_COUNT", "2", "IMAGE.URI", TRAINING_IMAGE)
    finally:
        for container_root in (tmp_path / "runs").rglob("container"):
            remove_local_mode_leftovers(str(container_root))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    result = model_result(only_job(tmp_path / "runs"))
    assert {key: result[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["HYPERPARAMETERS.sagemaker_program", "x.py"], "reserved 'sagemaker_' prefix"),
        (["HYPERPARAMETERS.bad\rname", "1"], "'HYPERPARAMETERS.bad\\rname' = '1' has a name a script cannot"),
        (["HYPERPARAMETERS.note", "x" * 2600], "too long to send as a hyperparameter"),
        (["TRAINING.CONFIG_FILE", "configs/training_config.yaml"], "no training defaults"),
        (["SOLVER.EPOCHS", "3"], "Script arguments are set as HYPERPARAMETERS"),
    ],
)
def test_bad_script_arguments_are_refused_before_anything_runs(
    tmp_path: Path, overrides: list[str], expected: str
) -> None:
    result = run_cli("--config", str(strict_config(tmp_path)), *overrides, expect_exit=1)
    assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_script_arguments_are_refused_with_the_example_defaults(tmp_path: Path) -> None:
    data = str(write_points(tmp_path / "data"))
    overrides = ["INPUTS.train", data, "INPUTS.validation", data, "HYPERPARAMETERS.epochs", "3"]
    result = run_cli("--config", "configs/local_process.yaml", *overrides, expect_exit=1)
    assert "the example's main.py (the default TRAINING.DEFAULTS) takes none" in result.output


def test_list_matches_an_experiment_exactly_or_a_whole_folder(aws: str) -> None:
    example = str(REPO_ROOT / "configs/sagemaker_config.yaml")
    for experiment in ("vision/detector/a", "vision/detector/b", "vision/classifier", "audio/a"):
        run_cli("--config", example, "S3.EXPERIMENT_NAME", experiment)

    def listed(*filters: str) -> list[str]:
        lines = run_cli("list", *filters).output.splitlines()[1:]
        return sorted(line.split()[1] for line in lines)

    assert listed("--experiment", "vision/detector/a") == ["vision/detector/a"]
    assert listed("--experiment", "vision/detector/") == ["vision/detector/a", "vision/detector/b"]
    vision = ["vision/classifier", "vision/detector/a", "vision/detector/b"]
    assert listed("--experiment", "vision/") == vision
    assert run_cli("list", "--experiment", "vision").output.startswith("No training jobs match")
