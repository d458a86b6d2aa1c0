"""The usual way to start the example's job: a hand-written SageMaker SDK script, as teams write it.

    python bench/handwritten_launch.py

What a team writes without the launcher: a Session, an Estimator on the same image, role, instance,
channels and hyperparameters, and ``fit(wait=False)``. No config files, no record, no checks.
"""

import boto3
from sagemaker.estimator import Estimator
from sagemaker.session import Session

BUCKET = "my-team-sagemaker"

session = Session(boto_session=boto3.Session(region_name="us-east-1"), default_bucket=BUCKET)
estimator = Estimator(
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/digits-training:v1",
    role="arn:aws:iam::123456789012:role/SageMakerRole",
    instance_count=1,
    instance_type="ml.g5.xlarge",
    max_run=3600,
    output_path=f"s3://{BUCKET}/digits-baseline/",
    checkpoint_s3_uri=f"s3://{BUCKET}/digits-baseline/checkpoints/",
    hyperparameters={"SEED": 7, "SOLVER.EPOCHS": 15, "SOLVER.BATCH_SIZE": 64, "SOLVER.BASE_LR": 0.003},
    sagemaker_session=session,
)
estimator.fit(
    {
        "train": f"s3://{BUCKET}/datasets/digits/train/",
        "validation": f"s3://{BUCKET}/datasets/digits/validation/",
    },
    wait=False,
)
