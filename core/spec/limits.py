"""The Spec's limits table: one entry per field kind, read by `validate()` and by every widget.

LIMITS (a number's range), LENGTHS (a tuple's length), CHOICES (a registry-named field's names) and
PATTERNS (a text field's form). The caps keep one student from taking down a shared class server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.data.tabular import MAX_COLUMNS
from core.registry import (
    ACTIVATIONS,
    AE_ARCHS,
    AE_LOSSES,
    ANOMALIES,
    AUGMENTS,
    CELLS,
    DATASETS,
    DEVICES,
    FEATURES,
    GAN_LOSSES,
    INITS,
    LAYER_TYPES,
    LOSSES,
    NOISE_TYPES,
    OPTIMIZERS,
    SCHEDULES,
    TRANSFER_MODES,
    TRANSFER_SOURCES,
    Choice,
)

MAX_HIDDEN_LAYERS = 64
MAX_UNITS = 256
MAX_EPOCHS = 100_000
MAX_POINTS = 5_000
MAX_BATCH = 512
MAX_CONV_LAYERS = 24
MAX_IMAGE_SIZE = 64
MAX_SEQ_LENGTH = 500
MAX_SEQ_LAYERS = 4
MAX_AE_LAYERS = 4
MAX_AE_CHANNELS = 64
MAX_BOTTLENECK = 64
MAX_LABELS_PER_CLASS = 200  # digits 5-9 have about 180 images per class in all


@dataclass(frozen=True)
class Limit:
    """A field's range and its widget's step (int fields: ints)."""

    lo: float
    hi: float
    step: float = 1  # the widget's step
    unit: str = ""  # e.g. "epochs", "%"; widgets show it in the label or help


# Small name tables of their own (the rest live in core.registry).
MODEL_FAMILIES = {
    "mlp": Choice("Fully connected (MLP)"),
    "cnn": Choice("Convolutional (layer list)"),
    "ae": Choice("Autoencoder (the ae section)"),
    "transfer": Choice("Convolutional, body pretrained on a source task (transfer learning)"),
}
GAN_ARCHS = {"mlp": Choice("MLP"), "dcgan": Choice("DCGAN (convolutional)")}
NORMALIZATIONS = {"standard": Choice("Mean 0, std 1 (training set)"), "none": Choice("None (pixels 0-1)")}
POOLS = {"max": Choice("Max pooling"), "avg": Choice("Average pooling")}
BOOL = {False: Choice("Off"), True: Choice("On")}
TABLE_TASKS = {
    "classification": Choice("Classification (the column holds classes)"),
    "regression": Choice("Regression (the column holds numbers)"),
}
# A layer's `name` means an activation for "act" layers and a pooling kind for "pool" layers.
LAYER_NAMES = {"act": ACTIVATIONS, "pool": POOLS}
MIN_TOY_POINTS = 10  # a 2-D set needs a few points on each side of the split

_UNITS = Limit(1, MAX_UNITS, 1, "units")
_EPOCHS = Limit(0, MAX_EPOCHS, 1, "epochs")

# Dotted field -> range; tuple fields -> the range of each element.
LIMITS: dict[str, Limit] = {
    "seed": Limit(0, 2**31 - 1),
    "data.n": Limit(0, MAX_POINTS, 10, "points"),  # 0 = the whole set (digits); 2-D sets need MIN_TOY_POINTS
    "data.noise": Limit(0.0, 50.0, 1.0, "%"),
    "data.train_frac": Limit(0.1, 0.9, 0.05),
    "data.val_frac": Limit(0.0, 0.9, 0.05),
    "data.batch_size": Limit(1, MAX_BATCH, 1),
    "data.classes": Limit(2, 10, 1, "classes"),
    "data.image_size": Limit(8, MAX_IMAGE_SIZE, 1, "pixels"),
    "data.aug_strength": Limit(0.0, 1.0, 0.05),
    "data.gan_samples": Limit(16, MAX_POINTS, 16, "samples"),
    "data.columns": Limit(1, MAX_COLUMNS - 1, 1, "columns"),  # every column but the target
    "model.hidden": _UNITS,
    "model.init_scale": Limit(0.0, 100.0, 0.01),
    "model.init_bias": Limit(-10.0, 10.0, 0.1),
    "model.dropout": Limit(0.0, 0.9, 0.05),
    "model.layers.size": Limit(1, MAX_UNITS, 1, "filters or units"),
    "model.layers.kernel": Limit(1, 15, 1, "pixels"),
    "model.layers.stride": Limit(1, 8, 1, "pixels"),
    "model.layers.padding": Limit(0, 8, 1, "pixels"),
    "model.layers.p": Limit(0.0, 0.9, 0.05),
    "train.lr": Limit(1e-6, 10.0, 0.001),
    "train.momentum": Limit(0.0, 0.999, 0.01),
    "train.weight_decay": Limit(0.0, 1.0, 0.0001),
    "train.l1": Limit(0.0, 10.0, 0.001),
    "train.l2": Limit(0.0, 10.0, 0.001),
    "train.clip": Limit(0.0, 1000.0, 0.1),
    "train.step_size": Limit(1, MAX_EPOCHS, 1, "epochs"),
    "train.gamma": Limit(0.001, 1.0, 0.01),
    "train.warmup": _EPOCHS,
    "train.epochs": Limit(1, MAX_EPOCHS, 1, "epochs"),
    "train.early_stop": _EPOCHS,
    "gan.noise_dim": Limit(1, 128, 1, "dimensions"),
    "gan.gen_hidden": _UNITS,
    "gan.disc_hidden": _UNITS,
    "gan.disc_dropout": Limit(0.0, 0.9, 0.05),
    "gan.d_steps": Limit(1, 10, 1, "steps"),
    "gan.g_lr": Limit(1e-6, 1.0, 0.0001),
    "gan.d_lr": Limit(1e-6, 1.0, 0.0001),
    "gan.gp_weight": Limit(0.0, 100.0, 0.1),
    "seq.hidden": _UNITS,
    "seq.layers": Limit(1, MAX_SEQ_LAYERS, 1, "layers"),
    "seq.dropout": Limit(0.0, 0.9, 0.05),
    "seq.length": Limit(2, MAX_SEQ_LENGTH, 1, "steps"),
    "seq.tokens": Limit(2, 20, 1, "symbols"),
    "seq.recall": Limit(1, 20, 1, "symbols"),
    "seq.forget_bias": Limit(0.0, 5.0, 0.5),
    "seq.temperature": Limit(0.05, 5.0, 0.05),
    "ae.hidden": _UNITS,
    "ae.channels": Limit(1, MAX_AE_CHANNELS, 1, "channels"),
    "ae.bottleneck": Limit(2, MAX_BOTTLENECK, 1, "numbers"),
    "ae.kl_weight": Limit(0.0, 10.0, 0.1),
    "ae.noise": Limit(0.0, 1.0, 0.05),
    "ae.normal_classes": Limit(0, 9, 1),  # and below the dataset's class count (validate)
    "transfer.pretrain_epochs": Limit(1, 200, 1, "epochs"),
    "transfer.labels_per_class": Limit(0, MAX_LABELS_PER_CLASS, 1, "labels per class"),  # 0 = all
    "transfer.body_lr_factor": Limit(0.0, 1.0, 0.05),
    "transfer.sweep": Limit(0, MAX_LABELS_PER_CLASS, 1, "labels per class"),
}


# Text fields -> the pattern their whole value must match (and how to say it).
@dataclass(frozen=True)
class Pattern:
    """A text field's allowed form: a regular expression the whole value matches, and its description."""

    regex: str
    text: str

    def match(self, value: str) -> bool:
        return re.fullmatch(self.regex, value) is not None


PATTERNS: dict[str, Pattern] = {
    "data.table": Pattern("(?:[0-9a-f]{16})?", "16 hex digits (an uploaded table's content hash), or empty"),
    # No quotes or backslashes: the name travels inside JSON, URLs and the exported script's source.
    "data.target": Pattern(
        r"[^\x00-\x1f\x7f\"\\]{0,100}",
        "a column name: up to 100 characters, no double quotes, backslashes or control characters",
    ),
}

# Tuple fields -> the range of their length.
LENGTHS: dict[str, Limit] = {
    "data.features": Limit(1, len(FEATURES), 1, "features"),
    "data.augment": Limit(0, len(AUGMENTS), 1, "augmentations"),
    "model.hidden": Limit(0, MAX_HIDDEN_LAYERS, 1, "layers"),
    "model.activation": Limit(0, MAX_HIDDEN_LAYERS, 1, "names"),
    "model.layers": Limit(0, MAX_CONV_LAYERS * 4, 1, "layers"),
    "gan.gen_hidden": Limit(1, 8, 1, "layers"),
    "gan.disc_hidden": Limit(1, 8, 1, "layers"),
    "ae.hidden": Limit(0, MAX_AE_LAYERS, 1, "layers"),
    "ae.channels": Limit(1, MAX_AE_LAYERS, 1, "layers"),
    "ae.normal_classes": Limit(0, 10, 1, "classes"),
    "ae.anomalies": Limit(0, len(ANOMALIES), 1, "kinds"),
    "transfer.sweep": Limit(1, 12, 1, "points"),
}

# Registry-named fields -> their registry (tuple fields: the choices of each element).
CHOICES: dict[str, dict] = {
    "data.name": DATASETS,
    "data.features": FEATURES,
    "data.normalize": NORMALIZATIONS,
    "data.augment": AUGMENTS,
    "data.task": TABLE_TASKS,
    "model.family": MODEL_FAMILIES,
    "model.activation": ACTIVATIONS,
    "model.init": INITS,
    "model.batchnorm": BOOL,
    "model.residual": BOOL,
    "model.layers.type": LAYER_TYPES,
    "model.layers.name": ACTIVATIONS | POOLS,  # per layer type: LAYER_NAMES
    "train.loss": LOSSES,
    "train.optimizer": OPTIMIZERS,
    "train.schedule": SCHEDULES,
    "train.device": DEVICES,
    "gan.noise_type": NOISE_TYPES,
    "gan.gen_activation": ACTIVATIONS,
    "gan.disc_activation": ACTIVATIONS,
    "gan.gen_batchnorm": BOOL,
    "gan.arch": GAN_ARCHS,
    "gan.loss": GAN_LOSSES,
    "gan.g_optimizer": OPTIMIZERS,
    "gan.d_optimizer": OPTIMIZERS,
    "seq.cell": CELLS,
    "ae.arch": AE_ARCHS,
    "ae.activation": ACTIVATIONS,
    "ae.variational": BOOL,
    "ae.loss": AE_LOSSES,
    "ae.anomalies": ANOMALIES,
    "transfer.source": TRANSFER_SOURCES,
    "transfer.mode": TRANSFER_MODES,
}
