"""How long ``run_sagemaker_job.py list`` takes in an account shared with other teams, beside bare boto3.

    .venv/bin/python bench/list_jobs.py [--jobs 500] [--others 10000] [--repeat 3]

The endpoint is the tests' AWS dialect in front of moto's server, both on loopback: it serves Search
as SageMaker does (100 jobs a page, filters applied by the service) over the team's ``--jobs`` plus
``--others`` jobs of other teams. The team's jobs are made directly with boto3 (create_training_job
with the launcher's tags, plus a record.json under each config prefix), not through the launcher: 500
real launches would measure the launch, not the listing. Each timing is a fresh process, best of
``--repeat``: ``list --limit N`` (Search pages, then one record read per row shown) beside a bare boto3
script making the same Search calls and printing the names (bench/bare_boto3_search.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bench_support import argument_parser, best_seconds, loopback_aws

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests")]
from support.aws_dialect import AwsDialect, Knobs  # noqa: E402

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
    parser.add_argument("--jobs", type=int, default=500, help="The team's jobs (made by the launcher).")
    parser.add_argument("--others", type=int, default=10_000, help="Other teams' jobs in the account.")
    args = parser.parse_args()

    with loopback_aws(REGION) as environment:
        started = time.perf_counter()
        make_jobs(args.jobs)
        print(f"created {args.jobs} jobs in {time.perf_counter() - started:.1f} s; {args.others} others")
        # Search as the service serves it; no throttling or lifecycle, which would time the dialect.
        knobs = Knobs(foreign_jobs=args.others, throttle_first_calls=False, job_lifecycle=False)
        with AwsDialect(environment["AWS_ENDPOINT_URL"], knobs=knobs) as dialect:
            os.environ["AWS_ENDPOINT_URL"] = dialect.url
            best_seconds([sys.executable, "bench/bare_boto3_search.py", "1"], 1)  # the dialect's first Search
            print(f"{'command':<28} {'seconds':>8} {'Search calls':>13} {'ratio to bare':>14}")
            for limit in (20, args.jobs):
                bare = [sys.executable, "bench/bare_boto3_search.py", str(limit)]
                listed = [sys.executable, "run_sagemaker_job.py", "list", "--limit", str(limit)]
                figures = []
                for label, command in (
                    (f"bare Search, {limit} jobs", bare),
                    (f"list --limit {limit}", listed),
                ):
                    dialect.calls.clear()
                    seconds = best_seconds(command, args.repeat)
                    figures.append((label, seconds, dialect.calls["SageMaker.Search"] // args.repeat))
                for label, seconds, calls in figures:
                    print(f"{label:<28} {seconds:8.2f} {calls:13d} {seconds / figures[0][1]:14.2f}")


if __name__ == "__main__":
    main()
