"""Widgets bound to spec fields (key = "<page>.<section>.<field>") and the run controls.

Every range, step and unit comes from the spec's limits table (`core.spec.LIMITS`) and every list of
choices from its registry (`core.spec.CHOICES`), so a widget never offers a value the spec refuses nor
refuses one it accepts. A page may narrow a range (`lo=`/`hi=`); a value from a link or a kept setting
outside it is moved into range and the page says so (`changes()`), never silently and never with an
exception.
"""

from __future__ import annotations

import dataclasses

import streamlit as st
import torch

from core.engine import schedule_preview
from core.presets import list_presets
from core.registry import DATASETS, DEVICES, OPTIMIZERS, SCHEDULES
from core.spec import CHOICES, LENGTHS, LIMITS, SECTIONS, Spec, SpecError, apply_overrides, from_json, validate
from ui.state import private

# A float in a number box: four significant digits ("0.05291", "1e-05"); Streamlit's plain "%g" shows every digit.
FLOAT_FORMAT = "%.4g"
LR_HELP = "Step size of the optimiser. Too small: slow. Too large: the loss jumps around or explodes."


def datasets(kind: str) -> dict:
    """The registry's datasets of one kind ("toy", "image", "seq", "table"), as a select box offers them."""
    return {k: v for k, v in DATASETS.items() if v.kind == kind}


def preset_select(page: str, key: str, on_change) -> None:
    """The "Lesson preset" box (widget key `key`): the page's presets; choosing one calls `on_change`.

    Its options read the same on every run: the browser sends a select box's value as the text of its option, and
    a value sent while an option read differently matched none (a traceback once, when a changed lesson's option
    read "<title>, changed")."""
    presets = {p.name: p.title for p in list_presets(page)}
    st.selectbox(
        "Lesson preset",
        [None, *presets],
        format_func=lambda k: "choose a lesson..." if k is None else presets[k],
        placeholder="choose a lesson...",  # what the box reads while its value is None
        key=key,
        on_change=on_change,
    )


def note_change(prefix: str, message: str) -> None:
    """Record that a setting was changed to fit a widget; the page shows it (see `changes`)."""
    notes = st.session_state.setdefault(private(prefix, "changed"), [])
    if message not in notes:
        notes.append(message)


def changes(prefix: str) -> list[str]:
    """The settings changed to fit the page's widgets since the last call (then forgotten)."""
    return st.session_state.pop(private(prefix, "changed"), [])


def _is_int(limit) -> bool:
    return all(isinstance(x, int) for x in (limit.lo, limit.hi, limit.step))


def number_ui(
    prefix: str,
    dotted: str,
    label: str,
    *,
    key: str | None = None,
    lo=None,
    hi=None,
    slider: bool = False,
    help: str | None = None,
    where=st,
    length: bool = False,
    step=None,
    show_unit: bool = True,
    **kw,
):
    """A number input (or slider) for a spec field, with the range, step and unit of `LIMITS[dotted]`
    (`length=True`: of `LENGTHS[dotted]`, the number of elements of a tuple field such as model.hidden).

    `lo`/`hi` narrow the range for this page; a value outside it (from a link, a preset or a kept
    setting) is moved to the nearest end and reported through `note_change`.
    """
    limit = (LENGTHS if length else LIMITS)[dotted]
    cast = int if _is_int(limit) else float
    lo = cast(limit.lo if lo is None else max(lo, limit.lo))
    hi = cast(limit.hi if hi is None else min(hi, limit.hi))
    key = key or f"{prefix}.{dotted}"
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and not lo <= value <= hi:
        fixed = cast(min(max(value, lo), hi))
        note_change(prefix, f"{label}: {value:g} is outside this page's range ({lo:g} to {hi:g}); it is now {fixed:g}")
        st.session_state[key] = fixed
    elif value is not None and cast is int and not isinstance(value, int):
        st.session_state[key] = int(value)
    unit = f"In {limit.unit}. " if show_unit and limit.unit and limit.unit != "%" else ""
    help = (unit + (help or "")).strip() or None
    step = cast(limit.step if step is None else step)
    if slider:
        return where.slider(label, lo, hi, step=step, key=key, help=help, **kw)
    fmt = {} if cast is int else {"format": FLOAT_FORMAT}
    return where.number_input(label, lo, hi, step=step, key=key, help=help, **fmt, **kw)


def select_ui(
    prefix: str,
    dotted: str,
    label: str,
    registry: dict | None = None,
    help: str | None = None,
    *,
    key: str | None = None,
    where=st,
    **kw,
):
    """A select box over a registry's names (default: the field's `CHOICES`), showing their labels.

    A value not among the offered names (a link to another page's dataset, say) becomes the first one,
    and the page says so.
    """
    registry = CHOICES[dotted] if registry is None else registry
    key = key or f"{prefix}.{dotted}"
    value = st.session_state.get(key)
    if value is not None and value not in registry:
        first = next(iter(registry))
        note_change(prefix, f"{label}: {value!r} is not offered on this page; it is now {registry[first].label}")
        st.session_state[key] = first
    return where.selectbox(label, list(registry), format_func=lambda k: registry[k].label, key=key, help=help, **kw)


def view_ui(prefix: str, name: str, views: list[str], where=st, label: str = "Show") -> str:
    """A view picker (segmented control `<prefix>.<name>`) that always has one view chosen (the first at first)."""
    st.session_state.setdefault(f"{prefix}.{name}", views[0])
    return where.segmented_control(label, views, key=f"{prefix}.{name}")


def index_ui(prefix: str, name: str, label: str, n: int, format_func, where=st, **kw) -> int:
    """A select box over 0..n-1 (`<prefix>.<name>`); a kept choice past the end (n shrank) goes back to 0."""
    key = f"{prefix}.{name}"
    if st.session_state.get(key, 0) >= n:
        st.session_state[key] = 0
    return where.selectbox(label, range(n), format_func=format_func, key=key, **kw)


def spec_from_widgets(prefix: str, base: Spec, overrides: dict | None = None) -> tuple[Spec | None, str]:
    """Read every widget bound to a spec field, apply extra overrides, validate: (spec, '') or (None, error)."""
    values = {}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            key = f"{prefix}.{section}.{f.name}"
            if key in st.session_state:
                values[f"{section}.{f.name}"] = st.session_state[key]
    if f"{prefix}.seed" in st.session_state:
        values["seed"] = st.session_state[f"{prefix}.seed"]
    values |= overrides or {}
    try:
        return validate(apply_overrides(base, values)), ""
    except SpecError as e:
        return None, str(e)


def training_ui(
    prefix: str,
    *,
    regularisation: bool = True,
    weight_decay: bool = False,
    clipping: bool = True,
    early_stop: bool = True,
    batch_size: bool = False,
) -> None:
    """Optimiser, learning rate, LR schedule, regularisation, epochs, device (ranges from LIMITS)."""
    k = f"{prefix}.train"
    select_ui(prefix, "train.optimizer", "Optimizer")
    number_ui(prefix, "train.lr", "Learning rate", help=LR_HELP)
    if "momentum" in OPTIMIZERS[st.session_state.get(f"{k}.optimizer", "sgd")].uses:
        number_ui(prefix, "train.momentum", "Momentum", slider=True)
    if batch_size:
        number_ui(prefix, "data.batch_size", "Batch size")
    select_ui(prefix, "train.schedule", "LR schedule", help="Schedules are torch.optim.lr_scheduler ones.")
    uses = SCHEDULES[st.session_state[f"{k}.schedule"]].uses if f"{k}.schedule" in st.session_state else ()
    if "step_size" in uses:
        c1, c2 = st.columns(2)
        number_ui(prefix, "train.step_size", "Every (epochs)", where=c1)
        number_ui(prefix, "train.gamma", "Multiply by", where=c2)
    elif "gamma" in uses:
        number_ui(prefix, "train.gamma", "Multiply per epoch", lo=0.5)
    if "warmup" in uses:
        number_ui(prefix, "train.warmup", "Warm-up (epochs)")
    number_ui(prefix, "train.epochs", "Epochs", help="Training stops after this many epochs.")
    if regularisation:
        c1, c2 = st.columns(2)
        number_ui(prefix, "train.l1", "L1", help="adds l1 * sum|w| to the loss", where=c1)
        number_ui(prefix, "train.l2", "L2", help="adds l2 * 0.5 * sum w² to the loss", where=c2)
    if weight_decay:
        number_ui(prefix, "train.weight_decay", "Weight decay")
    if clipping:
        number_ui(
            prefix,
            "train.clip",
            "Clip gradient norm (0 = off)",
            help="rescales all gradients together when their global L2 norm exceeds this",
        )
    if early_stop:
        number_ui(
            prefix,
            "train.early_stop",
            "Early stopping patience (epochs, 0 = off)",
            help="stop when the test/validation loss has not improved for this many epochs",
        )
    devices = [d for d in DEVICES if d != "cuda" or _cuda()]
    select_ui(
        prefix, "train.device", "Device", {d: DEVICES[d] for d in devices}, help="auto: the faster for this model"
    )


def _cuda() -> bool:
    return torch.cuda.is_available()


@st.cache_data(max_entries=64, show_spinner=False)
def schedule_points(train_json: str, steps_per_epoch: int) -> tuple[list[float], list[float]]:
    """The LR over the run from the real torch scheduler (cached per setting)."""
    train = from_json(train_json).train
    # Previewing a very long run step by step would be slow; the shape is the same at a coarser step.
    spe = min(steps_per_epoch, max(1, 4000 // train.epochs))
    return schedule_preview(train, spe)


def _press(prefix: str, action: str) -> None:
    st.session_state[private(prefix, "pressed")] = action


def pressed(prefix: str) -> str | None:
    """The control pressed for this run ("play", "pause", "step", "reset"), once: set by the buttons' callbacks,
    which Streamlit runs before the page, so the page applies it before drawing the controls."""
    return st.session_state.pop(private(prefix, "pressed"), None)


def controls_ui(prefix: str, running: bool, can_step: bool = True) -> None:
    """Play/Pause, Step, Reset and the redraw speed, drawn for the job's state after the pressed control (see
    `pressed`). Drawn before it, they showed Step enabled for a moment while the job started its epoch; a click
    then reached a Step the next run drew disabled, and Streamlit drops a click on a disabled widget."""
    c = st.columns([1, 1, 1, 2])
    kw = {"on_click": _press, "width": "stretch"}
    if running:
        c[0].button(
            "Pause", icon=":material/pause:", key=f"{prefix}.pause", type="primary", args=(prefix, "pause"), **kw
        )
    else:
        c[0].button(
            "Play", icon=":material/play_arrow:", key=f"{prefix}.play", type="primary", args=(prefix, "play"), **kw
        )
    c[1].button(
        "Step",
        icon=":material/skip_next:",
        key=f"{prefix}.step",
        disabled=running or not can_step,
        help="train one epoch, then pause",
        args=(prefix, "step"),
        **kw,
    )
    c[2].button(
        "Reset",
        icon=":material/restart_alt:",
        key=f"{prefix}.reset",
        help="new network with fresh initial weights",
        args=(prefix, "reset"),
        **kw,
    )
    st.session_state.setdefault(f"{prefix}.speed", 0)
    c[3].select_slider(
        "Epochs per redraw",
        [1, 2, 5, 10, 20, 50, 0],
        format_func=lambda n: {0: "full speed", 1: "1 (slow motion)"}.get(n, str(n)),
        key=f"{prefix}.speed",
        help="full speed: train as fast as the computer can, redrawing 5-6 times a second (the test loss is "
        "measured about as often); 1: slow motion, every epoch drawn",
    )
