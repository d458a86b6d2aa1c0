"""The training image as ECR knows it at launch: a tag moves, its digest does not.

The record keeps the digest (``repository@sha256:...``) so ``reproduce`` runs the very image a job ran,
even after ``latest`` (or ``v1``) was pushed again. Where ECR does not answer (another registry, no
``ecr:DescribeImages`` permission, an image pushed elsewhere) the record says why instead.
"""

from __future__ import annotations

import re
from typing import Any

from sagemaker_launcher.aws.faults import aws_fault_message
from sagemaker_launcher.spec.record import ImageIdentity

# <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@<digest>)
_ECR_IMAGE = re.compile(
    r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+)|@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def ecr_reference(image_uri: str) -> re.Match[str] | None:
    """The parts of an ECR image URI, or None for an image of another registry."""
    return _ECR_IMAGE.fullmatch(image_uri)


def by_digest(image_uri: str, digest: str) -> str:
    """``account.dkr.ecr.../repository@digest``: the same image, pinned."""
    reference = ecr_reference(image_uri)
    if reference is None:
        return image_uri
    return f"{image_uri[: reference.start('repository')]}{reference['repository']}@{digest}"


def image_identity(ecr: Any, image_uri: str) -> ImageIdentity:
    """The image's digest as ECR reports it, or a note on why there is none."""
    reference = ecr_reference(image_uri)
    if reference is None:
        return ImageIdentity(note=f"{image_uri} is not an ECR image, so its digest was not looked up")
    if reference["digest"]:
        return ImageIdentity(digest=reference["digest"])
    image_id = {"imageTag": reference["tag"] or "latest"}
    try:
        answer = ecr.describe_images(
            registryId=reference["account"], repositoryName=reference["repository"], imageIds=[image_id]
        )
    except Exception as error:
        reason = aws_fault_message(error, "ecr:DescribeImages", "ecr:DescribeImages")
        if reason is None:
            raise
        return ImageIdentity(note=f"the digest could not be read: {reason}")
    details = answer.get("imageDetails") or [{}]
    digest = details[0].get("imageDigest")
    return ImageIdentity(digest=digest) if digest else ImageIdentity(note="ECR answered with no digest")
