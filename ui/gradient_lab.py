"""The Gradient lab's two sides (A and B): their widgets, loading a lesson into both, and naming a side."""

from __future__ import annotations

import streamlit as st

from core.registry import ACTIVATIONS, INITS
from core.spec import Spec
from ui.controls import number_ui, select_ui
from ui.state import load_into_widgets

P = "gl"
SIDES = ("a", "b")


def load_sides(sides: list[Spec]) -> None:
    """A fix lesson opens with the broken setting as A and the fix as B; others fill both sides."""
    for side, spec in zip(SIDES, (sides[0], sides[-1])):
        load_into_widgets(f"{P}.{side}", spec)
        st.session_state[f"{P}.{side}.depth"] = len(spec.model.hidden)
        st.session_state[f"{P}.{side}.width"] = spec.model.hidden[0] if spec.model.hidden else 32
        st.session_state[f"{P}.{side}.act"] = spec.model.activation[0]
    st.session_state[f"{P}.compare"] = len(sides) > 1


def copy_a_to_b() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{P}.a.")]:
        st.session_state[f"{P}.b." + key[len(f"{P}.a.") :]] = st.session_state[key]


def side_ui(side: str) -> None:
    """The settings of one configuration: depth, width, activation, init, norm, residual, optimiser."""
    k = f"{P}.{side}"
    c1, c2 = st.columns(2)
    number_ui(k, "model.hidden", "Layers", key=f"{k}.depth", lo=1, length=True, where=c1)
    number_ui(k, "model.hidden", "Units", key=f"{k}.width", where=c2)
    select_ui(k, "model.activation", "Activation", key=f"{k}.act")
    select_ui(k, "model.init", "Weight init")
    if st.session_state[f"{k}.model.init"] in ("normal", "uniform"):
        number_ui(k, "model.init_scale", "Init std / bound")
    st.toggle("Batch norm", key=f"{k}.model.batchnorm")
    st.toggle("Residual links", key=f"{k}.model.residual")
    select_ui(k, "train.optimizer", "Optimizer")
    number_ui(k, "train.lr", "Learning rate")
    number_ui(k, "train.clip", "Clip gradient norm (0 = off)")


def describe(spec: Spec) -> str:
    m = spec.model
    parts = [f"{len(m.hidden)} × {m.hidden[0]} {ACTIVATIONS[m.activation[0]].label}", INITS[m.init].label]
    parts += [
        x
        for x, on in (
            ("batch norm", m.batchnorm),
            ("residual", m.residual),
            (f"clip {spec.train.clip:g}", spec.train.clip > 0),
        )
        if on
    ]
    return ", ".join(parts)
