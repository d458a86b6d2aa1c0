"""Jobs recorded before today's format keep working: a version-2 record and an SDK-made request.json
(tests/fixtures/record_v2, written by the launcher as it was) are read by show, list, compare and
reproduce like today's."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from support.aws import BUCKET, REGION, described, s3_json
from support.commands import REPO_ROOT, run_cli

FIXTURE = REPO_ROOT / "tests/fixtures/record_v2"
RECORD = json.loads((FIXTURE / "record.json").read_text())
JOB = RECORD["job_name"]
PREFIX = f"{RECORD['experiment']}/{JOB}/"


@pytest.fixture
def old_job(aws: str, end_job: Any) -> str:
    """The old launch as S3 and SageMaker hold it: its config channel, its code archive, and the job
    created from its own request.json (an SDK-made CreateTrainingJob request)."""
    s3 = boto3.client("s3", region_name=REGION)
    for path in FIXTURE.iterdir():
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}config/{path.name}", Body=path.read_bytes())
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as bundle:
        bundle.add(REPO_ROOT / "sagemaker_container/main.py", arcname="main.py")
        bundle.add(
            REPO_ROOT / "sagemaker_container/training_default_config.py", arcname="training_default_config.py"
        )
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}code/sourcedir.tar.gz", Body=archive.getvalue())
    request = json.loads((FIXTURE / "request.json").read_text())
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_training_job(**request)
    described(sagemaker, JOB)
    end_job(JOB)
    return JOB


def test_show_and_list_read_a_version_2_record(old_job: str) -> None:
    shown = run_cli("show", old_job).output
    assert f"Job {old_job}: Completed" in shown
    assert f"git commit:     {RECORD['git']['commit']} on {RECORD['git']['branch']}" in shown
    assert f"launched by:    {RECORD['launched_by']['user']}@{RECORD['launched_by']['host']}" in shown
    [row] = run_cli("list").output.splitlines()[1:]
    assert row.split()[:3] == [old_job, "digits-baseline", "Completed"]
    assert RECORD["launched_by"]["user"] in row and RECORD["git"]["commit"][:8] in row


def test_compare_reads_an_old_job_beside_a_new_one(old_job: str) -> None:
    new = re.search(
        r"Started training job (\S+)",
        run_cli(
            "--config", str(REPO_ROOT / "configs/sagemaker_config.yaml"), "SOLVER.BASE_LR", "0.05"
        ).output,
    ).group(1)
    report = json.loads(run_cli("compare", old_job, new, "--json").stdout)
    assert report["differing_keys"]["SOLVER.BASE_LR"] == [0.02, 0.05]
    assert "S3.OUTPUT_KMS_KEY_ID" in report["differing_keys"], "the old name stays visible in the old config"


def test_reproduce_runs_an_old_job_again_from_its_record(old_job: str, tmp_path: Path) -> None:
    request = json.loads(run_cli("reproduce", old_job, "--dry-run", "SOLVER.EPOCHS", "3").stdout)
    hyperparameters = request["HyperParameters"]
    assert hyperparameters["SOLVER.BASE_LR"] == "0.02" and hyperparameters["SOLVER.EPOCHS"] == "3"
    assert json.loads(hyperparameters["sagemaker_submit_directory"]) == RECORD["code"]["uri"]
    child = re.search(r"Started training job (\S+), reproducing", run_cli("reproduce", old_job).output).group(
        1
    )
    record = s3_json(f"digits-baseline/{child}/config/record.json")
    assert record["record_version"] == 4 and record["parent_job"] == old_job
    # A version-2 record names one commit: the code's, which the new record keeps as the code's commit.
    assert record["code"] == {
        "source": "parent",
        "uri": RECORD["code"]["uri"],
        "entry_point": "main.py",
        "commit": RECORD["git"]["commit"],
    }
