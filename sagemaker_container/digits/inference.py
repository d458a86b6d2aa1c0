"""SageMaker PyTorch serving functions for the digits model: model_fn, input_fn, predict_fn, output_fn.

Shipped in model.tar.gz's ``code/`` folder beside ``digits_net.py``, so the artifact deploys as it
is: there both are top-level modules, here part of the training package. A request holds one image
(8, 8) or a batch (N, 8, 8) of pixel values in [0, 1] (scikit-learn's 0-16 scale divided by 16), as
JSON (a nested list, or ``{"instances": [...]}``) or as a .npy file. The response is JSON: each
image's predicted label and its class probabilities.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__:
    from .digits_net import IMAGE_SIZE, DigitsNet
else:
    from digits_net import IMAGE_SIZE, DigitsNet

WEIGHTS_FILE = "model.pth"
LABELS_FILE = "labels.json"
JSON_TYPE = "application/json"
NPY_TYPE = "application/x-npy"


@dataclass(frozen=True)
class Classifier:
    """The network in eval mode, its device and the label of each class index."""

    network: DigitsNet
    device: torch.device
    labels: list[str]


def model_fn(model_dir: str) -> Classifier:
    """Load the weights (with the network's arguments saved beside them) and the class labels."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    saved = torch.load(Path(model_dir) / WEIGHTS_FILE, map_location=device, weights_only=True)
    network = DigitsNet(**saved["network_args"]).to(device)
    network.load_state_dict(saved["state_dict"])
    network.eval()
    labels = json.loads((Path(model_dir) / LABELS_FILE).read_text())
    return Classifier(network, device, labels)


def input_fn(request_body: str | bytes, content_type: str) -> torch.Tensor:
    """The request's images as a float32 tensor (N, 1, 8, 8)."""
    if content_type == JSON_TYPE:
        payload = json.loads(request_body)
        if isinstance(payload, dict):
            payload = payload["instances"]
        images = np.asarray(payload, dtype=np.float32)
    elif content_type == NPY_TYPE:
        body = request_body.encode() if isinstance(request_body, str) else request_body
        images = np.load(io.BytesIO(body), allow_pickle=False).astype(np.float32)
    else:
        raise ValueError(f"Unsupported content type {content_type!r}; send {JSON_TYPE} or {NPY_TYPE}.")
    if images.shape == (IMAGE_SIZE, IMAGE_SIZE):
        images = images[None]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"Expected images of shape (N, {IMAGE_SIZE}, {IMAGE_SIZE}), got {images.shape}.")
    return torch.from_numpy(images).unsqueeze(1)


def predict_fn(images: torch.Tensor, model: Classifier) -> dict[str, Any]:
    """Each image's most probable label and the probability of every class."""
    with torch.no_grad():
        probabilities = torch.softmax(model.network(images.to(model.device)), dim=1).cpu()
    return {
        "predictions": [model.labels[index] for index in probabilities.argmax(dim=1).tolist()],
        "probabilities": probabilities.tolist(),
    }


def output_fn(prediction: dict[str, Any], accept: str) -> str:
    """The prediction as JSON, the one response type served."""
    if accept not in (JSON_TYPE, "*/*"):
        raise ValueError(f"Unsupported accept type {accept!r}; ask for {JSON_TYPE}.")
    return json.dumps(prediction)
