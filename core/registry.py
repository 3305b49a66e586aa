"""Name registries: every non-primitive choice in a Spec is a key of one of these tables.

The UI reads its choices from here, so adding an option is one line in one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Choice:
    label: str
    make: Callable | None = None
    help: str = ""


# name -> module factory
ACTIVATIONS = {
    "sigmoid": Choice("Sigmoid", nn.Sigmoid, "squashes to (0, 1); derivative at most 0.25"),
    "tanh": Choice("Tanh", nn.Tanh, "squashes to (-1, 1); derivative at most 1"),
    "relu": Choice("ReLU", nn.ReLU, "max(0, x); derivative 0 or 1"),
    "leaky_relu": Choice("Leaky ReLU", lambda: nn.LeakyReLU(0.01), "x for x > 0, 0.01 x otherwise"),
    "gelu": Choice("GELU", nn.GELU, "x times the normal CDF of x"),
    "elu": Choice("ELU", nn.ELU, "x for x > 0, exp(x) - 1 otherwise"),
    "linear": Choice("Linear (none)", nn.Identity, "no non-linearity"),
}


def _normal(w, scale):
    nn.init.normal_(w, 0.0, scale)


def _uniform(w, scale):
    nn.init.uniform_(w, -scale, scale)


# name -> f(weight, scale) (None: keep PyTorch's own initialisation)
INITS = {
    "default": Choice("PyTorch default", None, "Kaiming-uniform with a=sqrt(5), as nn.Linear sets it"),
    "zeros": Choice("Zeros", lambda w, s: nn.init.zeros_(w), "every weight 0: units stay identical"),
    "normal": Choice("Normal (std = scale)", _normal, "N(0, scale^2)"),
    "uniform": Choice("Uniform (+-scale)", _uniform, "U(-scale, scale)"),
    "xavier": Choice(
        "Xavier / Glorot",
        lambda w, s: nn.init.xavier_uniform_(w),
        "variance 2/(fan_in+fan_out)",
    ),
    "he": Choice(
        "He / Kaiming",
        lambda w, s: nn.init.kaiming_normal_(w, nonlinearity="relu"),
        "variance 2/fan_in",
    ),
    "orthogonal": Choice("Orthogonal", lambda w, s: nn.init.orthogonal_(w), "orthogonal matrix, gain 1"),
}

# name -> f(params, spec.train) -> torch.optim.Optimizer
OPTIMIZERS = {
    "sgd": Choice("SGD", lambda p, t: torch.optim.SGD(p, lr=t.lr, weight_decay=t.weight_decay)),
    "momentum": Choice(
        "SGD + momentum",
        lambda p, t: torch.optim.SGD(p, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay),
    ),
    "nesterov": Choice(
        "Nesterov",
        lambda p, t: torch.optim.SGD(p, lr=t.lr, momentum=t.momentum, nesterov=True, weight_decay=t.weight_decay),
    ),
    "adam": Choice("Adam", lambda p, t: torch.optim.Adam(p, lr=t.lr, weight_decay=t.weight_decay)),
    "adamw": Choice("AdamW", lambda p, t: torch.optim.AdamW(p, lr=t.lr, weight_decay=t.weight_decay)),
    "rmsprop": Choice(
        "RMSprop",
        lambda p, t: torch.optim.RMSprop(p, lr=t.lr, weight_decay=t.weight_decay),
    ),
    "adagrad": Choice(
        "Adagrad",
        lambda p, t: torch.optim.Adagrad(p, lr=t.lr, weight_decay=t.weight_decay),
    ),
}

SCHEDULES = {
    "constant": Choice("Constant"),
    "step": Choice("Step decay", help="multiply by gamma every step_size epochs"),
    "exponential": Choice("Exponential", help="multiply by gamma every epoch"),
    "cosine": Choice("Cosine", help="cosine from lr down to 0 over all epochs"),
    "warmup_cosine": Choice("Warm-up + cosine", help="linear rise for warmup epochs, then cosine"),
    "onecycle": Choice("One-cycle", help="rise to lr, then anneal far below it"),
}

LOSSES = {
    "auto": Choice("Auto (by task)"),
    "mse": Choice("Mean squared error"),
    "half_mse": Choice(
        "Half MSE (TF Playground)",
        help="0.5 (out - y)^2 with a tanh output and labels -1/+1",
    ),
    "bce": Choice("Binary cross-entropy"),
    "ce": Choice("Cross-entropy (multi-class)"),
}

# Input features of the 2-D sets, as TF Playground names them; f(x1, x2) -> column
FEATURES = {
    "x1": Choice("x1", lambda a, b: a),
    "x2": Choice("x2", lambda a, b: b),
    "x1sq": Choice("x1²", lambda a, b: a * a),
    "x2sq": Choice("x2²", lambda a, b: b * b),
    "x1x2": Choice("x1·x2", lambda a, b: a * b),
    "sin_x1": Choice("sin x1", lambda a, b: torch.sin(a)),
    "sin_x2": Choice("sin x2", lambda a, b: torch.sin(b)),
}


@dataclass(frozen=True)
class DatasetInfo:
    label: str
    kind: str  # "toy" (2-D points), "image", "gan" (2-D target), "gan_image"
    task: str  # "binary", "regression", "classes"
    classes: int | None = None  # fixed class count; None = spec.data.classes
    default_n: int = 500


DATASETS = {
    "circle": DatasetInfo("Circle", "toy", "binary"),
    "xor": DatasetInfo("Exclusive or", "toy", "binary"),
    "gauss": DatasetInfo("Two Gaussians", "toy", "binary"),
    "spiral": DatasetInfo("Spiral", "toy", "binary"),
    "moons": DatasetInfo("Two moons", "toy", "binary"),
    "blobs": DatasetInfo("Blobs (k classes)", "toy", "classes"),
    "spiral_k": DatasetInfo("Spiral (k arms)", "toy", "classes"),
    "plane": DatasetInfo("Plane (regression)", "toy", "regression", default_n=1200),
    "multigauss": DatasetInfo("Multi-Gaussian (regression)", "toy", "regression", default_n=1200),
    "digits": DatasetInfo("Handwritten digits (8x8)", "image", "classes", classes=10, default_n=0),
    "shapes": DatasetInfo("Shapes (generated)", "image", "classes", default_n=1500),
    "ring": DatasetInfo("Ring of 8 Gaussians", "gan", "gan"),
    "grid": DatasetInfo("5x5 grid of Gaussians", "gan", "gan"),
    "gan_spiral": DatasetInfo("Spiral", "gan", "gan"),
    "gan_moons": DatasetInfo("Two moons", "gan", "gan"),
    "line": DatasetInfo("A line", "gan", "gan"),
    "gaussian": DatasetInfo("One Gaussian", "gan", "gan"),
    "gan_digits": DatasetInfo("Digits (image GAN)", "gan_image", "gan", classes=10, default_n=0),
}

AUGMENTS = {
    "rotate": Choice("Random rotation"),
    "flip": Choice("Horizontal flip"),
    "shift": Choice("Random shift / crop"),
    "noise": Choice("Gaussian noise"),
}

LAYER_TYPES = {
    "conv": Choice("Convolution"),
    "pool": Choice("Pooling"),
    "batchnorm": Choice("Batch norm"),
    "act": Choice("Activation"),
    "dropout": Choice("Dropout"),
    "flatten": Choice("Flatten"),
    "dense": Choice("Dense"),
}

GAN_LOSSES = {
    "minimax": Choice("Minimax (original)"),
    "nonsaturating": Choice("Non-saturating"),
    "lsgan": Choice("Least squares"),
    "wgan_gp": Choice("Wasserstein + gradient penalty"),
    "hinge": Choice("Hinge"),
}

NOISE_TYPES = {
    "normal": Choice("Normal N(0, 1)"),
    "uniform": Choice("Uniform U(-1, 1)"),
}

# Transfer learning: the task a CNN is pretrained on, and how the target task is trained.
TRANSFER_SOURCES = {
    "digits_0_4": Choice("Digits 0-4", help="scikit-learn's handwritten digits 0, 1, 2, 3 and 4"),
    "shapes": Choice("Shapes (5 kinds)", help="generated circles, squares, triangles, crosses and stars"),
}
TRANSFER_MODES = {
    "frozen": Choice("Frozen body", help="the pretrained body is fixed; only the new output layer learns"),
    "finetune": Choice("Fine-tune", help="start from the pretrained body and train every layer"),
    "scratch": Choice("From scratch", help="the same network from random weights, every layer trained"),
    "pretrain": Choice("Pretrain", help="train the network on the source task and store its weights"),
    "compare": Choice("All three", help="frozen, fine-tune and scratch side by side in one run (the runner)"),
    "sweep": Choice("Sweep", help="all three modes for each labels-per-class value of transfer.sweep"),
}

DEVICES = {"auto": Choice("Auto"), "cpu": Choice("CPU"), "cuda": Choice("CUDA (GPU)")}


def labels(registry: dict) -> dict[str, str]:
    """name -> label, for UI select boxes."""
    return {k: v.label for k, v in registry.items()}
