"""The Spec: one validated, serialisable description of an experiment (data, model, training, seed).

Everything non-primitive is a registry name. `validate()` raises one SpecError naming the field.
`to_dict`/`from_dict` are strict (unknown keys are errors); `to_query`/`from_query` are lenient.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field, fields, replace

from core import budget
from core.data.corpus import load_text
from core.data.tabular import MAX_COLUMNS, MAX_ROWS, MIN_ROWS
from core.errors import SpecError
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

# Caps keep one student from taking down a shared class server.
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
class LayerSpec:
    """One layer of a layer-list model (the CNN page): conv, pool, batchnorm, act, dropout, flatten, dense."""

    type: str = "conv"
    size: int = 8  # filters for conv, units for dense
    kernel: int = 3  # conv kernel or pooling window
    stride: int = 1
    padding: int = 0
    name: str = "relu"  # activation name for act; "max"/"avg" for pool
    p: float = 0.25  # dropout probability


@dataclass(frozen=True)
class DataSpec:
    name: str = "circle"
    n: int = 500  # points (toy) or images (shapes); digits uses min(n, 1797) when n > 0; a table: its rows
    noise: float = 0.0  # percent, 0-50 (TF Playground's slider)
    train_frac: float = 0.5
    val_frac: float = 0.0  # image sets: share of the non-training part kept for validation
    batch_size: int = 10
    features: tuple[str, ...] = ("x1", "x2")
    classes: int = 3  # multi-class toy sets and shapes
    image_size: int = 8
    normalize: str = "standard"  # images: "standard" (mean/std of train), "none"
    augment: tuple[str, ...] = ()  # names from AUGMENTS, training batches only
    aug_strength: float = 0.5  # 0-1, scales rotation/shift/noise of augmentation
    gan_samples: int = 512  # GAN: real samples drawn per epoch
    table: str = ""  # an uploaded table (data.name "table"): its content hash; "" = none
    target: str = ""  # the table's label (classification) or target (regression) column
    task: str = "classification"  # what the table's target column holds: classes or numbers
    columns: int = 2  # the table's feature columns: the network's inputs (2 = the decision plane)


@dataclass(frozen=True)
class ModelSpec:
    family: str = "mlp"  # "mlp" (also used for 2-D data), "cnn" (layer list)
    hidden: tuple[int, ...] = (4, 2)
    activation: tuple[str, ...] = ("tanh",)  # one name for all layers, or one per hidden layer
    init: str = "default"
    init_scale: float = 0.5  # std for "normal", bound for "uniform"
    init_bias: float = 0.0  # bias value for every init but "default"
    batchnorm: bool = False
    dropout: float = 0.0
    residual: bool = False
    layers: tuple[LayerSpec, ...] = ()


@dataclass(frozen=True)
class TrainSpec:
    loss: str = "auto"
    optimizer: str = "sgd"
    lr: float = 0.03
    momentum: float = 0.9
    weight_decay: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip: float = 0.0  # max global gradient norm; 0 = off
    schedule: str = "constant"
    step_size: int = 100  # epochs between decays ("step")
    gamma: float = 0.5  # decay factor per step_size ("step") or per epoch ("exponential")
    warmup: int = 10  # epochs of linear warm-up ("warmup_cosine"); share of one-cycle rise
    epochs: int = 1000
    early_stop: int = 0  # patience in epochs on validation loss; 0 = off
    device: str = "auto"


@dataclass(frozen=True)
class GanSpec:
    noise_dim: int = 2
    noise_type: str = "normal"
    gen_hidden: tuple[int, ...] = (64, 64)
    disc_hidden: tuple[int, ...] = (64, 64)
    gen_activation: str = "relu"
    disc_activation: str = "leaky_relu"
    gen_batchnorm: bool = False
    disc_dropout: float = 0.0
    arch: str = "mlp"  # "mlp" or "dcgan" (image GAN)
    loss: str = "nonsaturating"
    d_steps: int = 1
    g_lr: float = 0.001
    d_lr: float = 0.001
    g_optimizer: str = "adam"
    d_optimizer: str = "adam"
    gp_weight: float = 0.1


@dataclass(frozen=True)
class SeqSpec:
    """Recurrent networks on sequence tasks (data.name: adding, sines, copy, text)."""

    cell: str = "lstm"  # a CELLS name: rnn_tanh, rnn_relu, lstm, gru
    hidden: int = 32  # units per layer (torch's recurrent modules use one size for every layer)
    layers: int = 1
    dropout: float = 0.0  # between stacked layers, as torch applies it (no effect with one layer)
    length: int = 50  # time steps per sequence
    tokens: int = 8  # copy: how many different symbols
    recall: int = 5  # copy: how many symbols to remember and reproduce
    temperature: float = 0.8  # text: sampling temperature of the generated samples (a live field)


@dataclass(frozen=True)
class AeSpec:
    """Autoencoders (model.family "ae"): the encoder's layers, the code, the VAE, denoising, anomalies."""

    arch: str = "dense"  # "dense" or "conv"
    hidden: tuple[int, ...] = (64,)  # dense: encoder hidden units, input side first; the decoder mirrors them
    channels: tuple[int, ...] = (16, 32)  # conv: channels of each stride-2 convolution; the decoder mirrors them
    bottleneck: int = 2  # size of the code z; 2 draws the latent map without a projection
    activation: str = "relu"
    variational: bool = False  # VAE: the encoder gives a mean and a log-variance, z is sampled
    kl_weight: float = 1.0  # beta: weight of the KL term (1 = the ELBO with the bce loss)
    loss: str = "bce"  # per-pixel reconstruction loss
    noise: float = 0.0  # denoising: std of Gaussian noise on the inputs, in pixel units (0-1)
    normal_classes: tuple[int, ...] = ()  # train on these classes only (anomaly detection); () = all
    anomalies: tuple[str, ...] = ("other", "noise", "corrupt")  # what the held-out normal images are scored against


@dataclass(frozen=True)
class TransferSpec:
    """Transfer learning (model.family "transfer"): pretrain model.layers on a source task, reuse it on digits 5-9."""

    source: str = "digits_0_4"  # the pretraining task (TRANSFER_SOURCES)
    pretrain_epochs: int = 10
    mode: str = "compare"  # which run this spec is (TRANSFER_MODES); the page trains three at once
    labels_per_class: int = 10  # labelled target examples per class; 0 = every training image
    body_lr_factor: float = 1.0  # fine-tuning: the body's LR is train.lr times this
    sweep: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 0)  # labels per class of a sweep; 0 = all


@dataclass(frozen=True)
class Spec:
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    gan: GanSpec = field(default_factory=GanSpec)
    seq: SeqSpec = field(default_factory=SeqSpec)
    ae: AeSpec = field(default_factory=AeSpec)
    transfer: TransferSpec = field(default_factory=TransferSpec)
    seed: int = 0

    def with_(self, **dotted) -> Spec:
        """Return a copy with dotted keys replaced: spec.with_(**{"train.lr": 0.1})."""
        return apply_overrides(self, dotted)


SECTIONS = {
    "data": DataSpec,
    "model": ModelSpec,
    "train": TrainSpec,
    "gan": GanSpec,
    "transfer": TransferSpec,
    "seq": SeqSpec,
    "ae": AeSpec,
}


# ---------------------------------------------------------------------------- limits


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


# ---------------------------------------------------------------------------- codecs


def to_dict(spec: Spec) -> dict:
    """Spec -> plain JSON-able dict."""
    return json.loads(json.dumps(dataclasses.asdict(spec)))


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
MAX_TEXT = 10_000  # characters of one JSON value or spec text; a longer one is refused unread


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # --set model.batchnorm=1 parses as the number 1
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ValueError


def _int(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # 4.0 is 4; 4.7 is refused, never rounded
    if isinstance(value, str) and len(value.strip()) <= 30:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return _int(float(text))
    raise ValueError


def _float(value) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40):
        out = float(value)
        if math.isfinite(out):
            return out
    raise ValueError


def _items(value, single) -> list:
    """A list value, or a comma-separated string, or one `single` value as a list of one."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, single) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError


def _coerce(cls, name: str, value, where: str):
    """Coerce a JSON (or URL / --set string) value to the declared type of cls.name, or raise SpecError."""
    t = str({f.name: f for f in fields(cls)}[name].type)
    what = {"bool": "true or false", "int": "a whole number", "float": "a finite number", "str": "a name"}
    try:
        if t == "bool":
            return _bool(value)
        if t == "int":
            return _int(value)
        if t == "float":
            return _float(value)
        if t == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if t == "tuple[int, ...]":
            return tuple(_int(v) for v in _items(value, (int, float)))
        if t == "tuple[str, ...]":
            items = _items(value, str)
            if not all(isinstance(v, str) for v in items):
                raise ValueError
            return tuple(items)
        if t == "tuple[LayerSpec, ...]":
            if isinstance(value, str):
                value = _load_json(value, where)
            if not isinstance(value, (list, tuple)):
                raise ValueError
            return tuple(_layer_from(v, f"{where}[{i}]") for i, v in enumerate(value))
    except SpecError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError):
        lists = {
            "tuple[int, ...]": "whole numbers",
            "tuple[str, ...]": "names",
            "tuple[LayerSpec, ...]": "layer objects",
        }
        allowed = what.get(t) or f"a list of {lists[t]}"
        raise SpecError(where, value, allowed) from None
    raise SpecError(where, value, f"unsupported type {t}")


def _load_json(text: str, where: str):
    """Parse JSON text, or raise SpecError (too long, too deep, too many digits or not JSON)."""
    if len(text) > MAX_TEXT:
        raise SpecError(where, text, f"at most {MAX_TEXT:,} characters")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(where, text, f"invalid JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError) as e:  # a 5,000-digit number; nesting deeper than Python's stack
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
        raise SpecError(where, text, f"valid JSON ({reason})") from None


def parse_overrides(items: list[str]) -> dict:
    """`dotted.key=value` strings -> {key: value}, values parsed as JSON where they parse, else kept as strings."""
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SpecError("--set", item, "expected dotted.key=value")
        try:
            value = _load_json(raw, key.strip())
        except SpecError:
            value = raw
        out[key.strip()] = value
    return out


def _layer_from(value, where: str) -> LayerSpec:
    if isinstance(value, LayerSpec):
        return value
    if not isinstance(value, dict):
        raise SpecError(where, value, "expected an object with a 'type'")
    known = {f.name for f in fields(LayerSpec)}
    kw = {}
    for k, v in value.items():
        if k not in known:
            raise SpecError(f"{where}.{k}", v, f"unknown key; known: {', '.join(sorted(known))}")
        kw[k] = _coerce(LayerSpec, k, v, f"{where}.{k}")
    return LayerSpec(**kw)


def from_dict(d: dict) -> Spec:
    """Strict dict -> Spec: unknown keys and wrong types raise SpecError. Missing keys get defaults."""
    if not isinstance(d, dict):
        raise SpecError("spec", type(d).__name__, "expected a JSON object")
    kw = {}
    for key, value in d.items():
        if key == "seed":
            kw["seed"] = _coerce(Spec, "seed", value, "seed")
        elif key in SECTIONS:
            if not isinstance(value, dict):
                raise SpecError(key, value, "expected an object")
            cls = SECTIONS[key]
            known = {f.name for f in fields(cls)}
            sub = {}
            for k, v in value.items():
                if k not in known:
                    raise SpecError(
                        f"{key}.{k}",
                        v,
                        f"unknown key; known: {', '.join(sorted(known))}",
                    )
                sub[k] = _coerce(cls, k, v, f"{key}.{k}")
            kw[key] = cls(**sub)
        else:
            where = key if isinstance(key, str) and key.strip() else f"spec key {key!r}"
            raise SpecError(where, value, "unknown key; known: " + ", ".join([*SECTIONS, "seed"]))
    return Spec(**kw)


def to_json(spec: Spec) -> str:
    """Spec -> JSON text."""
    return json.dumps(to_dict(spec), indent=2)


def from_json(text: str) -> Spec:
    """JSON text -> Spec (strict)."""
    if len(text) > 100 * MAX_TEXT:
        raise SpecError("spec", text[:40], f"at most {100 * MAX_TEXT:,} characters")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError("spec", text[:40], f"invalid JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
        raise SpecError("spec", text[:40], f"valid JSON ({reason})") from None
    return from_dict(d)


def apply_overrides(spec: Spec, dotted: dict) -> Spec:
    """Replace dotted keys ("train.lr", "seed") with values (strings or JSON values). Strict."""
    sections = {name: getattr(spec, name) for name in SECTIONS}
    seed = spec.seed
    for key, value in dotted.items():
        if key == "seed":
            seed = _coerce(Spec, "seed", value, "seed")
            continue
        section, _, name = key.partition(".") if isinstance(key, str) else (key, "", "")
        if section not in SECTIONS or not name:
            raise SpecError(
                key if isinstance(key, str) and key.strip() else f"key {key!r}",
                value,
                "unknown key; use section.field with section in " + ", ".join(SECTIONS),
            )
        known = {f.name for f in fields(SECTIONS[section])}
        if name not in known:
            raise SpecError(key, value, f"unknown field; {section} has {', '.join(sorted(known))}")
        sections[section] = replace(sections[section], **{name: _coerce(SECTIONS[section], name, value, key)})
    return Spec(seed=seed, **sections)


def _query_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        if value and isinstance(value[0], LayerSpec):
            return json.dumps([_layer_short(v) for v in value], separators=(",", ":"))
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _layer_short(layer: LayerSpec) -> dict:
    default = LayerSpec()
    return {"type": layer.type} | {
        k: v for k, v in dataclasses.asdict(layer).items() if k != "type" and v != getattr(default, k)
    }


def to_query(spec: Spec) -> dict[str, str]:
    """Spec -> short URL query dict: only fields that differ from the defaults, dotted keys."""
    q = {}
    if spec.seed != Spec().seed:
        q["seed"] = str(spec.seed)
    for section, cls in SECTIONS.items():
        value, default = getattr(spec, section), cls()
        for f in fields(cls):
            v = getattr(value, f.name)
            if v != getattr(default, f.name):
                q[f"{section}.{f.name}"] = _query_value(v)
    return q


def from_query(query: dict) -> tuple[Spec, list[str]]:
    """Lenient URL query -> (Spec, problems). The spec is valid; every value is either restored exactly or
    left at its default with a problem saying why (bad value, unknown key, or over a limit with the rest)."""
    given, problems = {}, []
    for key, value in query.items():
        if not isinstance(key, str) or (key != "seed" and key.partition(".")[0] not in SECTIONS):
            continue  # not a spec key (e.g. ?run=, ?preset=)
        if isinstance(value, list):
            value = value[-1] if value else ""
        try:
            apply_overrides(Spec(), {key: value})  # the value parses for this field
            given[key] = value
        except SpecError as e:
            problems.append(f"{e} (kept the default)")
    # Drop values the whole spec refuses (a field's limit, a rule tying fields, a budget), latest first.
    while True:
        spec = apply_overrides(Spec(), given)
        try:
            return validate(spec), problems
        except SpecError as e:
            key = next((k for k in given if e.field == k or e.field.startswith((k + "[", k + "."))), None)
            if not given:
                raise  # the defaults themselves are over this server's budgets
            if key is None:
                key = next(reversed(given))  # a rule across fields or a budget: undo the last value given
            problems.append(f"{e} (kept the default for {key})")
            del given[key]


# ---------------------------------------------------------------------------- validation


def _check(cond: bool, name: str, value, allowed: str):
    if not cond:
        raise SpecError(name, value, allowed)


def _in(registry, name: str, value):
    _check(value in registry, name, value, "one of " + ", ".join(map(str, registry)))


def _num(x) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range(name, value, lo, hi):
    _check(lo <= value <= hi, name, value, f"between {_num(lo)} and {_num(hi)}")


def _types(cls) -> dict[str, str]:
    return {f.name: str(f.type) for f in fields(cls)}


def _check_type(where: str, value, t: str) -> None:
    """The value has the field's declared type (bools are not numbers, floats are finite)."""
    if t == "bool":
        ok, what = isinstance(value, bool), "true or false"
    elif t == "int":
        ok, what = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif t == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        what = "a finite number"
    elif t == "str":
        ok, what = isinstance(value, str), "a name"
    else:
        ok, what = isinstance(value, (tuple, list)), "a list"
    _check(ok, where, value, what)


def _check_value(key: str, where: str, value, t: str) -> None:
    """One scalar against its type and its LIMITS / CHOICES entry."""
    _check_type(where, value, t)
    if key in LIMITS:
        lim = LIMITS[key]
        _range(where, value, lim.lo, lim.hi)
    if key in CHOICES:
        _in(CHOICES[key], where, value)
    if key in PATTERNS:
        _check(PATTERNS[key].match(value), where, value, PATTERNS[key].text)


def _check_field(key: str, value, t: str) -> None:
    """A field (tuple fields: its length and each element) against the table."""
    if not t.startswith("tuple["):
        _check_value(key, key, value, t)
        return
    _check_type(key, value, t)
    if key in LENGTHS:
        lim = LENGTHS[key]
        _check(lim.lo <= len(value) <= lim.hi, key, value, f"between {lim.lo} and {lim.hi} entries")
    if t == "tuple[LayerSpec, ...]":
        layer_types = _types(LayerSpec)
        for i, layer in enumerate(value):
            _check(isinstance(layer, LayerSpec), f"{key}[{i}]", layer, "a layer object")
            for name, lt in layer_types.items():
                _check_value(f"{key}.{name}", f"{key}[{i}].{name}", getattr(layer, name), lt)
        return
    inner = t[len("tuple[") : -len(", ...]")]
    for i, v in enumerate(value):
        _check_value(key, f"{key}[{i}]", v, inner)


def validate_field(spec: Spec, key: str) -> None:
    """Validate a spec, but report only problems in the field `key` (used by the lenient URL codec)."""
    try:
        validate(spec, check_params=False)
    except SpecError as e:
        if e.field == key or e.field.startswith(key + "[") or e.field.startswith(key + "."):
            raise


def validate(spec: Spec, check_params: bool = True) -> Spec:
    """Raise SpecError for the first bad field; return the spec unchanged when it is valid."""
    _check_field("seed", spec.seed, "int")
    for section, cls in SECTIONS.items():
        value = getattr(spec, section)
        _check(isinstance(value, cls), section, value, f"a {cls.__name__}")
        for name, t in _types(cls).items():
            _check_field(f"{section}.{name}", getattr(value, name), t)

    # Rules that tie fields together (the table holds each field's own limits).
    d, m = spec.data, spec.model
    if DATASETS[d.name].kind == "toy":
        _check(d.n >= MIN_TOY_POINTS, "data.n", d.n, f"at least {MIN_TOY_POINTS} points for a 2-D set")
    if DATASETS[d.name].kind == "table":
        _table_rules(spec)
    _check(len(set(d.features)) == len(d.features), "data.features", d.features, "each feature once")
    _check(len(set(d.augment)) == len(d.augment), "data.augment", d.augment, "each augmentation once")
    _check(
        len(m.activation) in (1, len(m.hidden)) or not m.hidden,
        "model.activation",
        m.activation,
        f"one name, or one per hidden layer ({len(m.hidden)})",
    )
    for i, layer in enumerate(m.layers):
        if layer.type in LAYER_NAMES:
            _in(LAYER_NAMES[layer.type], f"model.layers[{i}].name", layer.name)

    if DATASETS[d.name].kind == "seq":
        _seq_rules(spec)

    convs = sum(1 for layer in m.layers if layer.type == "conv")
    _check(convs <= MAX_CONV_LAYERS, "model.layers", f"{convs} conv layers", f"at most {MAX_CONV_LAYERS}")

    _check_ae(spec)
    _validate_transfer(spec)
    _check_loss(spec)
    if check_params:
        budget.check(spec, output_size(spec))  # parameters, memory and compute, by arithmetic
    return spec


def _table_rules(spec: Spec) -> None:
    """An uploaded table: named by its hash, with its rows, columns, target and classes stated in the spec."""
    d = spec.data
    _check(d.table != "", "data.table", d.table, "an uploaded table's hash: upload a CSV on the Playground")
    _check(d.target != "", "data.target", d.target, "the name of the table's label or target column")
    _check(MIN_ROWS <= d.n <= MAX_ROWS, "data.n", d.n, f"the table's rows: {MIN_ROWS} to {MAX_ROWS:,}")
    _check(spec.model.family == "mlp", "model.family", spec.model.family, "mlp for a table of numbers")


def _seq_rules(spec: Spec) -> None:
    """What a sequence task needs beyond each field's own limits."""
    d, q = spec.data, spec.seq
    _check(d.n >= MIN_TOY_POINTS, "data.n", d.n, f"at least {MIN_TOY_POINTS} sequences")
    if d.name == "copy":
        _check(
            q.length >= 2 * q.recall + 1,
            "seq.length",
            q.length,
            f"at least 2 x recall + 1 = {2 * q.recall + 1} for the copy task (symbols, a go mark, their replay)",
        )
    if d.name == "text":
        chars = len(load_text())
        shortest = min(int(chars * d.train_frac), chars - int(chars * d.train_frac))
        _check(
            q.length < shortest,
            "seq.length",
            q.length,
            f"below {shortest}: the shorter part of the {chars}-character text",
        )
    numbers = DATASETS[d.name].task == "regression"
    allowed = ("auto", "mse") if numbers else ("auto", "ce")
    _check(spec.train.loss in allowed, "train.loss", spec.train.loss, " or ".join(allowed) + f" for the {d.name} task")


def _check_ae(spec: Spec) -> None:
    """Autoencoder rules that tie fields together (each field's own limits are in the tables)."""
    a, d = spec.ae, spec.data
    _check(len(set(a.anomalies)) == len(a.anomalies), "ae.anomalies", a.anomalies, "each kind once")
    _check(
        len(set(a.normal_classes)) == len(a.normal_classes), "ae.normal_classes", a.normal_classes, "each class once"
    )
    if spec.model.family != "ae":
        return
    _check(
        DATASETS[d.name].kind == "image", "data.name", d.name, "an image dataset (digits or shapes) for autoencoders"
    )
    _check(
        d.normalize == "none", "data.normalize", d.normalize, "none for autoencoders: they reconstruct pixels in [0, 1]"
    )
    k = n_classes(spec)
    for i, c in enumerate(a.normal_classes):
        _check(c < k, f"ae.normal_classes[{i}]", c, f"a class of {d.name}: 0 to {k - 1}")


def _validate_transfer(spec: Spec) -> None:
    """A transfer network (its fields' own limits are in the table) needs the digits, its target, and a body."""
    if spec.model.family == "transfer":
        _check(spec.data.name == "digits", "data.name", spec.data.name, "digits: the target task is digits 5-9")
        _check(bool(spec.model.layers), "model.layers", (), "at least one layer in the pretrained body")


def _check_loss(spec: Spec) -> None:
    """The loss must allow the dataset's task (LOSSES[name].tasks); GANs use gan.loss, sequences `_seq_rules`."""
    task = task_of(spec)
    if task == "gan" or DATASETS[spec.data.name].kind == "seq":
        return
    allowed = [k for k, v in LOSSES.items() if task in v.tasks]
    _check(spec.train.loss in allowed, "train.loss", spec.train.loss, f"one of {', '.join(allowed)} for {task} data")


def _data_task(spec: Spec) -> str:
    """The dataset's registry task; an uploaded table's ("table") comes from data.task."""
    task = DATASETS[spec.data.name].task
    if task == "table":
        return "regression" if spec.data.task == "regression" else "classes"
    return task


def task_of(spec: Spec) -> str:
    """'binary', 'multiclass', 'regression' or 'gan' for the spec's dataset."""
    if DATASETS[spec.data.name].kind == "gan":
        return "gan"
    task = _data_task(spec)
    if task == "classes":
        return "multiclass" if n_classes(spec) > 2 else "binary"
    return task


def n_classes(spec: Spec) -> int:
    """Number of classes of the spec's dataset (1 for regression)."""
    task = _data_task(spec)
    if task == "regression":
        return 1
    if task == "binary":
        return 2
    return DATASETS[spec.data.name].classes or spec.data.classes


def resolved_loss(spec: Spec) -> str:
    """The loss actually used: 'auto' becomes the loss whose `default_for` holds the task."""
    if spec.train.loss != "auto":
        return spec.train.loss
    task = task_of(spec)
    if task == "gan":
        return "gan"
    return next(k for k, v in LOSSES.items() if task in v.default_for)


def output_size(spec: Spec) -> int:
    """Units of the model's output layer: one logit per class for class-index losses (cross-entropy), else one."""
    loss = resolved_loss(spec)
    return n_classes(spec) if loss in LOSSES and LOSSES[loss].target == "index" else 1
