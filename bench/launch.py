"""How long the launcher takes, side by side with the bare ways of doing the same, in one run.

    python bench/launch.py [--repeat 5]

Each command runs as a fresh process, as a user runs it; the median of ``--repeat`` runs is shown.
The commands take turns (one run of each per round), so a neighbour's load falls on all of them.
A launch is set beside the two ways a team starts the same job without the launcher: the
hand-written SDK script (bench/handwritten_launch.py), without and with an SDK defaults file (as
SageMaker Studio and many teams have), and boto3 alone making the same uploads and
``CreateTrainingJob`` call (bench/bare_boto3_launch.py). Ratios are to a bare
``python -c "import boto3"``. Launches go to moto's server on loopback (started here), so network
time to AWS is left out: what remains is the tools' own cost.

Targets: launch <= 0.4x the hand-written SDK script and <= 1.5x bare boto3 (median of the rounds'
ratios); a dry run under 1 s.
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
BARE_BOTO3 = str(REPO_ROOT / "bench/bare_boto3_launch.py")
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


def working_tree_state() -> str:
    """Clean, or how many diff lines each launch's record redacts (detect-secrets scans every one)."""
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    return f"dirty, a {diff.count(chr(10))}-line diff in every record" if diff else "clean"


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
            ('bare python -c "import boto3"', [sys.executable, "-c", "import boto3"], environment),
            ("run_sagemaker_job.py --help", [*launcher, "--help"], environment),
            (
                "validation error",
                [*launcher, "--config", EXAMPLE, "SAGEMAKER.INSTANCE_COUNT", "0"],
                environment,
            ),
            ("--dry-run", [*launcher, "--config", EXAMPLE, "--dry-run"], environment),
            ("bare boto3 script", [sys.executable, BARE_BOTO3], environment),
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
    print(f"working tree: {working_tree_state()}")
    print(f"{'command':<46} {'seconds':>8} {'ratio':>7}")
    for label, median in medians.items():
        print(f"{label:<46} {median:8.2f} {median / baseline:7.2f}")
    # Each round's launch over the same round's baseline, so drift between rounds cancels.
    for launch, baseline_label in (
        ("launch", "hand-written SDK script"),
        ("launch, SDK defaults file", "hand-written SDK script, SDK defaults file"),
        ("launch", "bare boto3 script"),
    ):
        pairs = zip(times[launch], times[baseline_label], strict=True)
        ratio = statistics.median(mine / theirs for mine, theirs in pairs)
        print(f"{launch} / {baseline_label}: {ratio:.2f} (median of rounds)")


if __name__ == "__main__":
    main()
