"""Checks of where and as whom a job runs: instances, times, identity, storage and code."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path, PurePosixPath

from sagemaker_launcher.config.field_checks import BUCKET_NAME, FieldChecker
from sagemaker_launcher.config.loading import ResolvedConfigs
from sagemaker_launcher.config.run_modes import LOCAL_MODES, LOCAL_PROCESS, code_dir, is_local
from sagemaker_launcher.config.spec_building import processes_of
from sagemaker_launcher.spec import service_model
from sagemaker_launcher.spec.code_folder import code_files
from sagemaker_launcher.spec.layout import JOB_NAME_SUFFIX_LENGTH

# Experiment names may group experiments in folders: "vision/detector/baseline".
_EXPERIMENT_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_EXPERIMENT_MAX_LENGTH = 128
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
# The most vCPUs of any SageMaker training instance (the 48xlarge sizes), for sizes not named by count.
_LARGEST_VCPUS = 192


def check_resources(job: FieldChecker) -> None:
    """Instance type and count, volume, run and wait times, spot and warm pools, the job name."""
    sm = job.cfg.SAGEMAKER
    instance_types = service_model.field("TrainingInstanceType").enum
    if job.instance_type not in (*instance_types, *LOCAL_MODES):
        close = difflib.get_close_matches(job.instance_type, [*instance_types, *LOCAL_MODES], n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise job.fail(
            "SAGEMAKER.INSTANCE_TYPE",
            job.instance_type,
            f"is not a SageMaker training instance type nor one of {', '.join(LOCAL_MODES)}.{hint}",
        )
    job.at_least("SAGEMAKER.INSTANCE_COUNT", sm.INSTANCE_COUNT, 1)
    if job.instance_type == "local_gpu" and sm.INSTANCE_COUNT != 1:
        raise job.fail(
            "SAGEMAKER.INSTANCE_COUNT", sm.INSTANCE_COUNT, "is not supported with local_gpu: use 1."
        )
    job.in_field("SAGEMAKER.VOLUME_SIZE_GB", sm.VOLUME_SIZE_GB, "VolumeSizeInGB")
    job.in_field("SAGEMAKER.MAX_RUN_SECONDS", sm.MAX_RUN_SECONDS, "MaxRuntimeInSeconds")
    job.in_field(
        "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS", sm.KEEP_ALIVE_PERIOD_SECONDS, "KeepAlivePeriodInSeconds"
    )
    if sm.USE_SPOT_INSTANCES:
        if sm.MAX_WAIT_SECONDS < sm.MAX_RUN_SECONDS:
            raise job.fail(
                "SAGEMAKER.MAX_WAIT_SECONDS",
                sm.MAX_WAIT_SECONDS,
                f"must be at least SAGEMAKER.MAX_RUN_SECONDS ({sm.MAX_RUN_SECONDS}) with "
                "USE_SPOT_INSTANCES: it bounds waiting for spot capacity plus training. Set it, e.g. "
                f"to {2 * sm.MAX_RUN_SECONDS}.",
            )
        if sm.KEEP_ALIVE_PERIOD_SECONDS:
            raise job.fail(
                "SAGEMAKER.KEEP_ALIVE_PERIOD_SECONDS",
                sm.KEEP_ALIVE_PERIOD_SECONDS,
                "cannot be used with spot instances (warm pools are on-demand only); set it to 0.",
            )
    elif sm.MAX_WAIT_SECONDS:
        raise job.fail(
            "SAGEMAKER.MAX_WAIT_SECONDS",
            sm.MAX_WAIT_SECONDS,
            "only applies with SAGEMAKER.USE_SPOT_INSTANCES true; set that, or set this to 0.",
        )
    name = service_model.field("TrainingJobName")
    longest = name.max - JOB_NAME_SUFFIX_LENGTH
    if not name.matches(sm.BASE_JOB_NAME) or len(sm.BASE_JOB_NAME) > longest:
        raise job.fail(
            "SAGEMAKER.BASE_JOB_NAME",
            sm.BASE_JOB_NAME,
            f"must be 1 to {longest} letters, digits and single hyphens, starting and ending with a "
            f"letter or digit (the launcher appends {JOB_NAME_SUFFIX_LENGTH} characters to make it "
            "unique).",
        )


def check_identity_and_storage(job: FieldChecker) -> None:
    """Experiment name, image, role, region, bucket and KMS keys (the last four only for SageMaker)."""
    sm, s3, image = job.cfg.SAGEMAKER, job.cfg.S3, job.cfg.IMAGE
    problem = experiment_name_problem(s3.EXPERIMENT_NAME)
    if problem:
        raise job.fail(
            "S3.EXPERIMENT_NAME", s3.EXPERIMENT_NAME, f"{problem}: it becomes an S3 prefix and a tag."
        )
    if job.instance_type != LOCAL_PROCESS and not (image.URI or image.REPOSITORY):
        raise job.fail(
            "IMAGE.URI",
            image.URI,
            "is empty and so is IMAGE.REPOSITORY: name the training image (build and push it with "
            "./build_and_push.sh, which prints the URI).",
        )
    if is_local(job.instance_type):
        return
    for key, value, example in (
        ("SAGEMAKER.ROLE_ARN", sm.ROLE_ARN, "arn:aws:iam::123456789012:role/SageMakerRole"),
        ("SAGEMAKER.REGION", sm.REGION, "us-east-1"),
        ("S3.BUCKET", s3.BUCKET, "my-team-sagemaker"),
    ):
        if not value:
            raise job.fail(
                key, value, f"is required for {job.instance_type} jobs; set it, e.g. to '{example}'."
            )
    role = service_model.field("RoleArn")
    if not (role.min <= len(sm.ROLE_ARN) <= role.max and role.matches(sm.ROLE_ARN)):
        raise job.fail(
            "SAGEMAKER.ROLE_ARN",
            sm.ROLE_ARN,
            "is not an IAM role ARN; it looks like 'arn:aws:iam::123456789012:role/SageMakerRole'.",
        )
    if not _REGION.fullmatch(sm.REGION):
        raise job.fail("SAGEMAKER.REGION", sm.REGION, "is not an AWS region name such as 'us-east-1'.")
    if not BUCKET_NAME.fullmatch(s3.BUCKET):
        raise job.fail(
            "S3.BUCKET",
            s3.BUCKET,
            "is not a valid bucket name: 3 to 63 lowercase letters, digits, '.' and '-', without "
            "the s3:// prefix.",
        )
    job.kms("SAGEMAKER.VOLUME_KMS_KEY_ID", sm.VOLUME_KMS_KEY_ID)
    job.kms("S3.KMS_KEY_ID", s3.KMS_KEY_ID)


def check_code(job: FieldChecker) -> None:
    """SOURCE_DIR is a folder whose packed files hold ENTRY_POINT, a path inside it."""
    sm = job.cfg.SAGEMAKER
    entry = PurePosixPath(sm.ENTRY_POINT)
    if not sm.ENTRY_POINT or entry.is_absolute() or ".." in entry.parts or "\\" in sm.ENTRY_POINT:
        raise job.fail(
            "SAGEMAKER.ENTRY_POINT",
            sm.ENTRY_POINT,
            "must be a path inside the code folder, relative to it and without '..' (e.g. 'train.py' or "
            "'tools/train_net.py'): the job runs it from /opt/ml/code, where nothing outside the folder is.",
        )
    if not sm.SOURCE_DIR and not is_local(job.instance_type):
        return
    source_dir = code_dir(job.cfg)
    if not source_dir.is_dir():
        raise job.fail(
            "SAGEMAKER.SOURCE_DIR", str(source_dir), f"is not a folder (resolved from {Path.cwd()})."
        )
    # Walking the files also refuses a link leading nowhere now, not while uploading.
    packed = {name for _, name in code_files(source_dir)}
    if entry.as_posix() not in packed:
        where = (
            "is a file the job's code leaves out (__pycache__, .git and compiled files stay behind)"
            if (source_dir / sm.ENTRY_POINT).is_file()
            else "is not a file"
        )
        raise job.fail(
            "SAGEMAKER.ENTRY_POINT", sm.ENTRY_POINT, f"{where} in SAGEMAKER.SOURCE_DIR ({sm.SOURCE_DIR})."
        )


def check_runs_dir(job: FieldChecker) -> None:
    """A local run can make its folder under LOCAL.RUNS_DIR: the nearest existing folder on the way
    is a folder this user may write in."""
    if not is_local(job.instance_type):
        return
    runs_dir = Path(job.cfg.LOCAL.RUNS_DIR).expanduser().resolve()
    existing = runs_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return
    problem = "is not a folder" if not existing.is_dir() else "is a folder you may not write in"
    raise job.fail(
        "LOCAL.RUNS_DIR",
        job.cfg.LOCAL.RUNS_DIR,
        f"cannot hold this run's folder: {existing} {problem}. Set LOCAL.RUNS_DIR to a folder you can "
        "write in (e.g. runs).",
    )


def check_processes_per_host(job: FieldChecker, configs: ResolvedConfigs) -> None:
    """A per-GPU (torchrun) launch can start the entry point."""
    sm = job.cfg.SAGEMAKER
    job.at_least("SAGEMAKER.PROCESSES_PER_HOST", sm.PROCESSES_PER_HOST, 0)
    most, what = processes_limit(job.instance_type)
    if most < sm.PROCESSES_PER_HOST:
        raise job.fail(
            "SAGEMAKER.PROCESSES_PER_HOST",
            sm.PROCESSES_PER_HOST,
            f"is more processes than {what} can run side by side: at most {most}, one per CPU. Set it to the "
            "instance's GPU count (or 0: one per GPU for the example).",
        )
    if not processes_of(configs).torchrun:
        return
    # sagemaker-training's torchrun runner refuses shell commands and installable packages.
    package = code_dir(job.cfg) / "setup.py"
    if not sm.ENTRY_POINT.endswith(".py") or package.is_file():
        what = f"{package} makes the folder a package" if package.is_file() else "it is not a .py script"
        defaults = job.cfg.TRAINING.DEFAULTS
        raise job.fail(
            "SAGEMAKER.ENTRY_POINT",
            sm.ENTRY_POINT,
            f"cannot be started by torchrun ({what}), and SAGEMAKER.PROCESSES_PER_HOST = "
            f"{sm.PROCESSES_PER_HOST} with TRAINING.DEFAULTS {defaults!r} starts the job's "
            "processes through torchrun, which runs only a Python script outside a package. Name a .py "
            "script, or set PROCESSES_PER_HOST to 0 with your own TRAINING.DEFAULTS (or '') to run it "
            "once per instance.",
        )


def processes_limit(instance_type: str) -> tuple[int, str]:
    """The most processes one host may run, and what the host is: this machine's CPUs for a local run,
    the instance's vCPUs for ml.* (4 per "xlarge" of its size, as EC2 sizes them)."""
    if is_local(instance_type):
        return os.cpu_count() or 1, "this machine"
    size = instance_type.rsplit(".", 1)[-1]
    vcpus = {"medium": 1, "large": 2, "xlarge": 4}.get(size)
    multiple = re.fullmatch(r"(\d+)xlarge", size)
    if multiple:
        vcpus = 4 * int(multiple[1])
    return vcpus or _LARGEST_VCPUS, f"an {instance_type}"


def check_training_source(job: FieldChecker, configs: ResolvedConfigs) -> None:
    """A training config file has training defaults to merge over."""
    training = job.cfg.TRAINING
    if configs.training is None and training.CONFIG_FILE:
        raise job.fail(
            "TRAINING.CONFIG_FILE",
            training.CONFIG_FILE,
            f"has no training defaults to merge over (TRAINING.DEFAULTS {training.DEFAULTS!r} gives "
            "none). Name your project's defaults in TRAINING.DEFAULTS as 'module:function', or empty "
            "CONFIG_FILE and pass the script's arguments as HYPERPARAMETERS.",
        )


def experiment_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an S3.EXPERIMENT_NAME (an S3 prefix and a tag value), or None."""
    segments = name.split("/")
    if not name or len(name) > _EXPERIMENT_MAX_LENGTH:
        return f"must be 1 to {_EXPERIMENT_MAX_LENGTH} characters"
    if any(segment in ("", ".", "..") or not _EXPERIMENT_SEGMENT.fullmatch(segment) for segment in segments):
        return (
            "must be '/'-separated folders of letters, digits, '.', '_' or '-', with no empty, '.' or '..' "
            "folder (e.g. 'vision/detector/baseline')"
        )
    return None
