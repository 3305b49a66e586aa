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
from core.registry import DATASETS
from core.spec import LENGTHS, LIMITS, Spec
from core.trainers import PROBE_SETS
from core.views.gradients import gradients_views
from ui.controls import datasets, number_ui, select_ui, view_ui
from ui.gradient_lab import SIDES, P, copy_a_to_b, describe, load_sides, side_ui
from ui.live import last_evaluated
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef

DATA = {k: v for k, v in datasets("toy").items() if v.task != "regression"}
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


PAGE = PageDef(
    prefix=P,
    name="gradients",
    title="Gradient lab",
    caption="A deep network, trained live: watch each layer's gradient shrink or blow up, then fix it. "
    "A and B train in lockstep on the same data, batches and seed.",
    default="fix-relu-he",
    load=load_sides,
    views=gradients_views,
    probes=PROBE_SETS["gradients"],
    ui_keys=("view",),
)


def settings(page: Page) -> list[Spec]:
    with st.expander("Why gradients vanish or explode, and what each fix changes", expanded=False):
        st.markdown(EXPLAIN)
    with page.section("data", "Data (shared by A and B)", expanded=False):
        select_ui(P, "data.name", "Dataset", DATA)
        number_ui(P, "data.noise", "Noise (%)", slider=True)
        number_ui(P, "data.batch_size", "Batch size")
        number_ui(P, "train.epochs", "Epochs")
        number_ui(P, "seed", "Seed")
    with page.section("sides", "Networks A and B"):
        compare = st.toggle("Compare A and B", key=f"{P}.compare")
        st.caption(f"Up to {LENGTHS['model.hidden'].hi:g} layers of up to {LIMITS['model.hidden'].hi:g} units.")
        tabs = st.tabs(["A", "B"]) if compare else [st.container()]
        for side, tab in zip(SIDES, tabs):
            with tab:
                side_ui(side)
        if compare:
            st.button(
                "Copy A to B", on_click=copy_a_to_b, icon=":material/content_copy:", help="then change one setting of B"
            )
    shared = page.spec(base=Spec())
    shared_fields = {f"data.{f}": getattr(shared.data, f) for f in ("name", "noise", "n", "batch_size", "train_frac")}
    shared_fields |= {"train.epochs": shared.train.epochs, "seed": shared.seed, "train.loss": "auto"}
    specs = []
    for side in SIDES[: 2 if compare else 1]:
        k = f"{P}.{side}"
        depth, width = st.session_state[f"{k}.depth"], st.session_state[f"{k}.width"]
        extra = {"model.hidden": (width,) * depth, "model.activation": (st.session_state[f"{k}.act"],)}
        specs.append(page.spec(extra | shared_fields, prefix=k, base=shared))
    view_ui(P, "view", VIEWS)
    return specs


def draw_side(col, name: str, run: dict, spec: Spec, zrange) -> None:
    hist, views = run["history"], run["views"]
    last = last_evaluated(hist)
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
        view = st.session_state[f"{P}.view"]
        if view == "Gradients":
            live_chart(
                grad_norm_figure(hist, title=f"{name}: gradient norm per layer", height=320),
                key=f"{P}.chart.{name}.grad_norm",
            )
            live_chart(
                grad_heatmap_figure(
                    views.get("steps"), title=f"{name}: log10 gradient norm, layer × step", zrange=zrange
                ),
                key=f"{P}.chart.{name}.grad_heatmap",
            )
        elif view == "Activations":
            live_chart(
                activation_band_figure(last.get("activation"), title=f"{name}: activations per layer"),
                key=f"{P}.chart.{name}.activation_band",
            )
            live_chart(
                saturation_figure(last.get("activation"), title=f"{name}: saturated and dead units"),
                key=f"{P}.chart.{name}.saturation",
            )
            live_chart(
                histogram_figure(views.get("hist"), title=f"{name}: activation histograms"),
                key=f"{P}.chart.{name}.histogram",
            )
        elif view == "Updates":
            live_chart(
                update_ratio_figure(hist, title=f"{name}: update size ‖ΔW‖ / ‖W‖"),
                key=f"{P}.chart.{name}.update_ratio",
            )
            st.caption(
                "How far one step moves each layer's weights, relative to their size. "
                "Around 1e-3 is healthy; far below, the layer is not learning; near 1, it is thrown around."
            )
        else:
            live_chart(loss_figure(hist, title=f"{name}: loss", height=300), key=f"{P}.chart.{name}.loss")
            live_chart(accuracy_figure(hist, title=f"{name}: accuracy", height=280), key=f"{P}.chart.{name}.accuracy")


def draw(snap: dict) -> None:
    cols = st.columns(len(snap["runs"]))
    zrange = heatmap_range(*(run["views"].get("steps") for run in snap["runs"]))  # one colour scale for A and B
    for i, (col, run) in enumerate(zip(cols, snap["runs"])):
        draw_side(col, "AB"[i], run, page.specs[i], zrange)
    if st.session_state[f"{P}.view"] == "Gradients":
        st.caption(
            "Gradient norm: ‖∂L/∂W‖₂ of each layer's weights (input layer darkest), from PyTorch's .grad after "
            "backward and before clipping; the heatmap shows every optimiser step."
        )


page = Page(PAGE)
page.run(settings, draw)
