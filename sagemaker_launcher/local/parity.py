"""``parity``: what a job's script sees in host mode and in Docker mode, side by side, every difference
named and explained.

The job's own code folder is copied with a probe added as its entry point; the probe (standard library
only) writes what the contract gives it: its ``SM_*``, torchrun and job variables, its arguments, every
``/opt/ml/input/config/*.json`` and the files of its input channels. Both runs use the job's config as
given, so hyperparameters, channels, hosts and processes are the job's own. Paths, job names and the
instance type's name are written one way before the comparison; what still differs must be one of
``EXPLAINED`` (by the name of the differing field), or the check fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagemaker_launcher.config.loading import load_configs
from sagemaker_launcher.config.run_modes import code_dir
from sagemaker_launcher.config.spec_building import job_spec
from sagemaker_launcher.config.validation import validate
from sagemaker_launcher.errors import LauncherError
from sagemaker_launcher.local.runs import run_locally
from sagemaker_launcher.spec.layout import HOSTS_DIR, OUTPUT_ARCHIVE, OUTPUT_DIR, local_path
from sagemaker_launcher.spec.request import checked, training_job_request

PROBE_SCRIPT = "sm_launcher_parity_probe.py"
PROBE_OUTPUT = "parity-probe.json"
PROBE = f'''"""Written by the launcher's parity check: what the SageMaker contract gives this process."""
import json, os, sys

if os.environ.get("RANK", "0") == "0":
    base = os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml")
    config_dir = os.path.join(base, "input", "config")
    data_dir = os.path.join(base, "input", "data")
    names = ("SM_", "TRAINING_JOB_", "SAGEMAKER_")
    torchrun = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
    files = []
    for folder, folders, found in os.walk(data_dir, followlinks=True):
        folders.sort()
        files += sorted(os.path.relpath(os.path.join(folder, name), data_dir) for name in found)
    probe = {{
        "env": {{k: v for k, v in os.environ.items() if k.startswith(names) or k in torchrun}},
        "argv": sys.argv[1:],
        "config": {{
            name: json.load(open(os.path.join(config_dir, name)))
            for name in sorted(os.listdir(config_dir)) if name.endswith(".json")
        }},
        "input_files": files,
    }}
    probe["env"].pop("SAGEMAKER_BASE_DIR", None)
    with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "{PROBE_OUTPUT}"), "w") as handle:
        json.dump(probe, handle)
'''
CONTAINER_BASE = "/opt/ml"
# The field names whose values may differ between the modes, and why.
EXPLAINED = {
    "SM_NETWORK_INTERFACE_NAME": "host mode's hosts share the loopback (lo); a container has its own eth0.",
    "network_interface_name": "the same, inside the JSON the toolkit writes and reads.",
    "SM_FRAMEWORK_MODULE": "the image's toolkit module (SAGEMAKER_TRAINING_MODULE); host mode runs the "
    "script itself, as that module would.",
    "framework_module": "the same, inside SM_TRAINING_ENV.",
    "SAGEMAKER_TRAINING_MODULE": "the image's own setting naming that module (its Dockerfile's ENV).",
    "SM_DLC_TORCH_VERSION": "the torch each side runs: the image's own build, or this machine's.",
    "SM_NUM_CPUS": "the CPUs the container is given.",
    "num_cpus": "the same, inside SM_TRAINING_ENV.",
    "SM_NUM_GPUS": "the GPUs each side sees (local_gpu exposes them to the container).",
    "num_gpus": "the same, inside SM_TRAINING_ENV.",
    "MASTER_ADDR": "host mode's hosts meet on loopback (127.0.0.1); containers at the first host, algo-1.",
    "MASTER_PORT": "a free port on this machine's shared loopback; each container has its own network.",
}


@dataclass(frozen=True)
class Difference:
    """One field that differs: where, the two values, and why (None: unexplained)."""

    path: str
    host_mode: Any
    docker: Any
    reason: str | None


def compare(host: Any, docker: Any, path: str = "") -> Iterator[Difference]:
    """Every field whose value differs, JSON texts (SM_TRAINING_ENV, ...) compared as JSON."""
    host, docker = _as_json(host), _as_json(docker)
    if isinstance(host, dict) and isinstance(docker, dict):
        for key in sorted(set(host) | set(docker)):
            yield from compare(
                host.get(key, _ABSENT), docker.get(key, _ABSENT), f"{path}.{key}" if path else key
            )
    elif host != docker:
        name = path.rsplit(".", 1)[-1]
        yield Difference(path, host, docker, EXPLAINED.get(name))


_ABSENT = "(absent)"


def _as_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def normalized(probe: dict[str, Any], run: Path, job_name: str) -> dict[str, Any]:
    """The probe with what must differ written one way: host trees as /opt/ml, the job's name, the mode."""
    text = json.dumps(probe)
    for host_dir in sorted((run / HOSTS_DIR).glob("algo-*"), key=lambda path: -len(str(path))):
        text = text.replace(str(host_dir), CONTAINER_BASE)
    text = text.replace(str(run), "RUN").replace(job_name, "JOB")
    return json.loads(
        text.replace('"local_process"', '"local"').replace('\\"local_process\\"', '\\"local\\"')
    )


def run_parity(
    config_file: str | None, overrides: Sequence[str], arguments: Sequence[str], say: Callable[[str], None]
) -> list[Difference]:
    """Run the probe as the job's entry point in host mode, then in Docker; the differences found."""
    base = load_configs(config_file, overrides)
    with tempfile.TemporaryDirectory(prefix="sm-launcher-parity-") as scratch:
        code = Path(scratch, "code")
        shutil.copytree(code_dir(base.sagemaker), code, ignore=shutil.ignore_patterns("__pycache__", ".git"))
        (code / PROBE_SCRIPT).write_text(PROBE)
        probes = {}
        for mode in ("local_process", "local"):
            words = [
                *overrides, "SAGEMAKER.INSTANCE_TYPE", mode, "SAGEMAKER.SOURCE_DIR", str(code),
                "SAGEMAKER.ENTRY_POINT", PROBE_SCRIPT, "LOCAL.RUNS_DIR", str(Path(scratch, "runs")),
            ]  # fmt: skip
            configs = load_configs(config_file, words)
            validate(configs)
            spec = job_spec(configs, arguments)
            say(f"parity: running the probe in {mode} as job {spec.name}")
            if run_locally(spec, checked(spec, training_job_request(spec))):
                raise LauncherError(
                    f"The parity probe failed in {mode}; its output is above. The probe only reads what the "
                    "contract gives it, so the run itself did not start as it should."
                )
            run = local_path(spec.prefix)
            probes[mode] = normalized(_probe_of(run), run, spec.name)
    # Host mode's processes inherit this shell's variables, which no container has: not the contract's.
    host_env = probes["local_process"]["env"]
    for name in [name for name, value in host_env.items() if os.environ.get(name) == value]:
        del host_env[name]
    return list(compare(probes["local_process"], probes["local"]))


def _probe_of(run: Path) -> dict[str, Any]:
    with tarfile.open(run / OUTPUT_DIR / OUTPUT_ARCHIVE) as archive:
        member = archive.getmember(PROBE_OUTPUT)
        handle = archive.extractfile(member)
        assert handle is not None
        return json.loads(handle.read())


def report(differences: Sequence[Difference]) -> list[str]:
    """The comparison in words: each difference with its reason, the unexplained ones marked."""
    if not differences:
        return ["Host mode and Docker mode give the script the same contract: no difference at all."]
    lines = []
    for difference in differences:
        mark = "explained" if difference.reason else "UNEXPLAINED"
        lines.append(
            f"{mark}: {difference.path}: host mode {json.dumps(difference.host_mode)[:120]}, "
            f"Docker {json.dumps(difference.docker)[:120]}"
            + (f" ({difference.reason})" if difference.reason else "")
        )
    unexplained = sum(1 for difference in differences if difference.reason is None)
    lines.append(
        f"{len(differences)} difference(s), {unexplained} unexplained."
        + (
            " An unexplained difference is a contract the two modes do not share: please report it."
            if unexplained
            else ""
        )
    )
    return lines
