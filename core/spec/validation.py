"""Validation: `validate()` checks every field against the limits table, then the rules that tie fields
together, then the server's budgets (by arithmetic); it raises one SpecError naming the field.

Also what a spec implies: its task, its classes, the loss actually used and the output layer's size.
"""

from __future__ import annotations

import math
from dataclasses import fields

from core import budget
from core.data.corpus import load_text
from core.data.tabular import MAX_ROWS, MIN_ROWS
from core.errors import SpecError
from core.registry import DATASETS, LOSSES
from core.spec.limits import CHOICES, LAYER_NAMES, LENGTHS, LIMITS, MAX_CONV_LAYERS, MIN_TOY_POINTS, PATTERNS
from core.spec.sections import SECTIONS, LayerSpec, Spec


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
        _check(spec.data.name == "digits", "data.name", spec.data.name, "digits (images come from transfer.source)")
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
