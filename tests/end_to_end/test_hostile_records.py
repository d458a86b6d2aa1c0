"""The launch record and the job commands under hostile data, against the loopback AWS endpoint.

A working tree may hold secrets, a record in the shared bucket may be damaged or hand-edited, a path
named in a record may hold something else on the reproducer's machine, and any field may carry
terminal escape sequences. Records and configs are overwritten in S3 as a teammate (or an accident)
would; job states are set through moto's in-process backend.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.aws import BUCKET, REGION, s3_json, s3_keys, s3_text, training_jobs
from support.commands import REPO_ROOT, run_cli, write_yaml
from support.own_code import write_yacs_project

from sagemaker_launcher.spec.redaction import REDACTED, redact

ACCOUNT = "123456789012"
EXAMPLE = REPO_ROOT / "configs" / "sagemaker_config.yaml"
TRAINING_CONFIG = REPO_ROOT / "configs" / "training_config.yaml"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRET"
ESCAPE = "\x1b[2J"


# ---------------------------------------------------------------------------------------------- #
# Helpers
# ---------------------------------------------------------------------------------------------- #
def launch(tmp_path: Path, experiment: str, *overrides: str) -> str:
    """Launch with the real launcher from the example config; returns the job's name."""
    config = write_yaml(
        tmp_path / f"{experiment}.yaml", {"_BASE_": str(EXAMPLE), "S3": {"EXPERIMENT_NAME": experiment}}
    )
    output = run_cli("--config", str(config), "TRAINING.CONFIG_FILE", str(TRAINING_CONFIG), *overrides).output
    return re.search(r"Started training job (\S+)", output).group(1)


def put_object(key: str, data: bytes) -> None:
    import boto3

    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=data)


def object_bytes() -> dict[str, bytes]:
    """Every object in the bucket, by key."""
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    return {key: s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in s3_keys()}


def described(name: str) -> dict[str, Any]:
    return {job["TrainingJobName"]: job for job in training_jobs()}[name]


def channels_of(job: dict[str, Any]) -> dict[str, str]:
    return {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}


def backend_job(name: str) -> Any:
    from moto.backends import get_backend

    return get_backend("sagemaker")[ACCOUNT][REGION].training_jobs[name]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


# ---------------------------------------------------------------------------------------------- #
# The record keeps no secret from the working tree
# ---------------------------------------------------------------------------------------------- #
def test_record_redacts_credentials_in_the_uncommitted_diff(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "settings.py").write_text("lr = 0.1\n")
    git(repo, "init", "-q")
    git(repo, "add", "settings.py")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "settings.py").write_text(
        f"lr = 0.2\naws_secret_access_key = {SECRET}\nDB_URL = 'postgres://bob:{SECRET}@db/x'\n"
    )
    (repo / "notes.txt").write_text(f"password={SECRET}\n")
    monkeypatch.chdir(repo)

    name = launch(tmp_path, "exp-git")

    raw = s3_text(f"exp-git/{name}/config/record.json")
    record = json.loads(raw)["git"]
    assert not [key for key, data in object_bytes().items() if SECRET.encode() in data]
    assert record["dirty"] is True
    assert record["changed"] == ["settings.py"]
    assert record["untracked"] == ["notes.txt"]
    assert record["diff_redacted_lines"] == 2
    assert "+lr = 0.2" in record["diff"]
    # Both credential-like lines are replaced whole, name and all.
    assert record["diff"].splitlines().count(f"+{REDACTED}") == 2
    assert "aws_secret_access_key" not in record["diff"]
    assert "postgres://bob" not in record["diff"]
    assert record["diff_sha256"] == hashlib.sha256(record["diff"].encode()).hexdigest()
    assert "2 credential-like lines redacted" in run_cli("show", name).output


@pytest.mark.parametrize(
    "line",
    [
        "+aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        '-  "password": "hunter2", "user": "bob"',
        "+export GITHUB_TOKEN=ghp_abcdefghijklmnop",
        "+    apiKey: 'k-123456'",
        "+curl -H 'Authorization: Bearer abc.def.ghi'",
        "+client_secret := s3cr3t",
    ],
)
def test_credential_like_lines_are_replaced_whole(line: str) -> None:
    result = redact(line + "\n")
    assert result.text == line[0] + REDACTED + "\n"
    assert result.lines == 1


def test_private_key_blocks_are_blanked_and_code_is_kept() -> None:
    diff = (
        "+-----BEGIN OPENSSH PRIVATE KEY-----\n+b3BlbnNzaC1rZXktdjEAAAA\n+-----END OPENSSH PRIVATE KEY-----\n"
        " tokenizer = AutoTokenizer.from_pretrained(name)\n+max_tokens = 512\n"
    )
    result = redact(diff)
    assert result.text.splitlines() == [
        f"+{REDACTED}",
        f"+{REDACTED}",
        f"+{REDACTED}",
        " tokenizer = AutoTokenizer.from_pretrained(name)",
        "+max_tokens = 512",
    ]
    assert result.lines == 3


# ---------------------------------------------------------------------------------------------- #
# A damaged record is a note on its job
# ---------------------------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"job_name": "x", ', "is not valid JSON"),
        (b'{"launched_by": {"user": "\xff\xfe"}}', "is not UTF-8 text"),
        (b"[1, 2, 3]", "holds a JSON list, not an object"),
        (b"[" * 100_000, "is not usable JSON (nested too deeply)"),
        (b" " * (4 * 1024 * 1024 + 1), "is larger than"),
    ],
    ids=["bad-json", "not-utf8", "a-list", "deeply-nested", "too-large"],
)
def test_a_corrupt_record_is_a_note_on_that_job(
    aws: str, tmp_path: Path, content: bytes, problem: str
) -> None:
    good = launch(tmp_path, "exp-a")
    bad = launch(tmp_path, "exp-b")
    put_object(f"exp-b/{bad}/config/record.json", content)

    listed = run_cli("list")
    rows = {line.split()[0]: line.split() for line in listed.stdout.splitlines()[1:]}
    assert set(rows) == {good, bad}
    assert rows[bad][7] == "-"  # launched by
    assert f"exp-b/{bad}/config/record.json {problem}" in listed.stderr

    shown = run_cli("show", bad).stdout
    assert f"Record: unusable. The record s3://{BUCKET}/exp-b/{bad}/config/record.json {problem}" in shown
    assert "Artifacts:\n  model:" in shown
    assert "Record (" in run_cli("show", good).stdout
    # reproduce works from the configs and the job itself; it does not need the record.
    request = json.loads(run_cli("reproduce", bad, "--dry-run").stdout)
    assert {"Key": "sm-launcher:parent-job", "Value": bad} in request["Tags"]


def test_a_record_of_the_wrong_shape_shows_what_it_can(aws: str, tmp_path: Path) -> None:
    name = launch(tmp_path, "exp-a")
    odd = {"git": 5, "launched_by": ["eve"], "experiment": {"x": 1}, "launched_at": None, "parent_job": 7}
    put_object(f"exp-a/{name}/config/record.json", json.dumps(odd).encode())

    shown = run_cli("show", name).stdout
    assert "  launched by:    ?@?\n" in shown
    assert "  experiment:     ?\n" in shown
    assert "  git commit:     ? on ?\n" in shown
    assert "  reproduces:     7\n" in shown
    [row] = run_cli("list").stdout.splitlines()[1:]
    assert row.split()[0] == name and "+dirty" not in row
    put_object(f"exp-a/{name}/config/training_config.yaml", b"SOLVER:\n  EPOCHS: \xff\n")
    configs = run_cli("show", name, "--configs").stdout
    assert "config/training_config.yaml is not UTF-8 text (byte 18), so it is not a config" in configs


# ---------------------------------------------------------------------------------------------- #
# reproduce runs what the parent ran, never what is at a recorded path today
# ---------------------------------------------------------------------------------------------- #
def test_reproduce_uses_the_parents_s3_channels_and_code_archive(aws: str, tmp_path: Path) -> None:
    data, code = tmp_path / "train", tmp_path / "code"
    data.mkdir()
    (data / "digits.csv").write_text("0,1,2\n")
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    parent = launch(
        tmp_path,
        "exp-a",
        "INPUTS.train",
        str(data),
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        "TRAINING.CONFIG_FILE",
        "",
    )
    parent_job = described(parent)
    # On the reproducer's machine the recorded paths now hold something else: credentials, no code.
    (data / "credentials").write_text(f"aws_secret_access_key = {SECRET}\n")
    shutil.rmtree(code)
    keys_before = set(s3_keys())

    output = run_cli("reproduce", parent, "HYPERPARAMETERS.epochs", "3").output
    child = re.search(r"Started training job (\S+), reproducing", output).group(1)

    child_job = described(child)
    parent_channels = channels_of(parent_job)
    assert channels_of(child_job) == {
        **parent_channels,
        "config": f"s3://{BUCKET}/exp-a/{child}/config/",
    }
    assert parent_channels["train"] == f"s3://{BUCKET}/exp-a/{parent}/inputs/train/"
    archive = parent_job["HyperParameters"]["sagemaker_submit_directory"]
    assert child_job["HyperParameters"]["sagemaker_submit_directory"] == archive
    assert child_job["HyperParameters"]["epochs"] == "3"
    assert not [key for key, data in object_bytes().items() if SECRET.encode() in data]
    assert {key.split(f"{child}/", 1)[1] for key in set(s3_keys()) - keys_before} == {
        "config/record.json",
        "config/request.json",
        "config/sagemaker_config.yaml",
    }
    parent_record = s3_json(f"exp-a/{parent}/config/record.json")
    child_record = s3_json(f"exp-a/{child}/config/record.json")
    assert child_record["code"] == {
        "source": "parent",
        "uri": json.loads(archive),
        "entry_point": "train.py",
        # The code's own commit (the parent's), beside the reproducer's checkout in "git".
        "commit": parent_record["code"]["commit"],
    }
    recorded = yaml.safe_load(s3_text(f"exp-a/{child}/config/sagemaker_config.yaml"))
    assert recorded["SAGEMAKER"]["SOURCE_DIR"] == str(code)
    assert recorded["INPUTS"]["train"] == parent_channels["train"]


def test_reproduce_checks_overrides_against_the_recorded_config_and_runs_no_fetched_code(
    aws: str, tmp_path: Path
) -> None:
    """The parent's archived TRAINING.DEFAULTS module is code from S3: reproduce checks overrides against
    the recorded training config (every key, with its type) and imports that module only when told to
    with --trust-code, which then applies its value rules too."""
    code = tmp_path / "code"
    training_file = write_yacs_project(code, {"SOLVER": {"LR": 0.05}})
    marker = tmp_path / "imported"
    config_module = code / "my_project" / "config.py"
    config_module.write_text(f"open({str(marker)!r}, 'a').close()\n" + config_module.read_text())
    parent = launch(
        tmp_path,
        "exp-y",
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        "TRAINING.DEFAULTS",
        "my_project.config:get_cfg",
        "TRAINING.CONFIG_FILE",
        str(training_file),
        "HYPERPARAMETERS.run-tag",
        "first",
    )
    shutil.rmtree(code)
    marker.unlink()

    assert (
        "'SOLVER.LR' must be a number"
        in run_cli("reproduce", parent, "SOLVER.LR", "fast", expect_exit=1).output
    )
    assert (
        "unknown key 'SOLVER.NOPE'" in run_cli("reproduce", parent, "SOLVER.NOPE", "1", expect_exit=1).output
    )
    run_cli("reproduce", parent, "SOLVER.LR", "-1", "--dry-run")
    assert not marker.exists(), "reproduce ran code fetched from S3 without --trust-code"

    refused = run_cli("reproduce", parent, "--trust-code", "SOLVER.LR", "-1", expect_exit=1).output
    assert "training config key 'SOLVER.LR' must be above 0, got -1" in refused
    assert marker.exists()
    output = run_cli("reproduce", parent, "SOLVER.LR", "0.2").output
    child = re.search(r"Started training job (\S+), reproducing", output).group(1)
    recorded = yaml.safe_load(s3_text(f"exp-y/{child}/config/training_config.yaml"))
    assert recorded == {"SOLVER": {"LR": 0.2, "EPOCHS": 2}, "MODEL": {"WIDTH": 4}}


def test_reproduce_takes_overridden_inputs_and_code_as_given(aws: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    parent = launch(
        tmp_path,
        "exp-a",
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        "TRAINING.CONFIG_FILE",
        "",
    )
    request = json.loads(
        run_cli(
            "reproduce",
            parent,
            "--dry-run",
            "INPUTS.train",
            "s3://other-bucket/train/",
            "SAGEMAKER.SOURCE_DIR",
            str(code),
        ).stdout
    )
    child = request["TrainingJobName"]
    assert channels_of(request)["train"] == "s3://other-bucket/train/"
    assert json.loads(request["HyperParameters"]["sagemaker_submit_directory"]) == (
        f"s3://{BUCKET}/exp-a/{child}/code/sourcedir.tar.gz"
    )


def test_reproduce_refuses_a_record_naming_channels_the_job_never_had(aws: str, tmp_path: Path) -> None:
    parent = launch(tmp_path, "exp-a")
    key = f"exp-a/{parent}/config/sagemaker_config.yaml"
    edited = yaml.safe_load(s3_text(key))
    edited["INPUTS"]["keys"] = str(Path.home() / ".aws")
    put_object(key, yaml.safe_dump(edited).encode())
    keys_before = s3_keys()

    refused = run_cli("reproduce", parent, expect_exit=1).output
    assert (
        f"names INPUTS.keys = '{Path.home() / '.aws'}', which is not one of the job's input channels"
        in refused
    )
    assert "Traceback" not in refused
    assert s3_keys() == keys_before and len(training_jobs()) == 1


def test_reproduce_refuses_a_recorded_config_that_pulls_in_a_local_file(aws: str, tmp_path: Path) -> None:
    local = write_yaml(tmp_path / "elsewhere.yaml", {"SAGEMAKER": {"ENVIRONMENT": {"TOKEN": SECRET}}})
    parent = launch(tmp_path, "exp-a")
    key = f"exp-a/{parent}/config/sagemaker_config.yaml"
    put_object(key, f"_BASE_: {local}\n".encode() + s3_text(key).encode())

    refused = run_cli("reproduce", parent, expect_exit=1).output
    assert "names a '_BASE_' file, which a resolved config never does" in refused
    assert len(training_jobs()) == 1


def test_reproduce_names_a_code_archive_that_is_gone(aws: str, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('training')\n")
    parent = launch(
        tmp_path,
        "exp-a",
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "SAGEMAKER.ENTRY_POINT",
        "train.py",
        "TRAINING.CONFIG_FILE",
        "",
    )
    import boto3

    boto3.client("s3", region_name=REGION).delete_object(
        Bucket=BUCKET, Key=f"exp-a/{parent}/code/sourcedir.tar.gz"
    )

    refused = run_cli("reproduce", parent, expect_exit=1).output
    assert (
        f"Error: Cannot reproduce: the code archive the job ran, s3://{BUCKET}/exp-a/{parent}/code/"
        "sourcedir.tar.gz, is no longer in S3. Pass SAGEMAKER.SOURCE_DIR FOLDER" in refused
    )
    assert "Traceback" not in refused


# ---------------------------------------------------------------------------------------------- #
# Nothing from a record reaches the terminal as a control sequence
# ---------------------------------------------------------------------------------------------- #
def test_show_and_list_print_control_characters_visibly(aws: str, tmp_path: Path) -> None:
    name = launch(tmp_path, "exp-a")
    record_key = f"exp-a/{name}/config/record.json"
    record = s3_json(record_key)
    record["launched_by"]["user"] = f"eve{ESCAPE}"
    record["command_line"] = "python run_sagemaker_job.py \u202etxt.exe"
    put_object(record_key, json.dumps(record).encode())
    put_object(f"exp-a/{name}/config/sagemaker_config.yaml", f"A: '{ESCAPE}'\nB: 2\n".encode())
    job = backend_job(name)
    job.training_job_status = "Failed"
    job.failure_reason = (
        "AlgorithmError: boom\x1b]0;pwned\x07\nTraceback (most recent call last):\n  x" + ESCAPE
    )

    shown = run_cli("show", name, "--configs").output
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "  launched by:    eve\\x1b[2J@" in shown
    assert "  command:        python run_sagemaker_job.py \\u202etxt.exe" in shown
    assert "  failure reason: AlgorithmError: boom\\x1b]0;pwned\\x07\n" in shown
    assert "\n                  Traceback (most recent call last):\n                    x\\x1b[2J\n" in shown
    assert "    A: '\\x1b[2J'\n    B: 2\n" in shown

    listed = run_cli("list").output
    assert "\x1b" not in listed
    assert "eve\\x1b[2J" in listed
