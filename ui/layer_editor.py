"""The CNN page's layer editor: a list of layer rows (settings, move up/down, remove) and "Add layer".

The edited list lives in session state as plain dicts with stable ids (`<prefix>._layers`), so each
row's widget keys (`<prefix>.layer.<id>.<field>`) survive reordering. Ranges come from
`LIMITS["model.layers.<field>"]`, choices from `CHOICES["model.layers.name"]` and the registries.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from core.models.cnn import layer_table
from core.registry import ACTIVATIONS, LAYER_TYPES
from core.spec import LayerSpec
from ui.controls import number_ui
from ui.state import forget, private

FIELDS = [f.name for f in dataclasses.fields(LayerSpec)]
NEW_LAYER = {
    "conv": LayerSpec("conv", 16, 3, 1, 1),
    "pool": LayerSpec("pool", kernel=2, stride=2, name="max"),
    "batchnorm": LayerSpec("batchnorm"),
    "act": LayerSpec("act", name="relu"),
    "dropout": LayerSpec("dropout", p=0.25),
    "flatten": LayerSpec("flatten"),
    "dense": LayerSpec("dense", size=64),
}
POOLS = {"max": "max", "avg": "average"}
# Widgets per layer type: (field, label, kind)
EDIT = {
    "conv": [("size", "Filters", "num"), ("kernel", "Kernel", "num"), ("stride", "Stride", "num")]
    + [("padding", "Padding", "num")],
    "pool": [("name", "Kind", "pool"), ("kernel", "Window", "num"), ("stride", "Stride", "num")]
    + [("padding", "Padding", "num")],
    "act": [("name", "Function", "act")],
    "dropout": [("p", "Drop probability", "num")],
    "dense": [("size", "Units", "num")],
}


def load_layers(prefix: str, layers) -> None:
    """Replace the edited layer list (fresh ids, so no old row's widget value is reused)."""
    forget(prefix, f"{prefix}.layer.")
    start = st.session_state.get(private(prefix, "next_uid"), 0)
    st.session_state[private(prefix, "layers")] = [
        {"uid": start + i} | dataclasses.asdict(x) for i, x in enumerate(layers)
    ]
    st.session_state[private(prefix, "next_uid")] = start + len(layers)


def _add(prefix: str) -> None:
    uid = st.session_state[private(prefix, "next_uid")]
    st.session_state[private(prefix, "next_uid")] = uid + 1
    new = NEW_LAYER[st.session_state[private(prefix, "new_type")]]
    st.session_state[private(prefix, "layers")].append({"uid": uid} | dataclasses.asdict(new))


def _move(prefix: str, pos: int, delta: int) -> None:
    layers = st.session_state[private(prefix, "layers")]
    layers[pos], layers[pos + delta] = layers[pos + delta], layers[pos]


def _remove(prefix: str, pos: int) -> None:
    st.session_state[private(prefix, "layers")].pop(pos)


def layer_row_ui(prefix: str, pos: int, layer: dict, count: int) -> None:
    """One row of the layer editor: its settings, then move up / down and remove."""
    k = f"{prefix}.layer.{layer['uid']}"
    edit = EDIT.get(layer["type"], [])
    widths = [1.6 if kind in ("pool", "act") else 1.0 for _, _, kind in edit]
    spacer = [4.6 - sum(widths)] if sum(widths) < 4.6 else []
    c = st.columns([1.5, *widths, *spacer, 0.4, 0.4, 0.4], vertical_alignment="bottom")
    c[0].markdown(f"**{pos + 1}. {LAYER_TYPES[layer['type']].label}**")
    for col, (f, label, kind) in zip(c[1:], edit):
        key = f"{k}.{f}"
        st.session_state.setdefault(key, layer[f])
        if kind == "num":
            number_ui(prefix, f"model.layers.{f}", label, key=key, where=col, show_unit=False)  # narrow columns
        elif kind == "pool":
            col.selectbox(label, list(POOLS), format_func=POOLS.get, key=key)
        else:
            col.selectbox(label, list(ACTIVATIONS), format_func=lambda a: ACTIVATIONS[a].label, key=key)
        layer[f] = st.session_state[key]
    for col, (icon, name, on_click, args, off) in zip(
        c[-3:],
        (
            (":material/arrow_upward:", "up", _move, (prefix, pos, -1), pos == 0),
            (":material/arrow_downward:", "down", _move, (prefix, pos, 1), pos == count - 1),
            (":material/close:", "remove", _remove, (prefix, pos), False),
        ),
    ):
        col.button(icon, key=f"{k}.{name}", on_click=on_click, args=args, disabled=off, type="tertiary", help=name)


def layer_editor_ui(prefix: str) -> tuple[LayerSpec, ...]:
    """Every layer row, then the new-layer picker; returns the edited stack."""
    layers = st.session_state[private(prefix, "layers")]
    for pos, layer in enumerate(layers):
        layer_row_ui(prefix, pos, layer, len(layers))
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.selectbox(
        "New layer", list(NEW_LAYER), format_func=lambda t: LAYER_TYPES[t].label, key=private(prefix, "new_type")
    )
    c2.button("Add layer", icon=":material/add:", on_click=_add, args=(prefix,), width="stretch")
    return tuple(LayerSpec(**{f: x[f] for f in FIELDS}) for x in layers)


def layer_table_ui(spec) -> None:
    """Each layer's output shape and parameter count (by arithmetic, as validation counts them)."""
    table = layer_table(spec)
    rows = [  # numbered from 1, as the editor's rows are; an added layer (flatten, output) has no number
        {"#": "" if r["index"] == "" else str(r["index"] + 1), "layer": r["layer"], "output": r["output"]}
        | {"parameters": r["params"]}
        for r in table
    ]
    # No set widths: each column is as wide as its longest cell, so no layer's name is cut.
    st.dataframe(rows, hide_index=True, height=36 * (len(rows) + 1))
    st.caption(f"**{sum(r['params'] for r in table):,}** trainable parameters; outputs are channels x height x width.")
