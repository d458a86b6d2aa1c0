"""One contract in every mode: the same probe entry point sees the same job in host mode and in Docker.

The probe dumps its ``SM_*`` environment, its arguments, its program name and the files under its
input folder. After the differences that are real (where the tree lives, host names, the network
interface, the instance type's name) are written the same way, the two dumps must be equal, so any
new difference fails here. Also: a local run's folder holds the same files as a SageMaker job's prefix.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import boto3
from support.aws import BUCKET, REGION, ROLE_ARN
from support.commands import REPO_ROOT, python_command, run_cli, write_yaml
from support.docker import TRAINING_IMAGE, remove_local_mode_leftovers, require_image
from support.own_code import write_points

PROBE = '''\
import json, os, sys

input_dir = os.environ["SM_INPUT_DIR"]
tree = []
for folder, folders, files in os.walk(input_dir, followlinks=True):
    folders.sort()
    tree += sorted(os.path.relpath(os.path.join(folder, name), input_dir) for name in files)
probe = {
    "env": {name: value for name, value in os.environ.items() if name.startswith("SM_")},
    "argv": sys.argv[1:],
    "program": os.path.basename(sys.argv[0]),
    "input": tree,
}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "probe.json"), "w") as handle:
    json.dump(probe, handle)
'''
# Variables only the AWS PyTorch image's toolkit sets (its local stand-in runs in the Docker image).
IMAGE_ONLY = {"SM_DLC_TORCH_VERSION"}
# The real differences, once paths, host names and the instance type's name are written one way.
KNOWN_DIFFERENCES = {
    "SM_NETWORK_INTERFACE_NAME": "loopback in host mode, the container's eth0 in Docker",
    "SM_FRAMEWORK_MODULE": "the image's toolkit module; host mode runs the script itself",
    "SM_RESOURCE_CONFIG": "SDK local mode writes no instance groups; host mode writes them as SageMaker does",
    "SM_INSTANCE_GROUPS": "the same",
    "SM_INSTANCE_GROUPS_DICT": "the same",
    "SM_CURRENT_INSTANCE_GROUP_HOSTS": "the same",
    "SM_INPUT_DATA_CONFIG": "SDK local mode writes TrainingInputMode only; host mode SageMaker's fields",
    "SM_TRAINING_ENV": "all of the above in one JSON",
}
# Docker local mode names hosts algo-N-<random suffix>; SageMaker and host mode name them algo-N.
HOST_SUFFIX = re.compile(r"(algo-\d+)-[a-z0-9]+")


def probe_config(tmp_path: Path, instance_type: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "probe.py").write_text(PROBE)
    return write_yaml(
        tmp_path / f"probe_{instance_type}.yaml",
        {
            "SAGEMAKER": {
                "INSTANCE_TYPE": instance_type,
                "BASE_JOB_NAME": "probe",
                "SOURCE_DIR": str(code),
                "ENTRY_POINT": "probe.py",
            },
            "IMAGE": {"URI": TRAINING_IMAGE},
            "S3": {"EXPERIMENT_NAME": "probe"},
            "INPUTS": {"training": str(write_points(tmp_path / "data" / "training"))},
            "TRAINING": {"DEFAULTS": ""},
            "HYPERPARAMETERS": {"epochs": 2, "backend": "gloo"},
            "LOCAL": {"RUNS_DIR": str(tmp_path / f"runs_{instance_type}")},
        },
    )


def run_probe(tmp_path: Path, instance_type: str) -> tuple[dict[str, Any], Path]:
    config = probe_config(tmp_path, instance_type)
    runs = tmp_path / f"runs_{instance_type}"
    try:
        command = python_command("--config", str(config))
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    finally:
        for container_root in runs.rglob("container"):
            remove_local_mode_leftovers(str(container_root))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    [job] = [path.parent.parent for path in runs.rglob("config/record.json") if "hosts" not in path.parts]
    with tarfile.open(job / "output/model.tar.gz") as archive:
        member = next(m for m in archive.getmembers() if m.name.removeprefix("./") == "probe.json")
        return json.loads(archive.extractfile(member).read()), job


def normalized(probe: dict[str, Any], base_dir: str, code_dir: str, job_name: str) -> dict[str, Any]:
    """The probe with the real differences written one way: /opt/ml paths, algo-N hosts, one type name."""
    text = json.dumps(probe)
    for real, common in ((base_dir, "/opt/ml"), (code_dir, "/opt/ml/code"), (job_name, "JOB")):
        text = text.replace(real, common)
    text = HOST_SUFFIX.sub(r"\1", text)
    text = text.replace('"local_process"', '"local"').replace('\\"local_process\\"', '\\"local\\"')
    return json.loads(text)


def test_probe_sees_the_same_contract_in_host_mode_and_docker(tmp_path: Path) -> None:
    require_image(TRAINING_IMAGE)
    host_probe, host_job = run_probe(tmp_path, "local_process")
    docker_probe, docker_job = run_probe(tmp_path, "local")
    code = str(tmp_path / "code")
    host = normalized(host_probe, str(host_job / "hosts/algo-1"), code, host_job.name)
    docker = normalized(docker_probe, "/opt/ml", code, docker_job.name)

    assert host["program"] == docker["program"] == "probe.py"
    assert host["argv"] == docker["argv"] == ["--backend", "gloo", "--epochs", "2"]
    assert host["input"] == docker["input"]
    assert set(docker["env"]) - set(host["env"]) == IMAGE_ONLY
    assert set(host["env"]) - set(docker["env"]) == set()
    differing = {name for name in host["env"] if host["env"][name] != docker["env"][name]}
    assert differing == set(KNOWN_DIFFERENCES), {
        name: (host["env"][name], docker["env"][name]) for name in differing - set(KNOWN_DIFFERENCES)
    }


def test_a_local_run_is_laid_out_as_its_sagemaker_twin(aws: str, tmp_path: Path) -> None:
    config = probe_config(tmp_path, "local_process")
    command = python_command("--config", str(config))
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [local_job] = [p.parent.parent for p in tmp_path.rglob("config/record.json") if "hosts" not in p.parts]
    local_files = {
        path.relative_to(local_job).as_posix()
        for path in local_job.rglob("*")
        if path.is_file() and path.relative_to(local_job).parts[0] not in ("hosts", "container")
    }

    data = tmp_path / "data" / "training"
    boto3.client("s3", region_name=REGION).upload_file(str(data / "points.npz"), BUCKET, "data/points.npz")
    launched = run_cli(
        "--config",
        str(config),
        "SAGEMAKER.INSTANCE_TYPE",
        "ml.m5.xlarge",
        "SAGEMAKER.ROLE_ARN",
        ROLE_ARN,
        "SAGEMAKER.REGION",
        REGION,
        "S3.BUCKET",
        BUCKET,
        "INPUTS.training",
        f"s3://{BUCKET}/data/",
    ).output
    job_name = re.search(r"Started training job (\S+)", launched)[1]
    prefix = f"probe/{job_name}/"
    listing = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    s3_files = {item["Key"].removeprefix(prefix) for item in listing["Contents"]}
    # SageMaker writes output/ when the job ends; the loopback endpoint runs no job.
    assert s3_files == local_files - {"output/model.tar.gz", "output/output.tar.gz"}
    assert {"config/request.json", "config/record.json", "code/sourcedir.tar.gz"} <= s3_files
    record = json.loads((local_job / "config/record.json").read_text())
    assert record["code"]["uri"].endswith(f"{local_job.name}/code/sourcedir.tar.gz")
