"""Gradient lab: watch gradients vanish or explode in a deep network, then fix them, side by side."""

import importlib.util
import math

import streamlit as st

from core.charts.gradients import (
    activation_band_figure,
    grad_heatmap_figure,
    heatmap_range,
    histogram_figure,
    ratio_series,
    saturation_figure,
    update_ratio_figure,
)
from core.charts.training import accuracy_figure, grad_norm_figure, loss_figure
from core.presets import list_presets, load_preset
from core.registry import ACTIVATIONS, DATASETS, INITS, OPTIMIZERS
from core.spec import MAX_HIDDEN_LAYERS, MAX_UNITS, Spec, from_query, to_query
from core.trainers import PROBE_SETS
from core.views.gradients import gradients_views
from ui.controls import controls_ui, preset_select, select_ui, spec_from_widgets
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.state import load_into_widgets

require_router()

P = "gl"
SIDES = ("a", "b")
DATA = {k: v for k, v in DATASETS.items() if v.kind == "toy" and v.task != "regression"}
if importlib.util.find_spec("core.data.images"):
    DATA["digits"] = DATASETS["digits"]
VIEWS = ["Gradients", "Activations", "Updates", "Loss"]
EXPLAIN = """
**Backpropagation is the chain rule.** The gradient reaching layer 1 is a product of one factor per layer above it:
each layer's weights times the derivative of its activation.

**Vanishing.** The sigmoid's derivative is at most 0.25 (at 0) and close to 0 when the unit saturates near 0 or 1.
Twelve such factors multiply to less than 0.25¹² ≈ 6·10⁻⁸, so the first layers get almost no gradient and stop learning.

**Exploding.** When the weights are too large, each factor is above 1, the product grows geometrically with depth,
and one step throws the weights so far that the loss overflows.

**The fixes.** *ReLU* has derivative 1 where a unit is active. *He / Xavier initialisation* choose the weight variance
(2/fan_in, 2/(fan_in+fan_out)) that keeps the signal's size from layer to layer. *Batch norm* keeps pre-activations
near zero, where sigmoid's slope is largest. *Residual links* (x + f(x)) give the gradient a path through the identity.
*Gradient clipping* caps the size of each step, so an explosion cannot throw the weights away.
"""


def load_side(side: str, spec: Spec) -> None:
    """Put one configuration into its widgets."""
    load_into_widgets(f"{P}.{side}", spec)
    st.session_state[f"{P}.{side}.depth"] = len(spec.model.hidden)
    st.session_state[f"{P}.{side}.width"] = spec.model.hidden[0] if spec.model.hidden else 32
    st.session_state[f"{P}.{side}.act"] = spec.model.activation[0]


def load_lesson(name: str) -> None:
    """A fix preset opens with the broken setting as A and the fix as B; others fill both sides."""
    preset = load_preset(name)
    a = preset.compare_spec() or preset.spec
    load_into_widgets(P, preset.spec)
    load_side("a", a)
    load_side("b", preset.spec)
    st.session_state[f"{P}.compare"] = preset.compare is not None  # a fix lesson opens as broken A vs fixed B
    st.session_state[f"{P}._preset"] = name


def on_preset() -> None:
    if st.session_state[f"{P}._preset_choice"]:
        load_lesson(st.session_state[f"{P}._preset_choice"])


def copy_a_to_b() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{P}.a.")]:
        st.session_state[f"{P}.b." + key[len(f"{P}.a.") :]] = st.session_state[key]


def side_ui(side: str) -> None:
    """The settings of one configuration: depth, width, activation, init, norm, residual, optimiser."""
    k = f"{P}.{side}"
    c1, c2 = st.columns(2)
    c1.number_input("Layers", 1, MAX_HIDDEN_LAYERS, key=f"{k}.depth")
    c2.number_input("Units", 1, MAX_UNITS, key=f"{k}.width")
    select_ui(k, "act", "Activation", ACTIVATIONS)
    select_ui(k, "model.init", "Weight init", INITS)
    if st.session_state[f"{k}.model.init"] in ("normal", "uniform"):
        st.number_input("Init std / bound", 0.0, 100.0, step=0.05, format="%g", key=f"{k}.model.init_scale")
    st.toggle("Batch norm", key=f"{k}.model.batchnorm")
    st.toggle("Residual links", key=f"{k}.model.residual")
    select_ui(k, "train.optimizer", "Optimizer", OPTIMIZERS)
    st.number_input("Learning rate", 1e-6, 10.0, step=0.01, format="%g", key=f"{k}.train.lr")
    st.number_input("Clip gradient norm (0 = off)", 0.0, 1000.0, step=0.5, format="%g", key=f"{k}.train.clip")


def side_spec(side: str, shared: Spec) -> tuple[Spec | None, str]:
    k = f"{P}.{side}"
    depth, width = st.session_state[f"{k}.depth"], st.session_state[f"{k}.width"]
    extra = {"model.hidden": (width,) * depth, "model.activation": (st.session_state[f"{k}.act"],)}
    shared_fields = {f"data.{f}": getattr(shared.data, f) for f in ("name", "noise", "n", "batch_size", "train_frac")}
    shared_fields |= {"train.epochs": shared.train.epochs, "seed": shared.seed, "train.loss": "auto"}
    return spec_from_widgets(k, shared, extra | shared_fields)


st.title("Gradient lab")
st.caption(
    "A deep network, trained live: watch each layer's gradient shrink or blow up, then fix it. "
    "A and B train in lockstep on the same data, batches and seed."
)
if f"{P}._init" not in st.session_state:
    st.session_state[f"{P}._init"] = True
    q = st.query_params.to_dict()
    if q.get("preset") in [p.name for p in list_presets("gradients")]:
        load_lesson(q["preset"])
    elif any("." in k for k in q):
        a, _ = from_query({k: v for k, v in q.items() if not k.startswith("b.")})
        b, _ = from_query({k[2:]: v for k, v in q.items() if k.startswith("b.")})
        load_into_widgets(P, a)
        load_side("a", a)
        load_side("b", b)
        st.session_state[f"{P}.compare"] = any(k.startswith("b.") for k in q)
    else:
        load_lesson("fix-relu-he")
with st.expander("Why gradients vanish or explode, and what each fix changes", expanded=False):
    st.markdown(EXPLAIN)

with st.sidebar:
    preset_select(P, "gradients", on_preset)
    with st.expander("Data (shared by A and B)", expanded=False):
        select_ui(P, "data.name", "Dataset", DATA)
        st.slider("Noise (%)", 0.0, 50.0, step=1.0, key=f"{P}.data.noise")
        st.number_input("Batch size", 1, 512, key=f"{P}.data.batch_size")
        st.number_input("Epochs", 1, 100_000, key=f"{P}.train.epochs")
        st.number_input("Seed", 0, 2**31 - 1, key=f"{P}.seed")
    compare = st.toggle("Compare A and B", key=f"{P}.compare")
    st.caption(f"Up to {MAX_HIDDEN_LAYERS} layers of up to {MAX_UNITS} units (server limits).")
    tabs = st.tabs(["A", "B"]) if compare else [st.container()]
    for side, tab in zip(SIDES, tabs):
        with tab:
            side_ui(side)
    if compare:
        st.button(
            "Copy A to B", on_click=copy_a_to_b, icon=":material/content_copy:", help="then change one setting of B"
        )

shared, error = spec_from_widgets(P, Spec())
specs = []
for side in SIDES[: 2 if compare else 1]:
    spec, err = side_spec(side, shared) if shared else (None, error)
    if err:
        st.error(f"Cannot use the settings of {side.upper()}: {err}")
        st.stop()
    specs.append(spec)

preset = st.session_state.get(f"{P}._preset")
if preset:
    st.info(f"**{load_preset(preset).title}.** {load_preset(preset).lesson}", icon=":material/school:")
job = attach_job(P, specs, views=gradients_views, probes=PROBE_SETS["gradients"], title=preset or "gradients")
if job is None:
    st.stop()
action = controls_ui(P, job.running)
job = apply_action(
    P, job, action, specs, views=gradients_views, probes=PROBE_SETS["gradients"], title=preset or "gradients"
)
if action:
    st.rerun()
url = {"data.name": specs[0].data.name} | to_query(specs[0]) | {"run": job.id}
if compare:
    url |= {f"b.{k}": v for k, v in to_query(specs[1]).items()}
if st.query_params.to_dict() != url:
    st.query_params.from_dict(url)
view = st.segmented_control("Show", VIEWS, key=f"{P}.view", default="Gradients")


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


def draw_side(col, name: str, run: dict, spec: Spec, zrange) -> None:
    hist, views = run["history"], run["views"]
    last = hist[-1] if hist else {}
    with col:
        st.subheader(f"{name}: {describe(spec)}")
        xs, ratios = ratio_series(hist)
        m = st.columns(3)
        m[0].metric("Epoch", f"{run['epoch']}")
        m[1].metric("Train loss", f"{last['train_loss']:.4g}" if "train_loss" in last else "-")
        delta = None
        finite = len(ratios) > 10 and all(math.isfinite(r) and r > 0 for r in (ratios[-1], ratios[-11]))
        if finite:
            delta = f"{math.log10(ratios[-1] / ratios[-11]):+.1f} decades"
        m[2].metric(
            "Layer 1 / output gradient",
            ("-" if not ratios else f"{ratios[-1]:.1e}" if math.isfinite(ratios[-1]) else "overflow"),
            delta,
            delta_color="off",
            help="gradient norm of the first layer divided by the output layer's; far below 1 = vanishing. "
            "The arrow: its change over the last 10 epochs, in powers of ten.",
        )
        if view == "Gradients":
            st.plotly_chart(grad_norm_figure(hist, title=f"{name}: gradient norm per layer", height=320))
            st.plotly_chart(
                grad_heatmap_figure(
                    views.get("steps"), title=f"{name}: log10 gradient norm, layer × step", zrange=zrange
                )
            )
        elif view == "Activations":
            st.plotly_chart(activation_band_figure(last.get("activation"), title=f"{name}: activations per layer"))
            st.plotly_chart(saturation_figure(last.get("activation"), title=f"{name}: saturated and dead units"))
            st.plotly_chart(histogram_figure(views.get("hist"), title=f"{name}: activation histograms"))
        elif view == "Updates":
            st.plotly_chart(update_ratio_figure(hist, title=f"{name}: update size ‖ΔW‖ / ‖W‖"))
            st.caption(
                "How far one step moves each layer's weights, relative to their size. "
                "Around 1e-3 is healthy; far below, the layer is not learning; near 1, it is thrown around."
            )
        else:
            st.plotly_chart(loss_figure(hist, title=f"{name}: loss", height=300))
            st.plotly_chart(accuracy_figure(hist, title=f"{name}: accuracy", height=280))


def draw(snap: dict) -> None:
    status_message(snap)
    cols = st.columns(len(snap["runs"]))
    zrange = heatmap_range(*(run["views"].get("steps") for run in snap["runs"]))  # one colour scale for A and B
    for i, (col, run) in enumerate(zip(cols, snap["runs"])):
        draw_side(col, "AB"[i], run, specs[i], zrange)
    if view == "Gradients":
        st.caption(
            "Gradient norm: ‖∂L/∂W‖₂ of each layer's weights (input layer darkest), from PyTorch's .grad after "
            "backward and before clipping; the heatmap shows every optimiser step."
        )


live_view(P, job, draw)
