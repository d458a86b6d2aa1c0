"""The local executor runs a job's own request in host mode and in Docker, as SageMaker runs it: each
host's tree written from the request, the code and channels as this run's own copies, every host's exit
status shown and kept in status.json (which compare, list and show read alike), Ctrl-C stopping and
removing everything, and no Compose anywhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.docker import TRAINING_IMAGE, job_containers, require_image

RUN_TIMEOUT = 300

# A plain script of a team: writes where its arguments say, next to its code, into its channel.
SCRIPT = """\
import argparse, json, os, pathlib, sys
parser = argparse.ArgumentParser()
parser.add_argument("--out", default="")
parser.add_argument("--fail-on", default="")
args, _ = parser.parse_known_args()
host = os.environ["SM_CURRENT_HOST"]
# One write a line: the image's toolkit relays a script's output by the chunk it reads.
seen = pathlib.Path(os.environ["SM_CHANNEL_TRAINING"], "processed").exists()
sys.stdout.write(f"seen snapshot: {pathlib.Path('snapshot.pt').exists()}\\nseen processed: {seen}\\n")
sys.stdout.flush()
pathlib.Path("snapshot.pt").write_text("state")
processed = pathlib.Path(os.environ["SM_CHANNEL_TRAINING"], "processed")
processed.mkdir(exist_ok=True)
(processed / "cache.bin").write_text("derived")
if args.out:
    pathlib.Path(args.out).write_text(host)
config = json.load(open(os.path.join(os.environ["SM_CHANNEL_CONFIG"], "record.json")))
with open(os.path.join(os.environ["SM_MODEL_DIR"], "result.json"), "w") as handle:
    json.dump({"host": host, "job": config["job_name"], "out": args.out}, handle)
if host == args.fail_on:
    sys.stderr.write("giving up on purpose\\n")
    sys.stderr.flush()
    sys.exit(3)
"""


def config_file(tmp_path: Path, instance_type: str = "local_process", **hyperparameters: Any) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "train.py").write_text(SCRIPT)
    data = tmp_path / "data" / "training"
    data.mkdir(parents=True, exist_ok=True)
    (data / "points.csv").write_text("1,2\n3,4\n")
    return write_yaml(
        tmp_path / "job.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": instance_type,
                "BASE_JOB_NAME": "executor",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
            },
            "IMAGE": {"URI": TRAINING_IMAGE},
            "S3": {"EXPERIMENT_NAME": "executor"},
            "INPUTS": {"training": str(data)},
            "TRAINING": {"DEFAULTS": ""},
            "HYPERPARAMETERS": hyperparameters,
            "LOCAL": {"RUNS_DIR": str(tmp_path / "runs")},
        },
    )


def run(config: Path, *overrides: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        python_command("--config", str(config), *overrides),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=RUN_TIMEOUT,
        env=env,
        check=False,
    )


def runs_of(tmp_path: Path) -> list[Path]:
    return sorted(path.parent.parent for path in (tmp_path / "runs").glob("*/*/config/record.json"))


def model_result(run: Path) -> dict[str, Any]:
    with tarfile.open(run / "output/model.tar.gz") as archive:
        return json.loads(archive.extractfile("result.json").read())


def test_host_mode_points_opt_ml_values_into_the_hosts_tree(tmp_path: Path) -> None:
    done = run(config_file(tmp_path, out="/opt/ml/model/written-by-path.txt"))
    assert done.returncode == 0, done.stderr[-3000:]
    [job] = runs_of(tmp_path)
    assert (job / "hosts/algo-1/model/written-by-path.txt").read_text() == "algo-1"
    assert model_result(job)["out"] == str(job / "hosts/algo-1/model/written-by-path.txt")
    assert "values naming /opt/ml paths point into each host's tree" in done.stderr
    assert "hyperparameter out" in done.stderr


def test_a_path_the_script_builds_under_opt_ml_is_named_with_the_way_out(tmp_path: Path) -> None:
    """Many public scripts hard-code /opt/ml/input/data; host mode cannot rewrite code, so it says how."""
    config = config_file(tmp_path)
    (tmp_path / "code" / "train.py").write_text("open('/opt/ml/input/data/training/points.csv')\n")
    done = run(config)
    assert done.returncode != 0
    assert "No such file or directory: '/opt/ml/input/data/training/points.csv'" in done.stderr
    assert "SM_CHANNEL_<NAME>" in done.stderr and "SAGEMAKER.INSTANCE_TYPE local (Docker)" in done.stderr


def test_a_rerun_finds_nothing_a_run_left_and_the_users_folders_stay_untouched(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    code, data = tmp_path / "code", tmp_path / "data" / "training"
    before = {path: path.read_bytes() for path in [*code.rglob("*"), *data.rglob("*")] if path.is_file()}
    for _ in range(2):
        done = run(config)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "seen snapshot: False" in done.stdout and "seen processed: False" in done.stdout
    after = {path: path.read_bytes() for path in [*code.rglob("*"), *data.rglob("*")] if path.is_file()}
    assert after == before, "the job wrote into SOURCE_DIR or its input folder"
    second = runs_of(tmp_path)[-1]
    with tarfile.open(second / "code/sourcedir.tar.gz") as archive:
        assert archive.getnames() == ["train.py"]
    assert (second / "hosts/algo-1/code/snapshot.pt").is_file()
    assert (second / "hosts/algo-1/input/data/training/processed/cache.bin").is_file()


def assert_two_hosts_reported(done: subprocess.CompletedProcess[str], job: Path, code: int = 3) -> None:
    """The script exits 3 on algo-2; in a container the image's toolkit exits 1 for any failure and
    names the script's code in its failure file."""
    assert done.returncode == code, (done.stdout + done.stderr)[-3000:]
    assert "[algo-1] seen snapshot: False" in done.stdout and "[algo-2] seen snapshot: False" in done.stdout
    # A container's output is its terminal's: error lines come with the rest, on stdout.
    assert "[algo-2] giving up on purpose" in done.stdout + done.stderr
    status = json.loads((job / "status.json").read_text())
    assert status["status"] == "Failed"
    assert status["hosts"]["algo-1"] == {"exit_code": 0}
    assert status["hosts"]["algo-2"]["exit_code"] == code
    assert "ExitCode 3" in status["failure_reason"] and "giving up on purpose" in status["failure_reason"]
    assert "Host algo-1 completed." in done.stderr and f"Host algo-2 exited with code {code}:" in done.stderr


def test_two_hosts_in_host_mode_show_every_exit_status(tmp_path: Path) -> None:
    done = run(config_file(tmp_path), "SAGEMAKER.INSTANCE_COUNT", "2", "HYPERPARAMETERS.fail-on", "algo-2")
    [job] = runs_of(tmp_path)
    assert_two_hosts_reported(done, job)
    listed = run_cli("list", "--local", "--runs-dir", str(tmp_path / "runs")).output.splitlines()
    assert listed[1].split()[:3] == [job.name, "executor", "Failed"]
    assert f"Job {job.name}: Failed" in run_cli("show", job.name, "--runs-dir", str(tmp_path / "runs")).output


def no_compose_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH holds the Docker client and git, and no docker-compose."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("docker", "git"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        (tools / tool).symlink_to(found)
    return {**os.environ, "PATH": str(tools)}


def two_hosts_started(config: Path) -> subprocess.Popen[str]:
    """A two-host run of ``config``, returned once its script has printed "started"."""
    process = subprocess.Popen(
        python_command("--config", str(config), "SAGEMAKER.INSTANCE_COUNT", "2"),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "started" in line:
            break
    return process


def test_two_containers_show_every_exit_status_and_compare_says_failed(tmp_path: Path) -> None:
    require_image(TRAINING_IMAGE)
    config = config_file(tmp_path, "local")
    overrides = ("SAGEMAKER.INSTANCE_COUNT", "2", "HYPERPARAMETERS.fail-on", "algo-2")
    done = run(config, *overrides, env=no_compose_path(tmp_path))
    [job] = runs_of(tmp_path)
    assert_two_hosts_reported(done, job, code=1)
    assert job_containers(job.name) == [], "the job's containers were left behind"
    # The same job that ran in host mode compares beside it, and both say Failed as their status.json does.
    run(config_file(tmp_path), *overrides)
    host_job = next(path for path in runs_of(tmp_path) if path != job)
    report = json.loads(run_cli("compare", str(job), str(host_job), "--json").stdout)
    assert [entry["status"] for entry in report["jobs"]] == ["Failed", "Failed"]


def test_ctrl_c_stops_and_removes_every_container(tmp_path: Path) -> None:
    require_image(TRAINING_IMAGE)
    code = tmp_path / "code"
    code.mkdir()
    config = config_file(tmp_path, "local")
    (code / "train.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(600)\n")
    process = two_hosts_started(config)
    time.sleep(1)  # both containers up
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("Interrupted: local run executor-"), stderr
    [job] = runs_of(tmp_path)
    assert job_containers(job.name) == []
    networks = subprocess.run(
        ["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True
    )
    assert job.name not in networks.stdout.split()
    assert json.loads((job / "status.json").read_text())["status"] == "Stopped"


FAKE_DOCKER = """\
#!/bin/sh
echo "$@" >> "{log}"
case "$1" in
  info) echo '{{"nvidia":{{}},"runc":{{}}}}' ;;
  run) echo 0123456789ab ;;
  wait) echo 0 ;;
esac
exit 0
"""


def test_local_gpu_gives_the_container_every_gpu(tmp_path: Path) -> None:
    """Where no GPU is lent, the command line is what can be checked: a stand-in docker records it."""
    log = tmp_path / "docker.log"
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "docker").write_text(FAKE_DOCKER.format(log=log))
    (tools / "docker").chmod(0o755)
    done = run(
        config_file(tmp_path, "local_gpu"), env={**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [run_line] = [line.split() for line in log.read_text().splitlines() if line.startswith("run ")]
    assert run_line[run_line.index("--gpus") + 1] == "all"
    assert run_line[run_line.index("--hostname") + 1] == "algo-1"
    assert {"--interactive", "--tty", "--detach"} <= set(run_line) and run_line[-2:] == [
        TRAINING_IMAGE,
        "train",
    ]


@pytest.mark.parametrize("instance_type", ["local_process", "local"])
def test_a_local_dry_run_prints_the_request_it_would_execute(tmp_path: Path, instance_type: str) -> None:
    for region in ([], ["SAGEMAKER.REGION", "eu-west-1"]):
        result = run_cli("--config", str(config_file(tmp_path, instance_type)), "--dry-run", *region)
        request = json.loads(result.stdout)
        channels = {channel["ChannelName"]: channel["DataSource"] for channel in request["InputDataConfig"]}
        assert channels["training"]["FileDataSource"]["FileUri"].startswith("file://")
        assert "RoleArn" not in request and "Traceback" not in result.output
        assert ("TrainingImage" in request["AlgorithmSpecification"]) == (instance_type == "local")
    assert not (tmp_path / "runs").exists(), "a dry run writes nothing"


def test_ctrl_c_in_host_mode_stops_every_process_and_says_so_in_one_line(tmp_path: Path) -> None:
    config = config_file(tmp_path)
    (tmp_path / "code" / "train.py").write_text(
        "import time\nprint('started', flush=True)\ntime.sleep(600)\n"
    )
    process = two_hosts_started(config)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("Interrupted: local run executor-")
    [job] = runs_of(tmp_path)
    assert json.loads((job / "status.json").read_text())["status"] == "Stopped"


def test_a_module_linked_into_the_code_folder_arrives_as_its_files(tmp_path: Path) -> None:
    """Teams link shared code into a job's folder; the job gets the files, not a link to this disk."""
    shared = tmp_path / "shared" / "common"
    shared.mkdir(parents=True)
    (shared / "__init__.py").write_text("GREETING = 'from the shared module'\n")
    config = config_file(tmp_path)
    code = tmp_path / "code"
    (code / "common").symlink_to(shared)
    (code / "train.py").write_text("import common\nprint(common.GREETING)\n")
    done = run(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "from the shared module" in done.stdout
    [job] = runs_of(tmp_path)
    with tarfile.open(job / "code/sourcedir.tar.gz") as archive:
        member = archive.getmember("common/__init__.py")
        assert member.isfile() and not any(item.issym() for item in archive.getmembers())
