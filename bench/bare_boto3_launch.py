"""The barest way to start the example's job: boto3 alone, the floor the launcher is held to.

    python bench/bare_boto3_launch.py

What the launcher sends, written out by hand: the two config files and a small record uploaded to
the job's config prefix, then one ``CreateTrainingJob`` with the same image, role, instance,
channels (``config`` included), hyperparameters, checkpoints and TensorBoard output. No checks, no
defaults, no git, no undo.
"""

import json
import time
from pathlib import Path

import boto3

BUCKET = "my-team-sagemaker"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"

name = time.strftime("bare-%Y%m%d-%H%M%S-") + f"{time.perf_counter_ns() % 65536:04x}"
prefix = f"digits-baseline/{name}"
session = boto3.Session(region_name="us-east-1")
s3 = session.client("s3")
for file in ("sagemaker_config.yaml", "training_config.yaml"):
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/config/{file}", Body=(CONFIGS / file).read_bytes())
record = {
    "job_name": name,
    "launched_by": "bench",
    "configs": ["sagemaker_config.yaml", "training_config.yaml"],
}
s3.put_object(Bucket=BUCKET, Key=f"{prefix}/config/record.json", Body=json.dumps(record).encode())


def channel(channel_name: str, uri: str) -> dict:
    source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
    return {"ChannelName": channel_name, "DataSource": {"S3DataSource": source}}


session.client("sagemaker").create_training_job(
    TrainingJobName=name,
    AlgorithmSpecification={
        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training:v1",
        "TrainingInputMode": "File",
    },
    RoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
    HyperParameters={
        "SEED": "7",
        "SOLVER.EPOCHS": "15",
        "SOLVER.BATCH_SIZE": "64",
        "SOLVER.BASE_LR": "0.003",
    },
    InputDataConfig=[
        channel("train", f"s3://{BUCKET}/datasets/digits/train/"),
        channel("validation", f"s3://{BUCKET}/datasets/digits/validation/"),
        channel("config", f"s3://{BUCKET}/{prefix}/config/"),
    ],
    OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/digits-baseline/"},
    ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
    CheckpointConfig={"S3Uri": f"s3://{BUCKET}/{prefix}/checkpoints/", "LocalPath": "/opt/ml/checkpoints"},
    TensorBoardOutputConfig={"S3OutputPath": f"s3://{BUCKET}/{prefix}/tensorboard/"},
    Tags=[{"Key": "team", "Value": "vision"}],
)
