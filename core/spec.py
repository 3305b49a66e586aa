"""The Spec: one validated, serialisable description of an experiment (data, model, training, seed).

Everything non-primitive is a registry name. `validate()` raises one SpecError naming the field.
`to_dict`/`from_dict` are strict (unknown keys are errors); `to_query`/`from_query` are lenient.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields, replace

from core.registry import (
    ACTIVATIONS,
    AUGMENTS,
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
)

# Caps keep one student from taking down a shared class server.
MAX_HIDDEN_LAYERS = 64
MAX_UNITS = 256
MAX_PARAMS = 2_000_000
MAX_EPOCHS = 100_000
MAX_POINTS = 5_000
MAX_BATCH = 512
MAX_CONV_LAYERS = 24
MAX_IMAGE_SIZE = 64
MAX_LABELS_PER_CLASS = 200  # digits 5-9 have about 180 images per class in all


class SpecError(ValueError):
    """A bad spec value: names the field, the value and what is allowed."""

    def __init__(self, field_name: str, value, allowed: str):
        self.field = field_name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field_name}: {value!r} is not allowed ({allowed})")


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
    n: int = 500  # points (toy) or images (shapes); digits uses min(n, 1797) when n > 0
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
}


# ---------------------------------------------------------------------------- codecs


def to_dict(spec: Spec) -> dict:
    """Spec -> plain JSON-able dict."""
    return json.loads(json.dumps(dataclasses.asdict(spec)))


def _coerce(cls, name: str, value, where: str):
    """Coerce a JSON value to the declared type of cls.name."""
    f = {f.name: f for f in fields(cls)}[name]
    t = str(f.type)
    try:
        if t == "bool":
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if t == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if t == "float":
            return float(value)
        if t == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if t == "tuple[int, ...]":
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            elif isinstance(value, int):
                value = [value]
            return tuple(int(v) for v in value)
        if t == "tuple[str, ...]":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            return tuple(str(v) for v in value)
        if t == "tuple[LayerSpec, ...]":
            if isinstance(value, str):
                value = json.loads(value)
            return tuple(_layer_from(v, f"{where}[{i}]") for i, v in enumerate(value))
    except SpecError:
        raise
    except (TypeError, ValueError, json.JSONDecodeError):
        raise SpecError(where, value, f"expected {t}") from None
    raise SpecError(where, value, f"unsupported type {t}")


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
            raise SpecError(key, value, "unknown key; known: " + ", ".join([*SECTIONS, "seed"]))
    return Spec(**kw)


def to_json(spec: Spec) -> str:
    """Spec -> JSON text."""
    return json.dumps(to_dict(spec), indent=2)


def from_json(text: str) -> Spec:
    """JSON text -> Spec (strict)."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError("spec", text[:40], f"invalid JSON: {e.msg} at line {e.lineno}") from None
    return from_dict(d)


def apply_overrides(spec: Spec, dotted: dict) -> Spec:
    """Replace dotted keys ("train.lr", "seed") with values (strings or JSON values). Strict."""
    sections = {name: getattr(spec, name) for name in SECTIONS}
    seed = spec.seed
    for key, value in dotted.items():
        if key == "seed":
            seed = _coerce(Spec, "seed", value, "seed")
            continue
        section, _, name = key.partition(".")
        if section not in SECTIONS or not name:
            raise SpecError(
                key,
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
    """Lenient URL query -> (Spec, problems): bad or unknown keys are skipped and reported."""
    spec, problems = Spec(), []
    for key, value in query.items():
        if key != "seed" and key.partition(".")[0] not in SECTIONS:
            continue  # not a spec key (e.g. ?run=, ?preset=)
        if isinstance(value, list):
            value = value[-1]
        try:
            candidate = apply_overrides(spec, {key: value})
            validate_field(candidate, key)
            spec = candidate
        except SpecError as e:
            problems.append(str(e))
    return spec, problems


# ---------------------------------------------------------------------------- validation


def _check(cond: bool, name: str, value, allowed: str):
    if not cond:
        raise SpecError(name, value, allowed)


def _in(registry, name: str, value):
    _check(value in registry, name, value, "one of " + ", ".join(registry))


def _range(name, value, lo, hi):
    _check(lo <= value <= hi, name, value, f"between {lo} and {hi}")


def validate_field(spec: Spec, key: str) -> None:
    """Validate a spec, but report only problems in the field `key` (used by the lenient URL codec)."""
    try:
        validate(spec, check_params=False)
    except SpecError as e:
        if e.field == key or e.field.startswith(key + "[") or e.field.startswith(key + "."):
            raise


def validate(spec: Spec, check_params: bool = True) -> Spec:
    """Raise SpecError for the first bad field; return the spec unchanged when it is valid."""
    d, m, t, g = spec.data, spec.model, spec.train, spec.gan
    _range("seed", spec.seed, 0, 2**31 - 1)
    _in(DATASETS, "data.name", d.name)
    kind = DATASETS[d.name].kind
    _range("data.n", d.n, 0 if kind == "image" else 10, MAX_POINTS)
    _range("data.noise", d.noise, 0, 50)
    _range("data.train_frac", d.train_frac, 0.1, 0.9)
    _range("data.val_frac", d.val_frac, 0.0, 0.9)
    _range("data.batch_size", d.batch_size, 1, MAX_BATCH)
    _check(len(d.features) > 0, "data.features", d.features, "at least one feature")
    for f in d.features:
        _in(FEATURES, "data.features", f)
    _check(
        len(set(d.features)) == len(d.features),
        "data.features",
        d.features,
        "each feature once",
    )
    _range("data.classes", d.classes, 2, 10)
    _range("data.image_size", d.image_size, 8, MAX_IMAGE_SIZE)
    _check(
        d.normalize in ("standard", "none"),
        "data.normalize",
        d.normalize,
        "standard or none",
    )
    for a in d.augment:
        _in(AUGMENTS, "data.augment", a)
    _range("data.aug_strength", d.aug_strength, 0.0, 1.0)
    _range("data.gan_samples", d.gan_samples, 16, MAX_POINTS)

    _check(m.family in ("mlp", "cnn", "transfer"), "model.family", m.family, "mlp, cnn or transfer")
    _range("model.hidden (number of layers)", len(m.hidden), 0, MAX_HIDDEN_LAYERS)
    for i, h in enumerate(m.hidden):
        _range(f"model.hidden[{i}]", h, 1, MAX_UNITS)
    _check(
        len(m.activation) in (1, len(m.hidden)) or not m.hidden,
        "model.activation",
        m.activation,
        f"one name, or one per hidden layer ({len(m.hidden)})",
    )
    for a in m.activation:
        _in(ACTIVATIONS, "model.activation", a)
    _in(INITS, "model.init", m.init)
    _range("model.init_scale", m.init_scale, 0.0, 100.0)
    _range("model.init_bias", m.init_bias, -10.0, 10.0)
    _range("model.dropout", m.dropout, 0.0, 0.9)
    _range("model.layers (count)", len(m.layers), 0, MAX_CONV_LAYERS * 4)
    for i, layer in enumerate(m.layers):
        where = f"model.layers[{i}]"
        _in(LAYER_TYPES, f"{where}.type", layer.type)
        _range(f"{where}.size", layer.size, 1, MAX_UNITS)
        _range(f"{where}.kernel", layer.kernel, 1, 15)
        _range(f"{where}.stride", layer.stride, 1, 8)
        _range(f"{where}.padding", layer.padding, 0, 8)
        _range(f"{where}.p", layer.p, 0.0, 0.9)
        if layer.type == "act":
            _in(ACTIVATIONS, f"{where}.name", layer.name)
        if layer.type == "pool":
            _check(layer.name in ("max", "avg"), f"{where}.name", layer.name, "max or avg")

    _in(LOSSES, "train.loss", t.loss)
    _in(OPTIMIZERS, "train.optimizer", t.optimizer)
    _check(0 < t.lr <= 10, "train.lr", t.lr, "greater than 0 and at most 10")
    _range("train.momentum", t.momentum, 0.0, 0.999)
    _range("train.weight_decay", t.weight_decay, 0.0, 1.0)
    _range("train.l1", t.l1, 0.0, 10.0)
    _range("train.l2", t.l2, 0.0, 10.0)
    _range("train.clip", t.clip, 0.0, 1000.0)
    _in(SCHEDULES, "train.schedule", t.schedule)
    _range("train.step_size", t.step_size, 1, MAX_EPOCHS)
    _check(0 < t.gamma <= 1, "train.gamma", t.gamma, "greater than 0 and at most 1")
    _range("train.warmup", t.warmup, 0, MAX_EPOCHS)
    _range("train.epochs", t.epochs, 1, MAX_EPOCHS)
    _range("train.early_stop", t.early_stop, 0, MAX_EPOCHS)
    _in(DEVICES, "train.device", t.device)

    _range("gan.noise_dim", g.noise_dim, 1, 128)
    _in(NOISE_TYPES, "gan.noise_type", g.noise_type)
    for name, hidden in (
        ("gan.gen_hidden", g.gen_hidden),
        ("gan.disc_hidden", g.disc_hidden),
    ):
        _range(f"{name} (number of layers)", len(hidden), 1, 8)
        for i, h in enumerate(hidden):
            _range(f"{name}[{i}]", h, 1, MAX_UNITS)
    _in(ACTIVATIONS, "gan.gen_activation", g.gen_activation)
    _in(ACTIVATIONS, "gan.disc_activation", g.disc_activation)
    _range("gan.disc_dropout", g.disc_dropout, 0.0, 0.9)
    _check(g.arch in ("mlp", "dcgan"), "gan.arch", g.arch, "mlp or dcgan")
    _in(GAN_LOSSES, "gan.loss", g.loss)
    _range("gan.d_steps", g.d_steps, 1, 10)
    _check(0 < g.g_lr <= 1, "gan.g_lr", g.g_lr, "greater than 0 and at most 1")
    _check(0 < g.d_lr <= 1, "gan.d_lr", g.d_lr, "greater than 0 and at most 1")
    _in(OPTIMIZERS, "gan.g_optimizer", g.g_optimizer)
    _in(OPTIMIZERS, "gan.d_optimizer", g.d_optimizer)
    _range("gan.gp_weight", g.gp_weight, 0.0, 100.0)

    _validate_transfer(spec)
    _check_loss(spec)
    if check_params:
        from core.models import count_params  # late: building a model needs torch

        n = count_params(spec)
        _check(
            n <= MAX_PARAMS,
            "model (parameters)",
            n,
            f"at most {MAX_PARAMS:,} parameters",
        )
    return spec


def _validate_transfer(spec: Spec) -> None:
    """The transfer section; a transfer network needs the digits (its target task) and a layer list."""
    t = spec.transfer
    _in(TRANSFER_SOURCES, "transfer.source", t.source)
    _range("transfer.pretrain_epochs", t.pretrain_epochs, 1, 200)
    _in(TRANSFER_MODES, "transfer.mode", t.mode)
    _range("transfer.labels_per_class", t.labels_per_class, 0, MAX_LABELS_PER_CLASS)
    _range("transfer.body_lr_factor", t.body_lr_factor, 0.0, 1.0)
    _range("transfer.sweep (number of points)", len(t.sweep), 1, 12)
    for i, k in enumerate(t.sweep):
        _range(f"transfer.sweep[{i}]", k, 0, MAX_LABELS_PER_CLASS)
    if spec.model.family == "transfer":
        _check(spec.data.name == "digits", "data.name", spec.data.name, "digits: the target task is digits 5-9")
        _check(bool(spec.model.layers), "model.layers", (), "at least one layer in the pretrained body")


def _check_loss(spec: Spec) -> None:
    kind = DATASETS[spec.data.name].kind
    task = task_of(spec)
    loss = spec.train.loss
    if kind == "gan":
        return
    if task == "regression":
        _check(
            loss in ("auto", "mse", "half_mse"),
            "train.loss",
            loss,
            "mse or half_mse for regression",
        )
    elif task == "multiclass":
        _check(
            loss in ("auto", "ce"),
            "train.loss",
            loss,
            "ce (cross-entropy) for more than two classes",
        )


def task_of(spec: Spec) -> str:
    """'binary', 'multiclass', 'regression' or 'gan' for the spec's dataset."""
    info = DATASETS[spec.data.name]
    if info.kind == "gan":
        return "gan"
    if info.task == "classes":
        return "multiclass" if n_classes(spec) > 2 else "binary"
    return info.task


def n_classes(spec: Spec) -> int:
    """Number of classes of the spec's dataset (1 for regression)."""
    info = DATASETS[spec.data.name]
    if info.task == "regression":
        return 1
    if info.task == "binary":
        return 2
    return info.classes or spec.data.classes


def resolved_loss(spec: Spec) -> str:
    """The loss actually used: 'auto' becomes bce, ce or mse by task."""
    if spec.train.loss != "auto":
        return spec.train.loss
    return {"binary": "bce", "multiclass": "ce", "regression": "mse", "gan": "gan"}[task_of(spec)]
