"""Name registries: every non-primitive choice in a Spec is a key of one of these tables.

Each entry holds its behaviour (the function or factory that does it) beside its label and help.
Validation, the engine, the widgets and docs/registries.md all read these tables, so adding an
optimiser, schedule, loss, GAN loss, dataset, activation or initialiser is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core import losses as L
from core.data import toy


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


@dataclass(frozen=True)
class Optimizer:
    label: str
    make: Callable  # f(params, spec.train) -> torch.optim.Optimizer
    help: str = ""
    uses: tuple[str, ...] = ("lr", "weight_decay")  # the train fields it reads (the widgets show those)


OPTIMIZERS = {
    "sgd": Optimizer("SGD", lambda p, t: torch.optim.SGD(p, lr=t.lr, weight_decay=t.weight_decay)),
    "momentum": Optimizer(
        "SGD + momentum",
        lambda p, t: torch.optim.SGD(p, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay),
        uses=("lr", "momentum", "weight_decay"),
    ),
    "nesterov": Optimizer(
        "Nesterov",
        lambda p, t: torch.optim.SGD(p, lr=t.lr, momentum=t.momentum, nesterov=True, weight_decay=t.weight_decay),
        uses=("lr", "momentum", "weight_decay"),
    ),
    "adam": Optimizer("Adam", lambda p, t: torch.optim.Adam(p, lr=t.lr, weight_decay=t.weight_decay)),
    "adamw": Optimizer("AdamW", lambda p, t: torch.optim.AdamW(p, lr=t.lr, weight_decay=t.weight_decay)),
    "rmsprop": Optimizer("RMSprop", lambda p, t: torch.optim.RMSprop(p, lr=t.lr, weight_decay=t.weight_decay)),
    "adagrad": Optimizer("Adagrad", lambda p, t: torch.optim.Adagrad(p, lr=t.lr, weight_decay=t.weight_decay)),
}


# ---------------------------------------------------------------------------- schedules
# make(optimizer, spec.train, steps_per_epoch) -> a torch.optim.lr_scheduler stepped once per
# optimiser step, or None for a constant LR. `uses` names the train fields the schedule reads.
S = torch.optim.lr_scheduler


@dataclass(frozen=True)
class Schedule:
    label: str
    make: Callable
    help: str = ""
    uses: tuple[str, ...] = ()


def _total(train, spe: int) -> int:
    return max(1, train.epochs * spe)


def _exponential(opt, t, spe):
    # gamma is per epoch; per step that is its steps_per_epoch-th root.
    return S.ExponentialLR(opt, gamma=t.gamma ** (1.0 / spe))


def _warmup_cosine(opt, t, spe):
    total = _total(t, spe)
    warm = min(total - 1, t.warmup * spe)
    if warm <= 0:
        return S.CosineAnnealingLR(opt, T_max=total)
    rise = S.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warm)
    return S.SequentialLR(opt, [rise, S.CosineAnnealingLR(opt, T_max=total - warm)], milestones=[warm])


def _onecycle(opt, t, spe):
    pct = min(0.9, max(0.05, t.warmup / max(1, t.epochs)))
    cycle = "momentum" in opt.defaults or "betas" in opt.defaults  # Adagrad has neither: cycle the rate only
    return S.OneCycleLR(opt, max_lr=t.lr, total_steps=_total(t, spe) + 1, pct_start=pct, cycle_momentum=cycle)


SCHEDULES = {
    "constant": Schedule("Constant", lambda opt, t, spe: None, "the LR stays at lr"),
    "step": Schedule(
        "Step decay",
        lambda opt, t, spe: S.StepLR(opt, step_size=t.step_size * spe, gamma=t.gamma),
        "multiply by gamma every step_size epochs",
        ("step_size", "gamma"),
    ),
    "exponential": Schedule("Exponential", _exponential, "multiply by gamma every epoch", ("gamma",)),
    "cosine": Schedule(
        "Cosine",
        lambda opt, t, spe: S.CosineAnnealingLR(opt, T_max=_total(t, spe)),
        "cosine from lr down to 0 over all epochs",
    ),
    "warmup_cosine": Schedule(
        "Warm-up + cosine", _warmup_cosine, "linear rise for warmup epochs, then cosine", ("warmup",)
    ),
    "onecycle": Schedule("One-cycle", _onecycle, "rise to lr, then anneal far below it", ("warmup",)),
}


# ---------------------------------------------------------------------------- losses
TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Loss:
    """A supervised loss. `fn(out, y)` is the batch mean; `target` is how classes are encoded:
    "index" (class index, one logit per class), "01" (0/1, one logit), "pm1" (-1/+1, one output).
    Regression targets are the values themselves, whatever the loss."""

    label: str
    fn: Callable | None  # None: "auto", resolved by task
    tasks: tuple[str, ...]  # the tasks that allow it
    target: str = "pm1"
    default_for: tuple[str, ...] = ()  # tasks where "auto" means this loss
    tanh_out: bool = False  # the MLP ends in tanh (outputs in (-1, 1), as the targets)
    help: str = ""


LOSSES = {
    "auto": Loss("Auto (by task)", None, TASKS, help="BCE for two classes, cross-entropy for more, MSE for values"),
    "bce": Loss(
        "Binary cross-entropy",
        F.binary_cross_entropy_with_logits,
        ("binary",),
        "01",
        ("binary",),
        help="one logit; P(class 1) = sigmoid(logit)",
    ),
    "half_mse": Loss(
        "Half MSE (TF Playground)",
        L.half_mse,
        ("binary", "regression"),
        "pm1",
        tanh_out=True,
        help="0.5 (out - y)^2 with a tanh output and labels -1/+1",
    ),
    "mse": Loss("Mean squared error", F.mse_loss, ("binary", "regression"), "pm1", ("regression",), help="(out - y)^2"),
    "ce": Loss(
        "Cross-entropy (multi-class)",
        F.cross_entropy,
        ("binary", "multiclass"),
        "index",
        ("multiclass",),
        help="one logit per class; softmax gives the probabilities",
    ),
}


def losses_for(task: str) -> dict:
    """The losses a task allows, its "auto" choice first (the widget's choices on the Playground)."""
    allowed = {k: v for k, v in LOSSES.items() if k != "auto" and task in v.tasks}
    first = [k for k, v in allowed.items() if task in v.default_for]
    return {k: allowed[k] for k in first + [k for k in allowed if k not in first]}


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
    kind: str  # "toy" (2-D points), "image", "gan" (2-D target), "gan_image", "seq", "table" (an uploaded CSV)
    task: str  # "binary", "regression", "classes"; "table": the spec's data.task says
    classes: int | None = None  # fixed class count; None = spec.data.classes
    default_n: int = 500
    make: Callable | None = None  # toy sets: f(n, noise, rng, classes) -> points (n, 2), labels (n,)


DATASETS = {
    "circle": DatasetInfo("Circle", "toy", "binary", make=toy.circle),
    "xor": DatasetInfo("Exclusive or", "toy", "binary", make=toy.xor),
    "gauss": DatasetInfo("Two Gaussians", "toy", "binary", make=toy.gauss),
    "spiral": DatasetInfo("Spiral", "toy", "binary", make=toy.spiral),
    "moons": DatasetInfo("Two moons", "toy", "binary", make=toy.moons),
    "blobs": DatasetInfo("Blobs (k classes)", "toy", "classes", make=toy.blobs),
    "spiral_k": DatasetInfo("Spiral (k arms)", "toy", "classes", make=toy.spiral_k),
    "plane": DatasetInfo("Plane (regression)", "toy", "regression", default_n=1200, make=toy.plane),
    "multigauss": DatasetInfo("Multi-Gaussian (regression)", "toy", "regression", default_n=1200, make=toy.multigauss),
    "digits": DatasetInfo("Handwritten digits (8x8)", "image", "classes", classes=10, default_n=0),
    "shapes": DatasetInfo("Shapes (generated)", "image", "classes", default_n=1500),
    "ring": DatasetInfo("Ring of 8 Gaussians", "gan", "gan"),
    "grid": DatasetInfo("5x5 grid of Gaussians", "gan", "gan"),
    "gan_spiral": DatasetInfo("Spiral", "gan", "gan"),
    "gan_moons": DatasetInfo("Two moons", "gan", "gan"),
    "line": DatasetInfo("A line", "gan", "gan"),
    "gaussian": DatasetInfo("One Gaussian", "gan", "gan"),
    "gan_digits": DatasetInfo("Digits (image GAN)", "gan_image", "gan", classes=10, default_n=0),
    "adding": DatasetInfo("Adding problem", "seq", "regression", default_n=2500),
    "sines": DatasetInfo("Noisy sines (forecast)", "seq", "regression", default_n=1000),
    "copy": DatasetInfo("Copy / recall", "seq", "classes", default_n=2500),
    "text": DatasetInfo("Character-level text", "seq", "classes", default_n=2000),
    "table": DatasetInfo("Your own data (CSV)", "table", "table", default_n=0),
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


# ---------------------------------------------------------------------------- GAN losses
@dataclass(frozen=True)
class GanLoss:
    label: str
    d: Callable  # (D(real), D(fake)) -> discriminator loss
    g: Callable  # D(fake) -> generator loss
    sigmoid: bool = False  # D's raw output is a logit: the charts show D(x) = sigmoid(logit) = P(real)
    midpoint: float | None = None  # D's undecided score; None: halfway between its real and fake means
    gradient_penalty: bool = False  # the critic adds gan.gp_weight * the WGAN-GP gradient penalty
    help: str = ""


GAN_LOSSES = {
    "minimax": GanLoss("Minimax (original)", L.minimax_d, L.minimax_g, sigmoid=True, midpoint=0.5),
    "nonsaturating": GanLoss("Non-saturating", L.minimax_d, L.nonsaturating_g, sigmoid=True, midpoint=0.5),
    "lsgan": GanLoss("Least squares", L.lsgan_d, L.lsgan_g, midpoint=0.5),
    "wgan_gp": GanLoss("Wasserstein + gradient penalty", L.wasserstein_d, L.wasserstein_g, gradient_penalty=True),
    "hinge": GanLoss("Hinge", L.hinge_d, L.wasserstein_g, midpoint=0.0),
}

NOISE_TYPES = {
    "normal": Choice("Normal N(0, 1)"),
    "uniform": Choice("Uniform U(-1, 1)"),
}

# Recurrent cells: name -> f(input_size, hidden, layers, dropout) -> a batch-first torch.nn module
CELLS = {
    "rnn_tanh": Choice(
        "RNN (tanh)",
        lambda i, h, n, d: nn.RNN(i, h, n, nonlinearity="tanh", dropout=d, batch_first=True),
        "h_t = tanh(W x_t + U h_t-1 + b): every step multiplies the gradient by U and tanh'",
    ),
    "rnn_relu": Choice(
        "RNN (ReLU)",
        lambda i, h, n, d: nn.RNN(i, h, n, nonlinearity="relu", dropout=d, batch_first=True),
        "h_t = relu(W x_t + U h_t-1 + b): no saturation, but U is still multiplied in at every step",
    ),
    "lstm": Choice(
        "LSTM",
        lambda i, h, n, d: nn.LSTM(i, h, n, dropout=d, batch_first=True),
        "a cell state c_t = f * c_t-1 + i * g, guarded by input, forget and output gates",
    ),
    "gru": Choice(
        "GRU",
        lambda i, h, n, d: nn.GRU(i, h, n, dropout=d, batch_first=True),
        "h_t = (1 - z) * n + z * h_t-1: an update gate z mixes the new candidate with the old state",
    ),
}

AE_ARCHS = {
    "dense": Choice("Dense (fully connected)", help="pixels -> hidden layers -> code -> mirrored layers -> pixels"),
    "conv": Choice("Convolutional", help="stride-2 convolutions down, transposed convolutions back up"),
}

# name -> f(logits, pixels in [0, 1]) -> per-pixel mean reconstruction loss
AE_LOSSES = {
    "bce": Choice(
        "Binary cross-entropy",
        lambda logits, x: nn.functional.binary_cross_entropy_with_logits(logits, x),
        "per pixel, with the pixel's brightness (0-1) as the target",
    ),
    "mse": Choice(
        "Mean squared error",
        lambda logits, x: nn.functional.mse_loss(torch.sigmoid(logits), x),
        "per pixel, of the reconstruction sigmoid(logits)",
    ),
}

# What the anomaly detector is shown besides held-out normal images
ANOMALIES = {
    "other": Choice("Other classes", help="held-out images of the classes it never trained on"),
    "noise": Choice("Noise images", help="every pixel uniform random in [0, 1]"),
    "corrupt": Choice("Corrupted images", help="held-out normal images with a bright square pasted on"),
}

# Transfer learning: the task a CNN is pretrained on, and how the target task is trained.
TRANSFER_SOURCES = {
    "digits_0_4": Choice("Digits 0-4", help="scikit-learn's handwritten digits 0, 1, 2, 3 and 4"),
    "shapes": Choice("Shapes (5 kinds)", help="generated circles, squares, triangles, crosses and stars"),
    "glyphs": Choice(
        "Glyphs (100 kinds)", help="generated stroke figures, moved, scaled, rotated and cluttered; target: 10 new ones"
    ),
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
