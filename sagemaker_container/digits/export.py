"""The model artifact (model.tar.gz): weights, resolved config, class labels and serving code, no more."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch
from yacs.config import CfgNode

from sagemaker_contract.names import TRAINING_CONFIG_FILE

from .builders import network_args
from .inference import LABELS_FILE, WEIGHTS_FILE

CODE_DIR = "code"
# The serving entry point and the one module it imports, copied from beside this file.
SERVING_FILES = ("inference.py", "digits_net.py")


def write_model(network: torch.nn.Module, cfg: CfgNode, model_dir: Path) -> None:
    """Fill ``model_dir`` so the SageMaker PyTorch serving container can deploy it as it is."""
    model_dir.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"network_args": network_args(cfg), "state_dict": network.state_dict()}, model_dir / WEIGHTS_FILE
    )
    (model_dir / TRAINING_CONFIG_FILE).write_text(cfg.dump())
    labels = [str(index) for index in range(cfg.MODEL.NUM_CLASSES)]
    (model_dir / LABELS_FILE).write_text(json.dumps(labels) + "\n")
    code_dir = model_dir / CODE_DIR
    code_dir.mkdir(exist_ok=True)
    for name in SERVING_FILES:
        shutil.copyfile(Path(__file__).with_name(name), code_dir / name)


def weights_digest(network: torch.nn.Module) -> str:
    """SHA-256 of every parameter and buffer in order: equal digests mean bitwise-equal weights."""
    digest = hashlib.sha256()
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
