"""The job's debugger as a team meets it: a crashing script of its own held on its failing frame in host
mode and in Docker, pdb reached over the port the rule gives, the job then ending with the failure it
would have had; the other rank of a two-process job waiting meanwhile; debugpy answering an editor;
the request a held job sends; and ``attach`` of a SageMaker job running the SSM session it should."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import stat
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.aws import BUCKET, s3_keys
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.docker import TRAINING_IMAGE, job_containers, require_image

from sagemaker_launcher.config.run_modes import free_port

EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
# Generous: a held job must end long before it, which is what the tests check.
HOLD_SECONDS = 600
JOB_TIMEOUT = 240

CRASHING = """\
def step(batch):
    secret = 41 + batch
    return secret / (batch - 3)

for batch in range(5):
    print("batch", batch, step(batch), flush=True)
"""

TWO_RANKS = """\
import torch.distributed as dist

dist.init_process_group("gloo")
if dist.get_rank() == 1:
    secret = "rank one's value"
    raise RuntimeError("rank 1 gives up")
print("rank 0 waits at the barrier", flush=True)
dist.barrier()
"""

WAITS = re.compile(r"job_debugger: .* waits on port (\d+)")


def own_job(tmp_path: Path, script: str, instance_type: str = "local_process", **debugger: object) -> Path:
    code = tmp_path / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(script)
    return write_yaml(
        tmp_path / "job.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": instance_type,
                "BASE_JOB_NAME": "held",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "train.py",
            },
            "IMAGE": {"URI": TRAINING_IMAGE},
            "TRAINING": {"DEFAULTS": ""},
            "LOCAL": {"RUNS_DIR": str(tmp_path / "runs")},
            "DEBUGGER": {"PORT": free_port(), **debugger},
        },
    )


@contextmanager
def launched(config: Path, *overrides: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """The launcher running ``config``; its output lines so far (read on as the test reads them)."""
    process = subprocess.Popen(
        python_command("--config", str(config), *overrides),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield process, []
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def wait_for_port(process: subprocess.Popen[str], lines: list[str], count: int = 1) -> list[int]:
    """Read the launcher's output until ``count`` processes say where their debugger waits."""
    ports: list[int] = []
    deadline = time.monotonic() + JOB_TIMEOUT
    assert process.stdout is not None
    while len(ports) < count:
        line = process.stdout.readline()
        assert line, "the run ended before its debugger listened:\n" + "".join(lines[-40:])
        lines.append(line)
        found = WAITS.search(line)
        if found:
            ports.append(int(found[1]))
        assert time.monotonic() < deadline, "".join(lines[-40:])
    return ports


def pdb_talk(port: int, commands: list[str]) -> str:
    """Connect to the job's pdb, send each command after a prompt, then quit; return all it wrote."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        said = _until_prompt(connection)
        for command in [*commands, "q"]:
            connection.sendall(command.encode() + b"\n")
            said += _until_prompt(connection)
    return said


def _until_prompt(connection: socket.socket) -> str:
    received = b""
    while not received.endswith(b"(Pdb) "):
        chunk = connection.recv(65536)
        if not chunk:
            break
        received += chunk
    return received.decode()


def finish(process: subprocess.Popen[str], lines: list[str]) -> int:
    assert process.stdout is not None
    rest, _ = process.communicate(timeout=JOB_TIMEOUT)
    lines.append(rest)
    return process.returncode


def run_job(config: Path) -> subprocess.CompletedProcess[str]:
    """A whole run of ``config`` to its end, its output kept."""
    return subprocess.run(
        python_command("--config", str(config)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT,
    )


def run_status(tmp_path: Path) -> dict[str, object]:
    [status] = (tmp_path / "runs").glob("*/*/status.json")
    return json.loads(status.read_text())


def error_message(reason: str, run_folder: str) -> str:
    """The ErrorMessage part of a toolkit-format reason, the run's own folder named alike."""
    message = reason.split('ErrorMessage "', 1)[1].rsplit('"\nCommand', 1)[0]
    return re.sub(r"held-\d{8}-\d{6}-[0-9a-f]{4}", "<job>", message.replace(run_folder, "<runs>"))


def test_a_crashing_script_is_held_on_its_failing_frame_and_then_fails_as_it_would_have(
    tmp_path: Path,
) -> None:
    config = own_job(tmp_path / "held", CRASHING, HOLD_ON_FAILURE_SECONDS=HOLD_SECONDS)
    started = time.monotonic()
    with launched(config) as (process, lines):
        [port] = wait_for_port(process, lines)
        said = pdb_talk(port, ["p secret", "p batch"])
        code = finish(process, lines)
    output = "".join(lines)
    assert "-> return secret / (batch - 3)" in said
    assert "(Pdb) 44\n" in said and "(Pdb) 3\n" in said
    assert code == 1, output[-3000:]
    assert time.monotonic() - started < HOLD_SECONDS / 4, "quitting pdb did not end the hold"
    assert "the debugger quit: the process ends with its failure" in output
    held = run_status(tmp_path / "held")
    # The same job without the hold fails with the same error message.
    plain = own_job(tmp_path / "plain", CRASHING)
    done = run_job(plain)
    assert done.returncode == 1, done.stderr[-3000:]
    reason = run_status(tmp_path / "plain")["failure_reason"]
    assert isinstance(reason, str) and isinstance(held["failure_reason"], str)
    assert error_message(held["failure_reason"], str(tmp_path / "held/runs")) == error_message(
        reason, str(tmp_path / "plain/runs")
    )
    assert "ZeroDivisionError: division by zero" in reason


def test_the_hold_ends_the_job_when_no_debugger_comes(tmp_path: Path) -> None:
    config = own_job(tmp_path, CRASHING, HOLD_ON_FAILURE_SECONDS=3)
    done = run_job(config)
    assert done.returncode == 1
    assert "no debugger quit within 3 s (DEBUGGER.HOLD_ON_FAILURE_SECONDS): the process ends" in done.stdout
    assert "ZeroDivisionError" in str(run_status(tmp_path)["failure_reason"])


def test_in_a_two_process_job_the_failing_rank_holds_while_the_other_waits(tmp_path: Path) -> None:
    """Rank 1 fails and holds on its port (PORT + 1); rank 0 waits at its barrier meanwhile. Quitting
    rank 1's debugger ends it; torchrun then stops rank 0, and the job fails with rank 1's error."""
    config = own_job(tmp_path, TWO_RANKS, HOLD_ON_FAILURE_SECONDS=HOLD_SECONDS)
    base = int(re.search(r"PORT: (\d+)", config.read_text())[1])
    with launched(config, "SAGEMAKER.PROCESSES_PER_HOST", "2") as (process, lines):
        [port] = wait_for_port(process, lines)
        assert port == base + 1
        job = re.search(r"Job (held-\S+)", "".join(lines))[1]
        attach = subprocess.run(
            python_command("attach", job, "--rank", "1", "--runs-dir", str(tmp_path / "runs")),
            input="p secret\nq\n",
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        code = finish(process, lines)
    output = "".join(lines)
    assert attach.returncode == 0, attach.stderr
    assert '"rank one\'s value"' in attach.stdout
    assert "[algo-1/0] rank 0 waits at the barrier" in output
    assert code == 1
    reason = str(run_status(tmp_path)["failure_reason"])
    assert "RuntimeError: rank 1 gives up" in reason, reason


def test_debugpy_answers_an_editors_initialize_on_the_held_process(tmp_path: Path) -> None:
    pytest.importorskip("debugpy")
    config = own_job(tmp_path, CRASHING, HOLD_ON_FAILURE_SECONDS=15, ADAPTER="debugpy")
    with launched(config) as (process, lines):
        [port] = wait_for_port(process, lines)
        with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
            request = {
                "seq": 1,
                "type": "request",
                "command": "initialize",
                "arguments": {"adapterID": "test"},
            }
            body = json.dumps(request).encode()
            connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            response = _dap_response(connection, "initialize")
        code = finish(process, lines)
    assert response["success"] is True
    assert response["body"].get("supportsConfigurationDoneRequest") is True
    assert code == 1
    assert "no debugger quit within 15 s" in "".join(lines)


def _dap_response(connection: socket.socket, command: str) -> dict[str, object]:
    """Read DAP messages (debugpy sends events first) until the response to ``command``."""
    buffer = b""
    while True:
        while b"\r\n\r\n" not in buffer:
            chunk = connection.recv(65536)
            assert chunk, "debugpy closed the connection"
            buffer += chunk
        header, buffer = buffer.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"Content-Length: (\d+)", header)[1])
        while len(buffer) < length:
            buffer += connection.recv(65536)
        message, buffer = json.loads(buffer[:length]), buffer[length:]
        if message.get("type") == "response" and message.get("command") == command:
            return message


def test_a_container_holds_its_failure_on_a_port_published_on_the_loopback_only(
    tmp_path: Path, docker_runs: None
) -> None:
    require_image(TRAINING_IMAGE)
    config = own_job(tmp_path, CRASHING, "local", HOLD_ON_FAILURE_SECONDS=HOLD_SECONDS)
    started = time.monotonic()
    with launched(config) as (process, lines):
        [port] = wait_for_port(process, lines)
        [container] = job_containers("held-")
        published = subprocess.run(["docker", "port", container], capture_output=True, text=True).stdout
        said = pdb_talk(port, ["p secret"])
        code = finish(process, lines)
    assert published.split() == [f"{port}/tcp", "->", f"127.0.0.1:{port}"], published
    assert "(Pdb) 44\n" in said
    assert code == 1, "".join(lines)[-3000:]
    assert time.monotonic() - started < HOLD_SECONDS / 4
    assert "ZeroDivisionError: division by zero" in str(run_status(tmp_path)["failure_reason"])


def test_a_held_job_runs_its_script_through_the_runner_added_beside_the_code(
    aws: str, tmp_path: Path
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(CRASHING)
    overrides = [
        *("SAGEMAKER.SOURCE_DIR", str(code), "SAGEMAKER.ENTRY_POINT", "train.py"),
        *("TRAINING.DEFAULTS", "", "TRAINING.CONFIG_FILE", ""),
        *("DEBUGGER.HOLD_ON_FAILURE_SECONDS", "900", "SAGEMAKER.ENABLE_REMOTE_DEBUG", "true"),
    ]
    dry = run_cli("--config", EXAMPLE, *overrides, "--dry-run")
    assert "A failure keeps the job up to 900 s longer (DEBUGGER.HOLD_ON_FAILURE_SECONDS)" in dry.output
    run_cli("--config", EXAMPLE, *overrides)
    [request_key] = [key for key in s3_keys() if key.endswith("config/request.json")]
    request = json.loads(_s3_text(request_key))
    assert request["HyperParameters"]["sagemaker_program"] == '"job_debugger.py"'
    assert request["Environment"]["SM_LAUNCHER_ENTRY_POINT"] == "train.py"
    assert request["Environment"]["SM_LAUNCHER_HOLD_ON_FAILURE_SECONDS"] == "900"
    assert request["RemoteDebugConfig"] == {"EnableRemoteDebug": True}
    [archive_key] = [key for key in s3_keys() if key.endswith("code/sourcedir.tar.gz")]
    with tarfile.open(fileobj=_s3_stream(archive_key)) as archive:
        assert sorted(archive.getnames()) == ["job_debugger.py", "train.py"]
    record = json.loads(_s3_text(request_key.replace("request.json", "record.json")))
    assert record["debugger"]["program"] == "job_debugger.py" and record["debugger"]["module_added"] is True


def _s3_text(key: str) -> str:
    return _s3_stream(key).read().decode()


def _s3_stream(key: str) -> io.BytesIO:
    import boto3

    return io.BytesIO(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


# A stand-in for the aws CLI: records its arguments; as a port forwarder it serves a fake pdb on the
# local port it was given, echoing the line it gets, as SSM's forwarder would carry the job's pdb.
FAKE_AWS = """\
#!{python}
import json, socket, sys
with open({record!r}, "a") as record:
    record.write(json.dumps(sys.argv[1:]) + "\\n")
if "--parameters" in sys.argv:
    parameters = json.loads(sys.argv[sys.argv.index("--parameters") + 1])
    local = int(parameters["localPortNumber"][0])
    with socket.create_server(("127.0.0.1", local)) as server:
        connection, _ = server.accept()
        connection.sendall(b"> train.py(3)step()\\n(Pdb) ")
        line = connection.makefile().readline()
        connection.sendall(b"far end got: " + line.encode())
        connection.close()
"""


def stand_in_tools(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """PATH with a recording ``aws`` and a ``session-manager-plugin``; the file the arguments go to."""
    tools = tmp_path / "bin"
    tools.mkdir()
    record = tmp_path / "aws-calls.jsonl"
    (tools / "aws").write_text(FAKE_AWS.format(python=sys.executable, record=str(record)))
    (tools / "session-manager-plugin").write_text("#!/bin/sh\nexit 0\n")
    for tool in tools.iterdir():
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}, record


def launch_debuggable(aws_dialect: object, tmp_path: Path, *overrides: str) -> str:
    aws_dialect.knobs.lifecycle_step_s = 120  # type: ignore[attr-defined]  # the job stays InProgress
    output = run_cli("--config", EXAMPLE, *overrides).output
    return re.search(r"Started training job (\S+)", output)[1]


def test_attach_of_a_sagemaker_job_forwards_the_debuggers_port_over_ssm(
    aws_dialect: object, tmp_path: Path
) -> None:
    job = launch_debuggable(
        aws_dialect, tmp_path, "SAGEMAKER.ENABLE_REMOTE_DEBUG", "true", "SAGEMAKER.INSTANCE_COUNT", "2"
    )
    env, record = stand_in_tools(tmp_path)
    dry = subprocess.run(
        python_command("attach", job, "--host", "algo-2", "--dry-run"),
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert (
        f"aws ssm start-session --region us-east-1 --target sagemaker-training-job:{job}_algo-2" in dry.stdout
    )
    assert "--document-name AWS-StartPortForwardingSession" in dry.stdout
    assert not record.exists(), "a dry run ran the aws CLI"
    done = subprocess.run(
        python_command("attach", job),
        input="p secret\n", cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "far end got: p secret" in done.stdout
    [call] = [json.loads(line) for line in record.read_text().splitlines()]
    parameters = json.loads(call[call.index("--parameters") + 1])
    assert call[: call.index("--parameters")] == [
        "ssm", "start-session", "--region", "us-east-1", "--target", f"sagemaker-training-job:{job}_algo-1",
        "--document-name", "AWS-StartPortForwardingSession",
    ]  # fmt: skip
    assert parameters["portNumber"] == ["4444"] and parameters["localPortNumber"][0].isdigit()
    shell = subprocess.run(
        python_command("attach", job, "--shell"),
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert json.loads(record.read_text().splitlines()[-1]) == [
        "ssm", "start-session", "--region", "us-east-1", "--target", f"sagemaker-training-job:{job}_algo-1",
    ]  # fmt: skip


def test_attach_says_what_is_missing_in_one_paragraph(aws_dialect: object, tmp_path: Path) -> None:
    job = launch_debuggable(aws_dialect, tmp_path)
    env, record = stand_in_tools(tmp_path)
    without = run_cli("attach", job, expect_exit=1).output
    assert f"aws sagemaker update-training-job --training-job-name {job} --remote-debug-config" in without
    assert "Traceback" not in without
    debuggable = launch_debuggable(aws_dialect, tmp_path, "SAGEMAKER.ENABLE_REMOTE_DEBUG", "true")
    no_cli = subprocess.run(
        python_command("attach", debuggable),
        cwd=REPO_ROOT, env={**env, "PATH": os.path.dirname(sys.executable)}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert no_cli.returncode == 1
    assert (
        "no 'aws' command is on PATH. Install AWS CLI v2" in no_cli.stderr
        and "Traceback" not in no_cli.stderr
    )
    assert not record.exists()
