"""Widgets bound to spec fields (key = "<page>.<section>.<field>") and the run controls.

Every page uses these, so the optimiser, LR, schedule and regularisation controls look and behave
the same everywhere. Choices come from core/registry.py.
"""

from __future__ import annotations

import dataclasses

import streamlit as st
import torch

from core.engine import schedule_preview
from core.presets import list_presets
from core.registry import DEVICES, OPTIMIZERS, SCHEDULES
from core.spec import MAX_EPOCHS, SECTIONS, Spec, SpecError, apply_overrides, from_json, validate

LR_HELP = "Step size of the optimiser. Too small: slow. Too large: the loss jumps around or explodes."


def preset_select(prefix: str, page: str, on_change) -> None:
    """The sidebar's "Lesson preset" box: the page's presets; choosing one calls `on_change`."""
    presets = {p.name: p.title for p in list_presets(page)}
    st.selectbox(
        "Lesson preset",
        [None, *presets],
        format_func=lambda k: "choose a lesson..." if k is None else presets[k],
        key=f"{prefix}._preset_choice",
        on_change=on_change,
    )


def select_ui(prefix: str, dotted: str, label: str, registry: dict, help: str | None = None, **kw):
    """A select box over a registry's names, showing their labels."""
    return st.selectbox(
        label, list(registry), format_func=lambda k: registry[k].label, key=f"{prefix}.{dotted}", help=help, **kw
    )


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
    """Optimiser, learning rate, LR schedule (with a preview), regularisation, epochs, device."""
    k = f"{prefix}.train"
    select_ui(prefix, "train.optimizer", "Optimizer", OPTIMIZERS)
    st.number_input(
        "Learning rate", min_value=1e-6, max_value=10.0, step=0.001, format="%g", key=f"{k}.lr", help=LR_HELP
    )
    if "momentum" in OPTIMIZERS[st.session_state.get(f"{k}.optimizer", "sgd")].uses:
        st.slider("Momentum", 0.0, 0.99, step=0.01, key=f"{k}.momentum")
    if batch_size:
        st.number_input("Batch size", 1, 512, key=f"{prefix}.data.batch_size")
    select_ui(prefix, "train.schedule", "LR schedule", SCHEDULES, help="Schedules are torch.optim.lr_scheduler ones.")
    uses = SCHEDULES[st.session_state[f"{k}.schedule"]].uses if f"{k}.schedule" in st.session_state else ()
    if "step_size" in uses:
        c1, c2 = st.columns(2)
        c1.number_input("Every (epochs)", 1, MAX_EPOCHS, key=f"{k}.step_size")
        c2.number_input("Multiply by", 0.01, 1.0, step=0.05, key=f"{k}.gamma")
    elif "gamma" in uses:
        st.number_input("Multiply per epoch", 0.5, 1.0, step=0.001, format="%g", key=f"{k}.gamma")
    if "warmup" in uses:
        st.number_input("Warm-up (epochs)", 0, MAX_EPOCHS, key=f"{k}.warmup")
    st.number_input("Epochs", 1, MAX_EPOCHS, key=f"{k}.epochs", help="Training stops after this many epochs.")
    if regularisation:
        c1, c2 = st.columns(2)
        c1.number_input("L1", 0.0, 10.0, step=0.001, format="%g", key=f"{k}.l1", help="adds l1 * sum|w| to the loss")
        c2.number_input(
            "L2", 0.0, 10.0, step=0.001, format="%g", key=f"{k}.l2", help="adds l2 * 0.5 * sum w² to the loss"
        )
    if weight_decay:
        st.number_input("Weight decay", 0.0, 1.0, step=0.0001, format="%g", key=f"{k}.weight_decay")
    if clipping:
        st.number_input(
            "Clip gradient norm (0 = off)",
            0.0,
            1000.0,
            step=0.5,
            format="%g",
            key=f"{k}.clip",
            help="rescales all gradients together when their global L2 norm exceeds this",
        )
    if early_stop:
        st.number_input(
            "Early stopping patience (epochs, 0 = off)",
            0,
            MAX_EPOCHS,
            key=f"{k}.early_stop",
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
    spe = min(steps_per_epoch, max(1, 20000 // train.epochs))
    return schedule_preview(train, spe)


def controls_ui(prefix: str, running: bool, can_step: bool = True) -> str | None:
    """Play/Pause, Step, Reset and the redraw speed; returns "play", "pause", "step", "reset" or None."""
    c = st.columns([1, 1, 1, 2])
    action = None
    if running:
        if c[0].button("Pause", icon=":material/pause:", key=f"{prefix}.pause", type="primary", width="stretch"):
            action = "pause"
    elif c[0].button("Play", icon=":material/play_arrow:", key=f"{prefix}.play", type="primary", width="stretch"):
        action = "play"
    if c[1].button(
        "Step",
        icon=":material/skip_next:",
        key=f"{prefix}.step",
        disabled=running or not can_step,
        width="stretch",
        help="train one epoch, then pause",
    ):
        action = "step"
    if c[2].button(
        "Reset",
        icon=":material/restart_alt:",
        key=f"{prefix}.reset",
        width="stretch",
        help="new network with fresh initial weights",
    ):
        action = "reset"
    st.session_state.setdefault(f"{prefix}.speed", 1)
    c[3].select_slider("Epochs per redraw", [1, 2, 5, 10, 20, 50], key=f"{prefix}.speed", help="1 = slow motion")
    return action
