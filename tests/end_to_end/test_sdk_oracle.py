"""The launcher's request is the one an SDK 2.x Estimator sends for the same job, field by field.

The SDK is the oracle (tests/support/sdk_oracle.py builds the Estimator a team would write from the
same job spec); the launcher never imports it. Every difference is listed in ``EXPLAINED`` with its
reason, every listed difference must still occur, and nothing else may differ, over the configs below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import sdk_oracle
from support.commands import REPO_ROOT, write_yaml

from sagemaker_launcher.config.spec_building import ParentCode, build_spec
from sagemaker_launcher.launch.sequence import resolve
from sagemaker_launcher.launch.sweeps import check_bayesian, read_sweep, tuning_ranges
from sagemaker_launcher.spec.git import GitState
from sagemaker_launcher.spec.job import JobSpec, TuningPlan
from sagemaker_launcher.spec.request import training_job_request, tuning_job_request

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
SPOT = str(REPO_ROOT / "configs/sagemaker_spot_config.yaml")
TEAM_BASE = str(REPO_ROOT / "configs/team_base.yaml")
GIT = GitState(commit="0123456789abcdef0123456789abcdef01234567", branch="main")
PARENT_ARCHIVE = "s3://my-team-sagemaker/digits-baseline/digits-20261201-101010-abcd/code/sourcedir.tar.gz"

# "only SDK: PATH", "only ours: PATH" or "differs: PATH" -> why it may differ.
EXPLAINED = {
    "only SDK: AlgorithmSpecification.EnableSageMakerMetricsTimeSeries": (
        "a default of the SDK's framework estimators (PyTorch) only; a generic Estimator does not send it, "
        "and the launcher sends every job alike. MetricDefinitions are sent either way."
    ),
    "only SDK: HyperParameters.sagemaker_instance_type": (
        "the SDK's PyTorch estimator adds it for its distributions; the image's toolkit reads a homogeneous "
        "job's instance groups from resourceconfig.json (sagemaker_training/environment.py, "
        "get_distribution_instance_groups_from_resource_config)."
    ),
    "only ours: HyperParameters.sagemaker_mpi_num_of_processes_per_host": (
        "SAGEMAKER.PROCESSES_PER_HOST set to a number: the toolkit's torchrun runner takes --nproc_per_node "
        "from it; the SDK has no argument for it with torch_distributed."
    ),
    'differs: HyperParameters.sagemaker_program: ours "\\"job_debugger.py\\"", SDK "\\"train.py\\""': (
        "DEBUGGER.HOLD_ON_FAILURE_SECONDS: the program is the hold's runner (job_debugger.py, added beside "
        "the code and recorded), which starts the entry point SM_LAUNCHER_ENTRY_POINT names in Environment."
    ),
    'differs: HyperParameters.sagemaker_program: ours "\\"job_debugger.py\\"", SDK "\\"main.py\\""': (
        "the same with the code in the image (DEBUGGER.IMAGE_HAS_RUNNER: the image carries the runner)."
    ),
    "only SDK: TrainingJobDefinition.StaticHyperParameters.sagemaker_estimator_class_name": (
        "the SDK's own metadata for re-attaching an estimator (sent by framework estimators even with "
        "include_cls_metadata=False); no container reads it."
    ),
    "only SDK: TrainingJobDefinition.StaticHyperParameters.sagemaker_estimator_module": (
        "the SDK's own metadata, as sagemaker_estimator_class_name."
    ),
    "only SDK: TrainingJobDefinition.StaticHyperParameters.sagemaker_instance_type": (
        "as HyperParameters.sagemaker_instance_type, in a tuning job's definition."
    ),
    "only SDK: TrainingJobDefinition.StaticHyperParameters.sagemaker_job_name": (
        "the SDK leaves a generated base name there that no trial has; each trial runs under its own "
        "name (TRAINING_JOB_NAME), so the launcher leaves it out."
    ),
}


def differences(ours: Any, sdk: Any, path: str = "") -> Iterator[str]:
    """Every field the two requests do not share, as "only SDK: ...", "only ours: ..." or "differs: ..."."""
    if isinstance(ours, dict) and isinstance(sdk, dict):
        for key in sorted(set(ours) | set(sdk)):
            where = f"{path}.{key}" if path else key
            if key not in ours:
                yield f"only SDK: {where}"
            elif key not in sdk:
                yield f"only ours: {where}"
            else:
                yield from differences(ours[key], sdk[key], where)
    elif isinstance(ours, list) and isinstance(sdk, list) and len(ours) == len(sdk):
        for index, (mine, theirs) in enumerate(zip(ours, sdk, strict=True)):
            yield from differences(mine, theirs, f"{path}[{index}]")
    elif ours != sdk:
        yield f"differs: {path}: ours {json.dumps(ours)[:200]}, SDK {json.dumps(sdk)[:200]}"


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither side may reach AWS (credentials are dummies and every endpoint a closed port) or read a
    defaults file of this machine's (both point at an empty one)."""
    empty = tmp_path / "empty-sdk-defaults.yaml"
    empty.write_text("SchemaVersion: '1.0'\n")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(empty),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(empty),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    }.items():
        monkeypatch.setenv(name, value)


def own_script_folder(tmp_path: Path) -> Path:
    """A plain argparse training script, as AWS's script-mode examples are."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "train.py").write_text("import argparse\nargparse.ArgumentParser().parse_known_args()\n")
    return folder


def spec_of(
    config: str, *overrides: str, parent: ParentCode | None = None, job_name: str | None = None
) -> JobSpec:
    return build_spec(
        resolve(config, list(overrides)),
        "s3://my-team-sagemaker",
        GIT,
        ["test"],
        parent=parent,
        job_name=job_name,
    )


def training_cases(tmp_path: Path) -> dict[str, JobSpec]:
    own = str(own_script_folder(tmp_path))
    script = [
        "SAGEMAKER.SOURCE_DIR",
        own,
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        "TRAINING.DEFAULTS",
        "",
        "TRAINING.CONFIG_FILE",
        "",
    ]
    uploaded = ["SAGEMAKER.SOURCE_DIR", "sagemaker_container"]
    arguments = [
        "HYPERPARAMETERS.epochs",
        "3",
        "HYPERPARAMETERS.lr",
        "0.050",
        "HYPERPARAMETERS.backend",
        "gloo",
    ]
    secured = [
        *(
            "NETWORK.SUBNETS",
            "[subnet-0abc1234, subnet-0def5678]",
            "NETWORK.SECURITY_GROUP_IDS",
            "[sg-0abc1234]",
        ),
        *("S3.KMS_KEY_ID", "alias/team-key", "SAGEMAKER.VOLUME_KMS_KEY_ID", "alias/volume-key"),
        *("NETWORK.ENABLE_NETWORK_ISOLATION", "true", "NETWORK.ENCRYPT_INTER_CONTAINER_TRAFFIC", "true"),
        *("SAGEMAKER.ENVIRONMENT.NCCL_DEBUG", "INFO"),
    ]
    elsewhere = ["SAGEMAKER.TAGS.cost-center", "cv-42", "CHECKPOINT_SYNC.S3_URI", "s3://other-bucket/ckpt/"]
    parent = ParentCode(
        "digits-20261201-101010-abcd", PARENT_ARCHIVE, "fedcba9876543210fedcba9876543210fedcba98"
    )
    return {
        "digits, code in the image": spec_of(EXAMPLE),
        "digits, code uploaded, torchrun per GPU": spec_of(EXAMPLE, *uploaded),
        "own script with its arguments": spec_of(EXAMPLE, *script, *arguments),
        "spot with checkpoints, 2 instances": spec_of(SPOT),
        "VPC, KMS, isolation, encryption, environment": spec_of(EXAMPLE, *secured),
        "warm pool": spec_of(EXAMPLE, "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", "1800"),
        "4 instances x 2 processes": spec_of(
            EXAMPLE, *uploaded, "SAGEMAKER.INSTANCE_COUNT", "4", "SAGEMAKER.PROCESSES_PER_HOST", "2"
        ),
        "no metrics, own tags, checkpoints elsewhere": spec_of(TEAM_BASE, *script, *elsewhere),
        "remote debugging": spec_of(EXAMPLE, "SAGEMAKER.ENABLE_REMOTE_DEBUG", "true"),
        "reproduced from a parent's code archive": spec_of(EXAMPLE, parent=parent),
        "own script held on failure, debugpy": spec_of(
            EXAMPLE, *script, "DEBUGGER.HOLD_ON_FAILURE_SECONDS", "600", "DEBUGGER.ADAPTER", "debugpy"
        ),
        "digits in the image, held on failure": spec_of(
            EXAMPLE, "DEBUGGER.HOLD_ON_FAILURE_SECONDS", "600", "DEBUGGER.IMAGE_HAS_RUNNER", "true"
        ),
    }


def test_training_requests_are_the_estimators_but_for_explained_differences(tmp_path: Path) -> None:
    seen: set[str] = set()
    for label, spec in training_cases(tmp_path).items():
        found = set(differences(training_job_request(spec), sdk_oracle.training_job_request(spec)))
        unexplained = sorted(found - set(EXPLAINED))
        assert not unexplained, f"{label}: {unexplained}"
        seen |= found
    training = {key for key in EXPLAINED if not key.split(": ")[1].startswith("TrainingJobDefinition")}
    assert training <= seen, f"explained but no longer seen: {sorted(training - seen)}"


def test_tuning_request_is_the_tuners_but_for_explained_differences(tmp_path: Path) -> None:
    sweep_file = write_yaml(
        tmp_path / "bayesian.yaml",
        {
            "_BASE_": EXAMPLE,
            "SAGEMAKER": {"SOURCE_DIR": str(REPO_ROOT / "sagemaker_container")},
            "SWEEP": {
                "STRATEGY": "bayesian",
                "PARAMETERS": {
                    "SOLVER.BASE_LR": {"MIN": 0.0001, "MAX": 0.1, "SCALE": "log"},
                    "SOLVER.EPOCHS": {"MIN": 2, "MAX": 9},
                    "SOLVER.OPTIMIZER": ["sgd", "adamw"],
                },
                "OBJECTIVE": {"METRIC": "validation:accuracy", "GOAL": "maximize"},
                "MAX_JOBS": 6,
                "MAX_PARALLEL": 3,
            },
        },
    )
    configs = resolve(sweep_file, [])
    sweep = read_sweep(configs)
    spec = build_spec(configs, "s3://my-team-sagemaker", GIT, ["test"], job_name=sweep.sweep_id)
    plan = TuningPlan(
        sweep.sweep_id, sweep.metric, sweep.goal, sweep.max_jobs, sweep.max_parallel,
        tuning_ranges(sweep, check_bayesian(configs, sweep)),
    )  # fmt: skip
    found = set(differences(tuning_job_request(spec, plan), sdk_oracle.tuning_job_request(spec, plan)))
    assert found <= set(EXPLAINED), sorted(found - set(EXPLAINED))
    tuning = {key for key in EXPLAINED if key.split(": ")[1].startswith("TrainingJobDefinition")}
    assert tuning <= found, f"explained but no longer seen: {sorted(tuning - found)}"
