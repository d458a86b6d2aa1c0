"""How long the launcher takes, side by side with the bare ways of doing the same, in one run.

    python bench/launch.py [--repeat 5]

Each command runs as a fresh process, as a user runs it; the median of ``--repeat`` runs is shown.
Ratios are to a bare ``python -c "import sagemaker"``, and a launch is also compared with the
hand-written SDK script that starts the same job (bench/handwritten_launch.py), without and with an
SDK defaults file (as SageMaker Studio and many teams have; it is also how the SDK's telemetry is
turned off). Launches go to moto's server on loopback (started here), so network time to AWS is
left out: what remains is the tools' own cost.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(REPO_ROOT / "configs/sagemaker_config.yaml")
HANDWRITTEN = str(REPO_ROOT / "bench/handwritten_launch.py")
# An SDK defaults file of the usual kind: telemetry off and a default KMS key for outputs.
SDK_DEFAULTS = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
  TrainingJob:
    OutputDataConfig:
      KmsKeyId: arn:aws:kms:us-east-1:123456789012:key/bench
"""


def median_seconds(command: list[str], environment: dict[str, str], repeat: int) -> float:
    """Median wall time of ``command`` over ``repeat`` runs; a failing run aborts the benchmark."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1) or (done.returncode == 1 and "Error:" not in done.stderr):
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median shown)")
    repeat = parser.parse_args().repeat

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(environment)
    import boto3

    boto3.client("s3").create_bucket(Bucket="my-team-sagemaker")

    launcher = [sys.executable, str(REPO_ROOT / "run_sagemaker_job.py")]
    defaults_file = Path(tempfile.mkdtemp(prefix="launch-bench-")) / "sdk_defaults.yaml"
    defaults_file.write_text(SDK_DEFAULTS)
    with_defaults = {**environment, "SAGEMAKER_USER_CONFIG_OVERRIDE": str(defaults_file)}
    rows = [
        ('bare python -c "import sagemaker"', [sys.executable, "-c", "import sagemaker"], environment),
        ("run_sagemaker_job.py --help", [*launcher, "--help"], environment),
        (
            "validation error (no SDK import)",
            [*launcher, "--config", EXAMPLE, "SAGEMAKER.INSTANCE_COUNT", "0"],
            environment,
        ),
        ("--dry-run", [*launcher, "--config", EXAMPLE, "--dry-run"], environment),
        ("hand-written SDK script", [sys.executable, HANDWRITTEN], environment),
        ("launch", [*launcher, "--config", EXAMPLE], environment),
        ("hand-written SDK script, SDK defaults file", [sys.executable, HANDWRITTEN], with_defaults),
        ("launch, SDK defaults file", [*launcher, "--config", EXAMPLE], with_defaults),
    ]
    timings = {label: median_seconds(command, env, repeat) for label, command, env in rows}
    server.stop()

    baseline = timings[rows[0][0]]
    print(f"median of {repeat} runs each, {os.cpu_count()} CPUs")
    print(f"{'command':<46} {'seconds':>8} {'ratio':>7}")
    for label, seconds in timings.items():
        print(f"{label:<46} {seconds:8.2f} {seconds / baseline:7.2f}")
    for suffix in ("", ", SDK defaults file"):
        launch, handwritten = timings[f"launch{suffix}"], timings[f"hand-written SDK script{suffix}"]
        print(f"launch / hand-written script{suffix or ', no defaults file'}: {launch / handwritten:.2f}")


if __name__ == "__main__":
    main()
