"""Sequences: RNN, LSTM and GRU side by side; watch the gradient through time vanish, or not."""

import streamlit as st

from core.charts.seq import (
    adding_figure,
    forecast_figure,
    gates_figure,
    gtt_heatmap_figure,
    gtt_line_figure,
    gtt_matrix,
    gtt_range,
    hidden_figure,
    recall_figure,
    seq_loss_figure,
)
from core.charts.training import grad_norm_figure
from core.registry import CELLS
from core.spec import Spec
from core.views.seq import EXAMPLES, seq_views
from ui.controls import datasets, index_ui, number_ui, select_ui, training_ui, view_ui
from ui.network_panel import lr_finder_ui
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef

P = "seq"
TASKS = datasets("seq")
NOTE = "On the adding problem's plateau it takes the largest stable rate: 10 of 10 seeds trained in 30 epochs."
SHOW = ["Gradient through time", "Inside the network", "Predictions", "Weight gradients"]
EXPLAIN = """
**Backpropagation through time.** A recurrent network applies the same cell at every step, so the gradient that
reaches step t from a loss at step T is a product of T − t factors, one per step in between. In a plain RNN each
factor is the recurrent weight matrix times tanh′ (at most 1): usually smaller than 1, so the product shrinks
geometrically and ‖∂L/∂hₜ‖ falls by orders of magnitude towards the first steps. The network cannot learn what it
would have to remember for long: on the adding problem it stays at the baseline, the error of guessing the mean.

**Gates.** The LSTM keeps a cell state cₜ = f·cₜ₋₁ + i·g. Where the forget gate f is near 1, the gradient passes
from cₜ to cₜ₋₁ almost unchanged, over many steps; the input gate i decides what to write, the output gate o what
to show. The GRU does the same with one update gate. Watch the forget gate stay open between the two marks.
"""


def load(sides: list[Spec]) -> None:
    """The cells of a lesson's or a link's sides (A, B, C)."""
    st.session_state[f"{P}.cells"] = list(dict.fromkeys(side.seq.cell for side in sides))


PAGE = PageDef(
    prefix=P,
    name="sequences",
    title="Sequences",
    caption="A recurrent network reads a sequence one step at a time. Train a plain RNN, an LSTM and a GRU side "
    "by side and watch how far back the gradient reaches.",
    default="rnn-vs-lstm-adding",
    load=load,
    views=seq_views,
    ui_keys=("show",),
)


def task_ui(task: str) -> None:
    """The task's settings: length, size, and what only this task has."""
    number_ui(P, "seq.length", "Sequence length")
    if task == "sines":
        number_ui(P, "data.noise", "Noise (% of the amplitude)", slider=True)
    if task == "copy":
        c1, c2 = st.columns(2)
        number_ui(P, "seq.tokens", "Symbols", where=c1)
        number_ui(P, "seq.recall", "To remember", where=c2)
    if task == "text":
        number_ui(P, "seq.temperature", "Sample temperature", hi=2.0, slider=True, help="low: safe, repetitive")
    number_ui(P, "data.n", "Sequences", lo=10, help="split into training and validation")
    number_ui(P, "data.train_frac", "Share for training", slider=True)
    number_ui(P, "data.batch_size", "Batch size")
    number_ui(P, "seed", "Seed", help="the same seed: the same data, weights and curves")


def network_ui() -> None:
    st.multiselect(
        "Cells (side by side, same data and seed)",
        list(CELLS),
        format_func=lambda k: CELLS[k].label,
        max_selections=3,
        key=f"{P}.cells",
        help="each cell trains its own network in lockstep with the others",
    )
    c1, c2 = st.columns(2)
    number_ui(P, "seq.hidden", "Hidden units", where=c1)
    number_ui(P, "seq.layers", "Layers", where=c2)
    if st.session_state[f"{P}.seq.layers"] > 1:
        number_ui(P, "seq.dropout", "Dropout between layers", slider=True)


def settings(page: Page) -> list[Spec]:
    """Task, network and training widgets; one spec per chosen cell, identical otherwise."""
    with st.expander("Why plain RNNs forget, and how gates help", expanded=False):
        st.markdown(EXPLAIN)
    with page.section("task", "Task"):
        select_ui(P, "data.name", "Task", TASKS)
        task_ui(st.session_state[f"{P}.data.name"])
    with page.section("network", "Network"):
        network_ui()
    with page.section("training", "Training", expanded=False):
        training_ui(P, weight_decay=True)
    cells = st.session_state[f"{P}.cells"]
    if not cells:
        st.info("Choose at least one cell under Network.")
        st.stop()
    spec = page.spec({"train.loss": "auto"})
    c1, c2, c3 = st.columns([3, 1, 1])
    view_ui(P, "show", SHOW, where=c1)
    index_ui(
        P, "example", "Example", EXAMPLES, lambda i: f"#{i + 1}", where=c2, help="a sequence of the validation set"
    )
    index_ui(P, "layer", "Layer", spec.seq.layers, lambda i: f"layer {i + 1}", where=c3)
    return [spec.with_(**{"seq.cell": c}) for c in cells]


def names() -> list[str]:
    return [f"{chr(ord('A') + i)}: {CELLS[s.seq.cell].label}" for i, s in enumerate(page.specs)]


def metrics_row(snap: dict) -> None:
    cols = st.columns(len(snap["runs"]))
    for col, name, run in zip(cols, names(), snap["runs"]):
        last = run["history"][-1] if run["history"] else {}
        m = col.columns(3)
        m[0].metric(f"{name[0]}: epoch", run["epoch"])
        m[1].metric(f"{name[0]}: validation loss", f"{last['val_loss']:.4g}" if "val_loss" in last else "-")
        share = last["val_loss"] / last["baseline_loss"] if "val_loss" in last else None
        m[2].metric(
            f"{name[0]}: of baseline",
            f"{100 * share:.1f} %" if share is not None else "-",
            help="validation loss as a share of the baseline's (a predictor that ignores the sequence); 100 % = "
            "nothing learned",
        )


def draw_predictions(snap: dict, example: int) -> None:
    views, spec = [run["views"] for run in snap["runs"]], page.specs[0]
    task = spec.data.name
    if task == "adding":
        live_chart(adding_figure({n: v["pred"] for n, v in zip(names(), views)}), key=f"{P}.c.pred")
    elif task == "sines":
        p = views[0]["pred"]
        preds = {n: v["pred"]["pred"][example] for n, v in zip(names(), views)}
        live_chart(forecast_figure(p["input"][example], p["target"][example], preds), key=f"{P}.c.pred")
    elif task == "copy":
        preds = {n: v["pred"]["pred"][example] for n, v in zip(names(), views)}
        live_chart(recall_figure(views[0]["pred"]["target"][example], preds), key=f"{P}.c.pred")
    else:
        st.markdown("**The next characters** of a validation window, and each network's most likely guess per step:")
        st.code(views[0]["pred"]["target_text"][example], language=None, wrap_lines=True)
        for name, v in zip(names(), views):
            st.code(f"{name}: " + v["pred"]["pred_text"][example], language=None, wrap_lines=True)
    for name, v in zip(names(), views):
        if "sample" in v:
            st.markdown(f"**{name}**, sample at temperature {spec.seq.temperature:g}:")
            st.code(v["sample"], language=None, wrap_lines=True)


def draw(snap: dict) -> None:
    metrics_row(snap)
    show, example, layer = (st.session_state.get(f"{P}.{k}", 0) for k in ("show", "example", "layer"))
    runs = {n: run["history"] for n, run in zip(names(), snap["runs"])}
    left, right = st.columns(2)
    live_chart(seq_loss_figure(runs), key=f"{P}.c.loss", where=left)
    live_chart(gtt_line_figure(runs), key=f"{P}.c.gtt", where=right)
    cols = st.columns(len(snap["runs"]))
    if show == SHOW[0]:
        zrange = gtt_range(*(gtt_matrix(h)[0] for h in runs.values()))  # one colour scale for every run
        for i, (col, (name, hist)) in enumerate(zip(cols, runs.items())):
            with col:
                live_chart(gtt_heatmap_figure(hist, f"{name}: gradient through time", zrange), key=f"{P}.c.heat{i}")
        st.caption(
            "‖∂L/∂hₜ‖: the gradient of the loss on 32 fixed validation sequences with respect to the hidden state "
            "after step t, by autograd, at each epoch's end. Dark on the left: nothing reaches the early steps "
            "(an exact 0, float32 underflow, is drawn as 10⁻⁴⁵)."
        )
    elif show == SHOW[1]:
        for i, (col, name, run) in enumerate(zip(cols, names(), snap["runs"])):
            v, labels = run["views"], run["views"]["inputs"][example]
            with col:
                live_chart(
                    hidden_figure(v["hidden"][example][layer], labels, f"{name}: hidden state"), key=f"{P}.c.h{i}"
                )
                if "gates" in v:
                    gates = {g: a[example][layer] for g, a in v["gates"].items()}
                    title = f"{name}: gates, recomputed from the weights"
                    live_chart(gates_figure(gates, labels, title), key=f"{P}.c.g{i}")
    elif show == SHOW[2]:
        draw_predictions(snap, example)
    else:
        for i, (col, (name, hist)) in enumerate(zip(cols, runs.items())):
            with col:
                live_chart(grad_norm_figure(hist, title=f"{name}: ‖∂L/∂W‖ per weight matrix"), key=f"{P}.c.w{i}")
    lr_finder_ui(page, snap, snap["running"], NOTE)


page = Page(PAGE)
page.run(settings, draw)
