"""How long the launcher takes, side by side with the bare ways of doing the same, in one run.

    python bench/launch.py [--repeat 5]

Each command runs as a fresh process, as a user runs it; the median of ``--repeat`` runs is shown.
The commands take turns (one run of each per round), so a neighbour's load falls on all of them.
Ratios are to a bare ``python -c "import sagemaker"``, and a launch is also compared with the
hand-written SDK script that starts the same job (bench/handwritten_launch.py), without and with an
SDK defaults file (as SageMaker Studio and many teams have; it is also how the SDK's telemetry is
turned off). Launches go to moto's server on loopback (started here), so network time to AWS is
left out: what remains is the tools' own cost.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_support import argument_parser, loopback_aws

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


def seconds(command: list[str], environment: dict[str, str]) -> float:
    """Wall time of one run of ``command``; a run that fails unexpectedly aborts the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or (done.returncode == 1 and "Error:" not in done.stderr):
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def rounds(rows: list[tuple[str, list[str], dict[str, str]]], repeat: int) -> dict[str, list[float]]:
    """Wall times of each row's command over ``repeat`` rounds, the rows taking turns."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in rows}
    for _ in range(repeat):
        for label, command, environment in rows:
            times[label].append(seconds(command, environment))
    return times


def main() -> None:
    parser = argument_parser(__doc__, 5, "runs per command (median shown)")
    repeat = parser.parse_args().repeat

    with loopback_aws() as environment:
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
        times = rounds(rows, repeat)

    medians = {label: statistics.median(runs) for label, runs in times.items()}
    baseline = medians[rows[0][0]]
    load = os.getloadavg()[0]
    print(f"median of {repeat} runs each, {os.cpu_count()} CPUs, 1-minute load {load:.2f} at the end")
    print(f"{'command':<46} {'seconds':>8} {'ratio':>7}")
    for label, median in medians.items():
        print(f"{label:<46} {median:8.2f} {median / baseline:7.2f}")
    # Each round's launch over the same round's hand-written script, so drift between rounds cancels.
    for suffix in ("", ", SDK defaults file"):
        pairs = zip(times[f"launch{suffix}"], times[f"hand-written SDK script{suffix}"], strict=True)
        ratio = statistics.median(launch / handwritten for launch, handwritten in pairs)
        print(f"launch / hand-written script{suffix or ', no defaults file'}: {ratio:.2f} (median of rounds)")


if __name__ == "__main__":
    main()
