"""How long ``run_sagemaker_job.py list`` takes with 500 jobs on the loopback AWS endpoint.

    .venv/bin/python bench/list_jobs.py [--jobs 500] [--repeat 3]

The jobs are made directly with boto3 (create_training_job with the launcher's tags, plus a
record.json object under each config prefix), not through the launcher: 500 real launches would
take minutes and measure the launch, not the listing. Each timing is a fresh
``python run_sagemaker_job.py list`` process (interpreter start and imports included), compared
with a bare ``python -c "import boto3"`` measured in the same run. Prints the best of ``--repeat``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench_support import argument_parser, best_seconds, loopback_aws

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sagemaker_container.sagemaker_contract.names import RECORD_FILE  # noqa: E402
from sagemaker_launcher.spec.layout import TAG_CONFIG, TAG_EXPERIMENT, TAG_GIT_COMMIT  # noqa: E402

BUCKET = "bench-bucket"
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"


def make_jobs(count: int) -> None:
    """``count`` tagged jobs over 5 experiments, each with a small record.json."""
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    for index in range(count):
        experiment = f"exp-{index % 5}"
        name = f"bench-{index:04d}"
        config = f"s3://{BUCKET}/{experiment}/{name}/config/"
        record = {"job_name": name, "launched_by": {"user": f"user{index % 3}"}, "git": {"dirty": False}}
        s3.put_object(Bucket=BUCKET, Key=f"{experiment}/{name}/config/{RECORD_FILE}", Body=json.dumps(record))
        sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": "bench:latest", "TrainingInputMode": "File"},
            RoleArn=ROLE_ARN,
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/{experiment}/"},
            ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=[
                {"Key": TAG_EXPERIMENT, "Value": experiment},
                {"Key": TAG_GIT_COMMIT, "Value": f"{index:040x}"},
                {"Key": TAG_CONFIG, "Value": config},
            ],
        )


def main() -> None:
    parser = argument_parser(__doc__, 3, "Runs per command; the best is reported.")
    parser.add_argument("--jobs", type=int, default=500, help="Number of jobs to create.")
    args = parser.parse_args()

    with loopback_aws(REGION):
        started = time.perf_counter()
        make_jobs(args.jobs)
        print(f"created {args.jobs} jobs in {time.perf_counter() - started:.1f} s")
        baseline = best_seconds([sys.executable, "-c", "import boto3"], args.repeat)
        print(f"python -c 'import boto3': {baseline:.2f} s")
        for limit in (20, args.jobs):
            command = [sys.executable, "run_sagemaker_job.py", "list", "--limit", str(limit)]
            seconds = best_seconds(command, args.repeat)
            ratio = seconds / baseline
            print(f"list --limit {limit} ({args.jobs} jobs): {seconds:.2f} s = {ratio:.1f}x import boto3")


if __name__ == "__main__":
    main()
