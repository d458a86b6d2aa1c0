"""The debug loop's speed: how soon training starts after you press Enter, in one run.

    python bench/debug_loop.py [--repeat 3]

Measured as the time until the first ``[metric]`` line (the end of the first epoch, so the same
training work is inside every figure and differences are the machinery's own cost):

- by hand: the command host mode runs for the example (torchrun, one process: the example enables
  ``torch_distributed``) started against a prepared ``/opt/ml`` tree (the floor);
- host mode, ``run_sagemaker_job.py`` with ``local_process`` (target: at most 0.3 s over the floor);
- Docker local mode with a warm image right after a code edit (target: at most 3 s over host mode;
  skipped when no engine runs).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import argument_parser

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sagemaker_launcher.config.run_modes import free_port  # noqa: E402

IMAGE = "sm-launcher-training:local"
FIRST_METRIC = "[metric]"


def seconds_to_first_metric(command: list[str], environment: dict[str, str], cwd: Path) -> float:
    """Start ``command`` and return the seconds until it prints its first metric line."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        if elapsed is None and FIRST_METRIC in line:
            elapsed = time.perf_counter() - started
    if process.wait() != 0 or elapsed is None:
        sys.exit(f"{' '.join(command)} failed (exit {process.returncode})")
    return elapsed


def main() -> None:
    parser = argument_parser(__doc__, 3, "runs per variant (median shown)")
    repeat = parser.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="debug-loop-"))
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run(
        [sys.executable, "scripts/make_digits_data.py", str(work / "digits")], cwd=REPO_ROOT, check=True
    )
    training_yaml = work / "training.yaml"
    training_yaml.write_text("SOLVER:\n  EPOCHS: 1\n")

    tree = work / "opt_ml"
    (tree / "input/data").mkdir(parents=True)
    for channel in ("train", "validation"):
        (tree / "input/data" / channel).symlink_to(work / "digits" / channel)
    direct = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "1",
        "--master_addr", "127.0.0.1", "--master_port", str(free_port()), "--node_rank", "0",
        "--tee", "3", "main.py", "--config-file", str(training_yaml),
    ]  # fmt: skip
    direct_environment = {**environment, "SAGEMAKER_BASE_DIR": str(tree)}

    launcher = [
        sys.executable,
        str(REPO_ROOT / "run_sagemaker_job.py"),
        "LOCAL.RUNS_DIR",
        str(work / "runs"),
        "INPUTS.train",
        str(work / "digits/train"),
        "INPUTS.validation",
        str(work / "digits/validation"),
        "TRAINING.CONFIG_FILE",
        str(training_yaml),
    ]
    host_mode = [*launcher, "--config", str(REPO_ROOT / "configs/local_process.yaml")]

    results: dict[str, float] = {}
    direct_runs = []
    for _ in range(repeat):
        # A leftover checkpoint would resume the finished run: start each from a clean tree.
        for leftover in ("checkpoints", "model", "output"):
            shutil.rmtree(tree / leftover, ignore_errors=True)
        direct_runs.append(
            seconds_to_first_metric(direct, direct_environment, REPO_ROOT / "sagemaker_container")
        )
    results["by hand: torchrun main.py"] = statistics.median(direct_runs)
    results["host mode (local_process)"] = statistics.median(
        seconds_to_first_metric(host_mode, environment, REPO_ROOT) for _ in range(repeat)
    )
    docker = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False)
    if shutil.which("docker") and docker.returncode == 0:
        code = work / "code"
        shutil.copytree(REPO_ROOT / "sagemaker_container", code, ignore=shutil.ignore_patterns("__pycache__"))
        runs = []
        for attempt in range(repeat):
            with (code / "main.py").open("a") as main_py:
                main_py.write(f"# edit {attempt}\n")
            docker_mode = [
                *launcher,
                "--config",
                str(REPO_ROOT / "configs/local.yaml"),
                "SAGEMAKER.SOURCE_DIR",
                str(code),
            ]
            runs.append(seconds_to_first_metric(docker_mode, environment, REPO_ROOT))
        results["Docker local mode, after a code edit"] = statistics.median(runs)
    else:
        print(f"(Docker local mode skipped: no engine or no image {IMAGE})")
    shutil.rmtree(work, ignore_errors=True)

    floor = results["by hand: torchrun main.py"]
    print(f"seconds to the first metric line (1 epoch), median of {repeat}, {os.cpu_count()} CPUs")
    print(f"{'variant':<40} {'seconds':>8} {'over by hand':>13} {'ratio':>6}")
    for label, seconds in results.items():
        print(f"{label:<40} {seconds:8.2f} {seconds - floor:+13.2f} {seconds / floor:6.2f}")
    docker_mode_seconds = results.get("Docker local mode, after a code edit")
    if docker_mode_seconds is not None:
        host = results["host mode (local_process)"]
        print(f"Docker local mode over host mode: {docker_mode_seconds - host:+.2f} s")


if __name__ == "__main__":
    main()
