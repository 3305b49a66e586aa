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
from core.presets import load_preset
from core.registry import CELLS, DATASETS
from core.spec import MAX_POINTS, MAX_SEQ_LAYERS, MAX_SEQ_LENGTH, MAX_UNITS, Spec
from core.views.seq import EXAMPLES, seq_views
from ui.controls import controls_ui, preset_select, select_ui, spec_from_widgets, training_ui
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.plotly_live import live_chart
from ui.state import initial_spec, load_into_widgets, sync_url

require_router()

P = "seq"
DEFAULT = "rnn-vs-lstm-adding"
TASKS = {k: v for k, v in DATASETS.items() if v.kind == "seq"}
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


def load(spec: Spec, cells: list[str]) -> None:
    """Put a spec (and the cells that train side by side) into the widgets."""
    load_into_widgets(P, spec)
    st.session_state[f"{P}.cells"] = cells


def preset_cells(name: str) -> list[str]:
    """The cells a preset trains: its comparison side's (A), then its own (B)."""
    p = load_preset(name)
    other = p.compare_spec()
    return ([other.seq.cell] if other is not None else []) + [p.spec.seq.cell]


def on_preset() -> None:
    name = st.session_state[f"{P}._preset_choice"]
    if name:
        st.session_state[f"{P}._preset"] = name
        load(load_preset(name).spec, preset_cells(name))


def task_ui(task: str) -> None:
    """The task's settings: length, size, and what only this task has."""
    st.number_input("Sequence length (steps)", 2, MAX_SEQ_LENGTH, key=f"{P}.seq.length")
    if task == "sines":
        st.slider("Noise (% of the amplitude)", 0.0, 50.0, step=1.0, key=f"{P}.data.noise")
    if task == "copy":
        c1, c2 = st.columns(2)
        c1.number_input("Symbols", 2, 20, key=f"{P}.seq.tokens")
        c2.number_input("To remember", 1, 20, key=f"{P}.seq.recall")
    if task == "text":
        st.slider("Sample temperature", 0.05, 2.0, step=0.05, key=f"{P}.seq.temperature", help="low: safe, repetitive")
    st.number_input("Sequences", 10, MAX_POINTS, step=100, key=f"{P}.data.n", help="split into training and validation")
    st.slider("Share for training", 0.1, 0.9, step=0.05, key=f"{P}.data.train_frac")
    st.number_input("Batch size", 1, 512, key=f"{P}.data.batch_size")
    st.number_input("Seed", 0, 2**31 - 1, key=f"{P}.seed", help="the same seed: the same data, weights and curves")


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
    c1.number_input("Hidden units", 1, MAX_UNITS, key=f"{P}.seq.hidden")
    c2.number_input("Layers", 1, MAX_SEQ_LAYERS, key=f"{P}.seq.layers")
    if st.session_state[f"{P}.seq.layers"] > 1:
        st.slider("Dropout between layers", 0.0, 0.9, step=0.05, key=f"{P}.seq.dropout")


st.title("Sequences")
st.caption(
    "A recurrent network reads a sequence one step at a time. Train a plain RNN, an LSTM and a GRU side by side "
    "and watch how far back the gradient reaches."
)
base = initial_spec(P, load_preset(DEFAULT).spec)
if f"{P}.cells" not in st.session_state:
    q = st.query_params.to_dict()
    if "preset" not in q and not any(k == "seed" or "." in k for k in q):
        st.session_state.setdefault(f"{P}._preset", DEFAULT)  # a plain visit opens on the page's lesson
    kept = st.session_state.get(f"{P}._kept")  # the settings before a visit to another page dropped the widgets
    preset = st.session_state.get(f"{P}._preset")
    cells = [c for c in q.get("cells", "").split(",") if c in CELLS] or (
        preset_cells(preset) if preset else [base.seq.cell]
    )
    load(*(kept or (base, cells)))
with st.expander("Why plain RNNs forget, and how gates help", expanded=False):
    st.markdown(EXPLAIN)

with st.sidebar:
    preset_select(P, "sequences", on_preset)
    with st.expander("Task", expanded=True):
        select_ui(P, "data.name", "Task", TASKS)
        task_ui(st.session_state[f"{P}.data.name"])
    with st.expander("Network", expanded=True):
        network_ui()
    with st.expander("Training", expanded=False):
        training_ui(P, weight_decay=True)

cells = st.session_state[f"{P}.cells"]
spec, error = spec_from_widgets(P, base, {"train.loss": "auto"})
if not cells:
    st.info("Choose at least one cell under Network.")
    st.stop()
specs = [spec.with_(**{"seq.cell": c}) for c in cells] if spec else []
if error:
    st.error(f"Cannot use these settings: {error}")
    st.stop()
st.session_state[f"{P}._kept"] = (spec, list(cells))
preset = st.session_state.get(f"{P}._preset")
if preset:
    st.info(f"**{load_preset(preset).title}.** {load_preset(preset).lesson}", icon=":material/school:")
job = attach_job(P, specs, views=seq_views, title=preset or "sequences")
if job is None:
    st.stop()
action = controls_ui(P, job.running)
job = apply_action(P, job, action, specs, views=seq_views, title=preset or "sequences")
if action:
    st.rerun()
sync_url(spec, run=job.id, cells=",".join(cells))
names = [f"{'ABC'[i]}: {CELLS[c].label}" for i, c in enumerate(cells)]
c1, c2, c3 = st.columns([3, 1, 1])
show = c1.segmented_control("Show", SHOW, key=f"{P}.show", default=SHOW[0])
example = c2.selectbox("Example", range(EXAMPLES), format_func=lambda i: f"validation #{i + 1}", key=f"{P}.example")
if st.session_state.get(f"{P}.layer", 0) >= spec.seq.layers:
    st.session_state[f"{P}.layer"] = 0
layer = c3.selectbox("Layer", range(spec.seq.layers), format_func=lambda i: f"layer {i + 1}", key=f"{P}.layer")


def metrics_row(snap: dict) -> None:
    cols = st.columns(len(snap["runs"]))
    for col, name, run in zip(cols, names, snap["runs"]):
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


def draw_predictions(snap: dict) -> None:
    views = [run["views"] for run in snap["runs"]]
    task = specs[0].data.name
    if task == "adding":
        live_chart(adding_figure({n: v["pred"] for n, v in zip(names, views)}), key=f"{P}.c.pred")
    elif task == "sines":
        p = views[0]["pred"]
        preds = {n: v["pred"]["pred"][example] for n, v in zip(names, views)}
        live_chart(forecast_figure(p["input"][example], p["target"][example], preds), key=f"{P}.c.pred")
    elif task == "copy":
        preds = {n: v["pred"]["pred"][example] for n, v in zip(names, views)}
        live_chart(recall_figure(views[0]["pred"]["target"][example], preds), key=f"{P}.c.pred")
    else:
        st.markdown("**The next characters** of a validation window, and each network's most likely guess per step:")
        st.code(views[0]["pred"]["target_text"][example], language=None, wrap_lines=True)
        for name, v in zip(names, views):
            st.code(f"{name}: " + v["pred"]["pred_text"][example], language=None, wrap_lines=True)
    for name, v in zip(names, views):
        if "sample" in v:
            st.markdown(f"**{name}**, sample at temperature {specs[0].seq.temperature:g}:")
            st.code(v["sample"], language=None, wrap_lines=True)


def draw(snap: dict) -> None:
    status_message(snap)
    metrics_row(snap)
    runs = {n: run["history"] for n, run in zip(names, snap["runs"])}
    left, right = st.columns(2)
    with left:
        live_chart(seq_loss_figure(runs), key=f"{P}.c.loss")
    with right:
        live_chart(gtt_line_figure(runs), key=f"{P}.c.gtt")
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
        for i, (col, name, run) in enumerate(zip(cols, names, snap["runs"])):
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
        draw_predictions(snap)
    else:
        for i, (col, (name, hist)) in enumerate(zip(cols, runs.items())):
            with col:
                live_chart(grad_norm_figure(hist, title=f"{name}: ‖∂L/∂W‖ per weight matrix"), key=f"{P}.c.w{i}")


live_view(P, job, draw)
