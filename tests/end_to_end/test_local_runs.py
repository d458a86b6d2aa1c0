"""Local runs end to end: host mode (``local_process``) and Docker local mode on a real engine.

Each test runs ``python run_sagemaker_job.py`` as a user would and checks what it leaves: the
archives, the metrics reached, the record. Docker tests skip without an engine, and fail under CI.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path

from support.commands import REPO_ROOT, local_launch_command, python_command
from support.docker import TRAINING_IMAGE, job_containers, stop_first_container_after_an_epoch

from sagemaker_launcher.config.run_modes import free_port

# SDK local mode names hosts algo-N-<suffix>; host mode and SageMaker name them algo-N.
WEIGHTS = re.compile(r"Host (algo-\d+)\S* final weights sha256=([0-9a-f]{64})")
RUN_TIMEOUT = 420


def python_command_for(script: str, *args: str) -> list[str]:
    return [python_command()[0], str(REPO_ROOT / script), *args]


def launch(config: str, runs: Path, digits: Path, *overrides: str) -> subprocess.CompletedProcess[str]:
    """Run ``local_launch_command`` to its end."""
    return subprocess.run(
        local_launch_command(config, runs, digits, *overrides),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def script_job_command(config: str, runs: Path, code: Path, script: str, *overrides: str) -> list[str]:
    """Write ``script`` as ``code/main.py`` and return the launcher command that runs it as the job."""
    code.mkdir(parents=True, exist_ok=True)
    (code / "main.py").write_text(script)
    return python_command(
        "--config",
        str(REPO_ROOT / config),
        "LOCAL.RUNS_DIR",
        str(runs),
        "SAGEMAKER.SOURCE_DIR",
        str(code),
        "INPUTS.train",
        str(code),
        "INPUTS.validation",
        str(code),
        # A script of its own has no training config: only the example's is named in the YAML.
        "TRAINING.CONFIG_FILE",
        "",
        *overrides,
    )


def only_job_dir(runs: Path) -> Path:
    [job] = [path for path in runs.glob("*/*") if path.is_dir()]
    return job


def archive_members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as bundle:
        return {
            member.name.removeprefix("./"): bundle.extractfile(member).read()
            for member in bundle.getmembers()
            if member.isfile()
        }


def final_accuracy(job: Path) -> float:
    """From metrics.json: at the archive's top as SageMaker packs output/data, or under data/ as SDK
    local mode packs all of output/."""
    members = archive_members(job / "output/output.tar.gz")
    metrics = json.loads(members.get("metrics.json") or members["data/metrics.json"])
    return metrics["final"]["validation:accuracy"]


def assert_model_artifact(job: Path) -> None:
    model = archive_members(job / "output/model.tar.gz")
    assert "code/inference.py" in model
    assert any(name.endswith(".pt") or name.endswith(".pth") for name in model), sorted(model)


# ---------------------------------------------------------------------------------------------- #
# Host mode
# ---------------------------------------------------------------------------------------------- #
def test_host_mode_trains_the_example_to_its_accuracy_bar(tmp_path: Path, digits: Path) -> None:
    done = launch("configs/local_process.yaml", tmp_path, digits)
    assert done.returncode == 0, done.stderr[-3000:]
    job = only_job_dir(tmp_path)
    assert final_accuracy(job) >= 0.95
    assert_model_artifact(job)
    assert sorted(p.name for p in (job / "config").iterdir()) == [
        "record.json",
        "request.json",
        "sagemaker_config.yaml",
        "training_config.yaml",
    ]
    assert (job / "code/sourcedir.tar.gz").is_file()
    record = json.loads((job / "config/record.json").read_text())
    assert record["instance"] == {"type": "local_process", "count": 1, "spot": False}
    assert f"model:  {job / 'output/model.tar.gz'}" in done.stderr


def test_host_mode_gives_the_script_the_toolkit_environment(tmp_path: Path) -> None:
    script = (
        "import json, os, sys\n"
        "names = ['SM_MODEL_DIR', 'SM_CHANNEL_CONFIG', 'SM_HPS', 'SM_CURRENT_HOST', 'SM_HOSTS']\n"
        "seen = {name: os.environ[name] for name in names}\n"
        "seen['argv'] = sys.argv[1:]\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'env.json'), 'w').write(json.dumps(seen))\n"
    )
    command = script_job_command(
        "configs/local_process.yaml",
        tmp_path / "runs",
        tmp_path / "code",
        script,
        "HYPERPARAMETERS.epochs",
        "4",
    )
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=RUN_TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr
    job = only_job_dir(tmp_path / "runs")
    seen = json.loads(archive_members(job / "output/model.tar.gz")["env.json"])
    assert seen["SM_CURRENT_HOST"] == "algo-1"
    assert json.loads(seen["SM_HOSTS"]) == ["algo-1"]
    assert seen["SM_MODEL_DIR"] == str(job / "hosts/algo-1/model")
    assert seen["SM_CHANNEL_CONFIG"] == str(job / "hosts/algo-1/input/data/config")
    # A folder without the example's training defaults gets its own HYPERPARAMETERS, no training keys.
    assert json.loads(seen["SM_HPS"]) == {"epochs": 4}
    assert seen["argv"] == ["--epochs", "4"]


def test_host_mode_trains_across_two_hosts(tmp_path: Path, digits: Path) -> None:
    done = launch(
        "configs/local_process.yaml", tmp_path, digits, "SAGEMAKER.INSTANCE_COUNT", "2", "SOLVER.EPOCHS", "2"
    )
    assert done.returncode == 0, done.stderr[-3000:]
    hashes = dict(WEIGHTS.findall(done.stdout + done.stderr))
    assert set(hashes) == {"algo-1", "algo-2"}
    assert hashes["algo-1"] == hashes["algo-2"]
    assert_model_artifact(only_job_dir(tmp_path))


def test_host_mode_reports_the_failure_file_and_exit_code(tmp_path: Path, digits: Path) -> None:
    done = launch("configs/local_process.yaml", tmp_path, digits, "DATA.FILE_NAME", "missing.npz")
    assert done.returncode == 1
    assert re.search(r"Host algo-1 exited with code 1: DataError: .*has no missing\.npz", done.stderr), (
        done.stderr[-2000:]
    )


def test_breakpoint_stops_in_pdb_on_the_terminal(tmp_path: Path) -> None:
    command = script_job_command(
        "configs/local_process.yaml", tmp_path / "runs", tmp_path / "code", BREAKPOINT_SCRIPT
    )
    controller, terminal = pty.openpty()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONBREAKPOINT"}
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=REPO_ROOT, env=environment
    )
    os.close(terminal)
    try:
        read_until(controller, b"(Pdb) ")
        os.write(controller, b"p value + 1\n")
        assert b"42" in read_until(controller, b"(Pdb) ")
        os.write(controller, b"value = 99\n")
        read_until(controller, b"(Pdb) ")
        os.write(controller, b"c\n")
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        os.close(controller)
    job = only_job_dir(tmp_path / "runs")
    assert archive_members(job / "output/model.tar.gz")["done.txt"] == b"99"


BREAKPOINT_SCRIPT = (
    "import os\n"
    "value = 41\n"
    "breakpoint()\n"
    "open(os.path.join(os.environ['SM_MODEL_DIR'], 'done.txt'), 'w').write(str(value))\n"
)
WAITING = re.compile(r"job_debugger: breakpoint\(\) at .*; pdb waits on port (\d+)")


def debug_over_socket(config: str, runs: Path, tmp_path: Path, port: int) -> None:
    """Run ``BREAKPOINT_SCRIPT`` with breakpoint() served by job_debugger.py (which the launcher adds beside
    the script), drive pdb over TCP on the loopback, check the job saw the change."""
    code = tmp_path / "code"
    command = script_job_command(
        config,
        runs,
        code,
        BREAKPOINT_SCRIPT,
        "SAGEMAKER.ENVIRONMENT.PYTHONBREAKPOINT",
        "job_debugger.set_trace",
        "DEBUGGER.PORT",
        str(port),
    )
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        waiting = None
        for line in process.stdout:
            waiting = WAITING.search(line)
            if waiting:
                break
        assert waiting, "the job never announced its debugger port"
        assert int(waiting[1]) == port
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            descriptor = connection.fileno()
            read_until(descriptor, b"(Pdb) ")
            connection.sendall(b"p value + 1\n")
            assert b"42" in read_until(descriptor, b"(Pdb) ")
            connection.sendall(b"value = 99\n")
            read_until(descriptor, b"(Pdb) ")
            connection.sendall(b"c\n")
            process.stdout.read()
            assert process.wait(timeout=120) == 0
    finally:
        process.kill()
    assert archive_members(only_job_dir(runs) / "output/model.tar.gz")["done.txt"] == b"99"


def test_socket_debugger_serves_pdb_over_tcp_in_host_mode(tmp_path: Path) -> None:
    debug_over_socket("configs/local_process.yaml", tmp_path / "runs", tmp_path, free_port())


def read_until(descriptor: int, marker: bytes, timeout: float = 60.0) -> bytes:
    """Read from a pseudo-terminal until ``marker`` appears; fail after ``timeout`` seconds."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} within {timeout} s; got: {seen[-2000:]!r}"
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if ready:
            try:
                seen += os.read(descriptor, 4096)
            except OSError:
                break
    return seen


# ---------------------------------------------------------------------------------------------- #
# Docker local mode
# ---------------------------------------------------------------------------------------------- #
def test_docker_local_mode_trains_the_example_to_its_accuracy_bar(docker_runs: Path, digits: Path) -> None:
    done = launch("configs/local.yaml", docker_runs, digits)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    job = only_job_dir(docker_runs)
    assert final_accuracy(job) >= 0.95
    assert_model_artifact(job)
    assert job_containers(job.name) == [], "the job's containers were left behind"
    networks = subprocess.run(
        ["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True
    )
    assert job.name not in networks.stdout.split(), "the job's network was left behind"
    status = json.loads((job / "status.json").read_text())
    assert status["status"] == "Completed" and status["hosts"] == {"algo-1": {"exit_code": 0}}


def test_docker_local_mode_trains_across_two_containers(docker_runs: Path, digits: Path) -> None:
    done = launch(
        "configs/local.yaml", docker_runs, digits, "SAGEMAKER.INSTANCE_COUNT", "2", "SOLVER.EPOCHS", "2"
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    hashes = dict(WEIGHTS.findall(done.stdout + done.stderr))
    assert set(hashes) == {"algo-1", "algo-2"}
    assert hashes["algo-1"] == hashes["algo-2"]
    assert_model_artifact(only_job_dir(docker_runs))


def test_docker_local_mode_picks_up_a_code_edit_without_a_rebuild(
    docker_runs: Path, digits: Path, tmp_path: Path
) -> None:
    image_before = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", TRAINING_IMAGE], capture_output=True, text=True
    )
    code = tmp_path / "edited"
    shutil.copytree(REPO_ROOT / "sagemaker_container", code, ignore=shutil.ignore_patterns("__pycache__"))
    main = code / "main.py"
    main.write_text(
        main.read_text().replace("def main(", "print('EDITED-CODE-IS-RUNNING')\n\n\ndef main(", 1)
    )
    done = launch(
        "configs/local.yaml", docker_runs, digits, "SAGEMAKER.SOURCE_DIR", str(code), "SOLVER.EPOCHS", "1"
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "EDITED-CODE-IS-RUNNING" in done.stdout + done.stderr
    image_after = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", TRAINING_IMAGE], capture_output=True, text=True
    )
    assert image_before.stdout == image_after.stdout


def test_docker_local_mode_shows_the_container_failure(docker_runs: Path, digits: Path) -> None:
    done = launch("configs/local.yaml", docker_runs, digits, "DATA.FILE_NAME", "missing.npz")
    assert done.returncode == 1
    assert re.search(r"Host algo-1 exited with code 1: DataError: .*has no missing\.npz", done.stderr), (
        done.stderr[-2000:]
    )


def test_docker_stop_reaches_the_training_script_which_checkpoints(docker_runs: Path, digits: Path) -> None:
    """What SageMaker does on a spot reclaim or StopTrainingJob: SIGTERM to the container's PID 1."""
    command = local_launch_command("configs/local.yaml", docker_runs, digits, "SOLVER.EPOCHS", "200")
    code, output = stop_first_container_after_an_epoch(command, RUN_TIMEOUT)
    assert code == 1
    assert re.search(r"Host algo-1 exited with code 1: Stopped by SIGTERM: checkpoint saved", output)


def test_socket_debugger_serves_pdb_from_inside_the_container(docker_runs: Path, tmp_path: Path) -> None:
    debug_over_socket("configs/local.yaml", docker_runs, tmp_path, 4444)


def test_missing_image_is_explained(docker_runs: Path, digits: Path) -> None:
    done = launch("configs/local.yaml", docker_runs, digits, "IMAGE.URI", "no-such-image:nope")
    assert done.returncode == 1
    assert (
        "Error: Image 'no-such-image:nope' (IMAGE.URI / IMAGE.REPOSITORY:TAG) is not on this Docker engine"
        in (done.stderr)
    )
