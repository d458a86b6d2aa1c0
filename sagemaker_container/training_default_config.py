"""Training defaults: the one documented reference of every training option.

An experiment's training YAML (``TRAINING.CONFIG_FILE`` in the SageMaker config) overrides these,
and ``KEY VALUE`` pairs on the launcher's command line override both. The launcher also sends every
leaf as a job hyperparameter (``SOLVER.BASE_LR``), which ``main.py`` applies over the config channel.

This module only declares values and their allowed ranges: it imports nothing but yacs, so the
launcher can read it, and check a config before a job starts, without PyTorch installed.
"""

from collections.abc import Callable
from typing import Any

from yacs.config import CfgNode as CN

_C = CN()

# Seed for Python, NumPy and PyTorch random number generators; the same seed and config give the
# same weights on CPU.
_C.SEED = 0

# ---------------------------------------------------------------------------------------------- #
# Data: the train and validation channels (SageMaker input channels, one folder each)
# ---------------------------------------------------------------------------------------------- #
_C.DATA = CN()
# Input channel that holds the training split (read from SM_CHANNEL_<NAME>).
_C.DATA.TRAIN_CHANNEL = "train"
# Input channel that holds the validation split.
_C.DATA.VALIDATION_CHANNEL = "validation"
# File name of the split inside each channel folder: a NumPy .npz with arrays "images" (N, 8, 8)
# float32 in [0, 1] and "labels" (N,) int64.
_C.DATA.FILE_NAME = "digits.npz"
# DataLoader worker processes per training process; 0 loads in the training process.
_C.DATA.NUM_WORKERS = 0

# ---------------------------------------------------------------------------------------------- #
# Model: a small convolutional classifier
# ---------------------------------------------------------------------------------------------- #
_C.MODEL = CN()
# Output channels of each 3x3 convolution block, in order.
_C.MODEL.CONV_CHANNELS = [32, 64]
# Width of the hidden fully connected layer.
_C.MODEL.HIDDEN_UNITS = 128
# Dropout probability before the classifier head, 0.0 to 1.0.
_C.MODEL.DROPOUT = 0.1
# Number of output classes.
_C.MODEL.NUM_CLASSES = 10

# ---------------------------------------------------------------------------------------------- #
# Solver: optimisation schedule
# ---------------------------------------------------------------------------------------------- #
_C.SOLVER = CN()
# Passes over the training split.
_C.SOLVER.EPOCHS = 15
# Samples per step in each training process: the global batch is BATCH_SIZE x the world size
# (hosts x SAGEMAKER.PROCESSES_PER_HOST, one process per GPU by default).
_C.SOLVER.BATCH_SIZE = 64
# Peak learning rate of the optimizer.
_C.SOLVER.BASE_LR = 0.003
# L2 weight decay.
_C.SOLVER.WEIGHT_DECAY = 0.0001
# Optimizer: "adamw" or "sgd" (SGD uses Nesterov momentum 0.9).
_C.SOLVER.OPTIMIZER = "adamw"
# Learning-rate schedule: "cosine" (decays to zero over EPOCHS) or "constant".
_C.SOLVER.LR_SCHEDULE = "cosine"
# Precision of the forward pass: "auto" (bfloat16 autocast on GPUs that run it natively, Ampere and
# later; float16 autocast with a gradient scaler on older GPUs; float32 on the CPU), or "bf16",
# "fp16", "fp32" to force one (bf16 is refused on a GPU older than Ampere).
_C.SOLVER.PRECISION = "auto"

# ---------------------------------------------------------------------------------------------- #
# Checkpoints: spot interruption and restart
# ---------------------------------------------------------------------------------------------- #
_C.CHECKPOINT = CN()
# Save a checkpoint every this many epochs (and always on SIGTERM); 0 turns periodic saves off.
_C.CHECKPOINT.PERIOD_EPOCHS = 1
# How many most recent checkpoints to keep in the checkpoint directory.
_C.CHECKPOINT.KEEP_LAST = 2


# ---------------------------------------------------------------------------------------------- #
# Allowed values: checked by the launcher before a job starts, and by main.py when it starts
# ---------------------------------------------------------------------------------------------- #
OPTIMIZERS = ("adamw", "sgd")
LR_SCHEDULES = ("cosine", "constant")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
VALUE_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("SOLVER.EPOCHS", lambda v: v >= 1, "at least 1"),
    ("SOLVER.BATCH_SIZE", lambda v: v >= 1, "at least 1"),
    ("SOLVER.BASE_LR", lambda v: v > 0, "above 0"),
    ("SOLVER.WEIGHT_DECAY", lambda v: v >= 0, "0 or more"),
    ("SOLVER.OPTIMIZER", lambda v: v in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
    ("SOLVER.LR_SCHEDULE", lambda v: v in LR_SCHEDULES, f"one of {', '.join(LR_SCHEDULES)}"),
    ("SOLVER.PRECISION", lambda v: v in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
    ("MODEL.CONV_CHANNELS", lambda v: len(v) > 0 and min(v) >= 1, "a non-empty list of positive ints"),
    ("MODEL.HIDDEN_UNITS", lambda v: v >= 1, "at least 1"),
    ("MODEL.DROPOUT", lambda v: 0 <= v < 1, "from 0 up to (not including) 1"),
    ("MODEL.NUM_CLASSES", lambda v: v >= 2, "at least 2"),
    ("DATA.NUM_WORKERS", lambda v: v >= 0, "0 or more"),
    ("CHECKPOINT.PERIOD_EPOCHS", lambda v: v >= 0, "0 (off) or more"),
    ("CHECKPOINT.KEEP_LAST", lambda v: v >= 1, "at least 1"),
)


def value_problems(cfg: CN) -> list[str]:
    """One phrase per key whose value breaks its rule, e.g. "'SOLVER.EPOCHS' must be at least 1, got 0"."""
    problems = []
    for key, is_valid, requirement in VALUE_RULES:
        value: Any = cfg
        for part in key.split("."):
            value = value[part]
        if not is_valid(value):
            problems.append(f"'{key}' must be {requirement}, got {value!r}")
    return problems


def get_training_cfg_defaults() -> CN:
    """Return a fresh copy of the defaults, so callers never mutate the module's node."""
    return _C.clone()
