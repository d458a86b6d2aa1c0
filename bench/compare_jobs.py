"""How long ``run_sagemaker_job.py compare`` takes over 20 SageMaker jobs on the loopback AWS endpoint.

    .venv/bin/python bench/compare_jobs.py [--jobs 20] [--repeat 3]

The jobs are made directly with boto3 (the launcher's tags, both resolved configs and a record under
each config prefix, three metrics of 15 points each in CloudWatch), not through the launcher, so the
timing is the comparison's. Each timing is a fresh process; the baseline is a fresh process making
the same number of bare boto3 DescribeTrainingJob calls, one after another. Prints the best of
``--repeat``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from bench_support import argument_parser, best_seconds, loopback_aws

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sagemaker_container.sagemaker_contract.names import (  # noqa: E402
    RECORD_FILE,
    SAGEMAKER_CONFIG_FILE,
    TRAINING_CONFIG_FILE,
)
from sagemaker_launcher.spec.layout import TAG_CONFIG, TAG_EXPERIMENT  # noqa: E402

BUCKET = "bench-bucket"
REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"
METRICS = {
    "train:loss": r"\[metric\] train:loss=([0-9.]+)",
    "validation:loss": r"\[metric\] validation:loss=([0-9.]+)",
    "validation:accuracy": r"\[metric\] validation:accuracy=([0-9.]+)",
}
EPOCHS = 15


def make_jobs(count: int) -> list[str]:
    """``count`` recorded jobs that differ in SOLVER.BASE_LR, with their curves in CloudWatch."""
    import boto3
    import yaml

    s3 = boto3.client("s3", region_name=REGION)
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    start = dt.datetime.now(dt.UTC)
    names = []
    for index in range(count):
        name = f"bench-{index:04d}"
        prefix = f"bench/{name}/config/"
        rate = round(0.001 * (index + 1), 4)
        sagemaker_config = {"SAGEMAKER": {"INSTANCE_TYPE": "ml.g5.xlarge"}, "METRICS": METRICS}
        training = {"SEED": 7, "SOLVER": {"BASE_LR": rate, "EPOCHS": EPOCHS}}
        for file, data in ((SAGEMAKER_CONFIG_FILE, sagemaker_config), (TRAINING_CONFIG_FILE, training)):
            s3.put_object(Bucket=BUCKET, Key=prefix + file, Body=yaml.safe_dump(data))
        s3.put_object(Bucket=BUCKET, Key=prefix + RECORD_FILE, Body=json.dumps({"job_name": name}))
        sagemaker.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={
                "TrainingImage": "bench:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": key, "Regex": regex} for key, regex in METRICS.items()],
            },
            RoleArn=ROLE_ARN,
            HyperParameters={"SOLVER.BASE_LR": json.dumps(rate)},
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/bench/"},
            ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Tags=[
                {"Key": TAG_EXPERIMENT, "Value": "bench"},
                {"Key": TAG_CONFIG, "Value": f"s3://{BUCKET}/{prefix}"},
            ],
        )
        cloudwatch.put_metric_data(
            Namespace="/aws/sagemaker/TrainingJobs",
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "Host", "Value": f"{name}/algo-1"}],
                    "Timestamp": start + dt.timedelta(seconds=epoch),
                    "Value": 1.0 / (epoch + 1 + index),
                }
                for metric in METRICS
                for epoch in range(EPOCHS)
            ],
        )
        names.append(name)
    return names


def main() -> None:
    parser = argument_parser(__doc__, 3, "Runs per command; the best is reported.")
    parser.add_argument("--jobs", type=int, default=20, help="Number of jobs to compare.")
    args = parser.parse_args()

    with loopback_aws(REGION):
        names = make_jobs(args.jobs)
        bare = (
            "import boto3, sys; c = boto3.client('sagemaker'); "
            "[c.describe_training_job(TrainingJobName=n) for n in sys.argv[1:]]"
        )
        baseline = best_seconds([sys.executable, "-c", bare, *names], args.repeat)
        print(f"bare: {args.jobs} boto3 describe_training_job calls in one process: {baseline:.2f} s")
        for extra in ([], ["--json"]):
            command = [sys.executable, "run_sagemaker_job.py", "compare", *names, *extra]
            seconds = best_seconds(command, args.repeat)
            label = " ".join(["compare", f"<{args.jobs} jobs>", *extra])
            print(f"{label}: {seconds:.2f} s = {seconds / baseline:.1f}x the bare describes")


if __name__ == "__main__":
    main()
