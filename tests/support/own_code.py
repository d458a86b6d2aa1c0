"""A team's own training code, written the way teams write it, for the tests of bringing your own code.

``STRICT_SCRIPT`` is a SageMaker PyTorch script of the usual kind: strict argparse (``--epochs``,
``--lr``, ``--backend``), hosts and paths from ``SM_*`` variables, DDP over ``env://`` when there are
several hosts. ``YACS_PROJECT`` is a small detectron2-style project: ``get_cfg()`` defaults, a train
script that reads the resolved ``training_config.yaml`` from the config channel and takes one
argument of its own. Both write ``result.json`` to the model folder: what they were given and learned.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

STRICT_SCRIPT = """\
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.distributed as dist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--backend", type=str, default=None)
    parser.add_argument("--hosts", type=list, default=json.loads(os.environ["SM_HOSTS"]))
    parser.add_argument("--current-host", type=str, default=os.environ["SM_CURRENT_HOST"])
    parser.add_argument("--model-dir", type=str, default=os.environ["SM_MODEL_DIR"])
    parser.add_argument("--data-dir", type=str, default=os.environ["SM_CHANNEL_TRAINING"])
    args = parser.parse_args()
    if args.lr <= 0:
        raise ValueError(f"learning rate must be positive, got {args.lr}")
    world_size = len(args.hosts)
    distributed = world_size > 1 and args.backend is not None
    if distributed:
        rank = args.hosts.index(args.current_host)
        os.environ["WORLD_SIZE"] = str(world_size)
        os.environ["RANK"] = str(rank)
        dist.init_process_group(backend=args.backend, rank=rank, world_size=world_size)
    data = np.load(os.path.join(args.data_dir, "points.npz"))
    inputs, targets = torch.tensor(data["x"]), torch.tensor(data["y"])
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1)
    trained = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(trained.parameters(), lr=args.lr)
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = ((trained(inputs) - targets) ** 2).mean()
        loss.backward()
        optimizer.step()
        print(f"epoch {epoch} loss {loss.item():.6f}", flush=True)
    if args.current_host == args.hosts[0]:
        result = {"argv": sys.argv[1:], "world_size": world_size, "weight": model.weight.item()}
        with open(os.path.join(args.model_dir, "result.json"), "w") as handle:
            json.dump(result, handle)
    if distributed:
        # SageMaker local mode stops every container once one exits: wait for the first host's files.
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
"""

YACS_DEFAULTS = """\
from yacs.config import CfgNode as CN

_C = CN()
_C.SOLVER = CN()
# Learning rate, above 0.
_C.SOLVER.LR = 0.1
# Passes over the data.
_C.SOLVER.EPOCHS = 2
_C.MODEL = CN()
# Hidden width.
_C.MODEL.WIDTH = 4


def get_cfg():
    return _C.clone()


def value_problems(cfg):
    return [f"'SOLVER.LR' must be above 0, got {cfg.SOLVER.LR}"] if cfg.SOLVER.LR <= 0 else []
"""

YACS_TRAIN = """\
import argparse
import json
import os
import sys

import torch.distributed as dist

from my_project.config import get_cfg


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-tag", required=True)
    args = parser.parse_args()
    cfg = get_cfg()
    cfg.merge_from_file(os.path.join(os.environ["SM_CHANNEL_CONFIG"], "training_config.yaml"))
    hosts = json.loads(os.environ["SM_HOSTS"])
    rank = hosts.index(os.environ["SM_CURRENT_HOST"])
    if len(hosts) > 1:
        dist.init_process_group("gloo", rank=rank, world_size=len(hosts))
    if rank == 0:
        solver = cfg.SOLVER
        result = {"argv": sys.argv[1:], "lr": solver.LR, "epochs": solver.EPOCHS, "width": cfg.MODEL.WIDTH}
        with open(os.path.join(os.environ["SM_MODEL_DIR"], "result.json"), "w") as handle:
            json.dump(result, handle)
    if len(hosts) > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
"""


def write_points(folder: Path) -> Path:
    """A ``training`` channel: y = 3x + 1 with a little noise, as points.npz."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = np.random.default_rng(0)
    x = generator.uniform(-1, 1, size=(64, 1)).astype(np.float32)
    y = (3 * x + 1 + generator.normal(0, 0.01, size=(64, 1))).astype(np.float32)
    np.savez(folder / "points.npz", x=x, y=y)
    return folder


def write_strict_script(code: Path) -> Path:
    """The strict-argparse script as ``code/train.py``."""
    code.mkdir(parents=True, exist_ok=True)
    (code / "train.py").write_text(STRICT_SCRIPT)
    return code


def write_yacs_project(code: Path, training_yaml: dict) -> Path:
    """The YACS project in ``code`` and its experiment's training YAML; returns the YAML's path."""
    package = code / "my_project"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(YACS_DEFAULTS)
    (code / "train.py").write_text(YACS_TRAIN)
    training_file = code.parent / "team_training.yaml"
    training_file.write_text(json.dumps(training_yaml))
    return training_file


def write_wheel(
    folder: Path, name: str, version: str, module_source: str, requires: tuple[str, ...] = ()
) -> Path:
    """A minimal pure-Python wheel of one module (its dependencies in ``requires``), so pip can install
    it with no index."""
    folder.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    wheel = folder / f"{module}-{version}-py3-none-any.whl"
    requires_dist = "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    files = {
        f"{module}/__init__.py": module_source,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires_dist}",
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files[f"{dist_info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist_info}/RECORD"])
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel
