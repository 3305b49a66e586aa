"""Playground: a small network on 2-D data, trained live by PyTorch (TensorFlow Playground's job)."""

import random

import streamlit as st

from core.charts.plane import decision_figure
from core.charts.training import accuracy_figure, grad_norm_figure, loss_figure, lr_figure
from core.presets import load_preset
from core.registry import ACTIVATIONS, DATASETS, FEATURES, INITS, losses_for
from core.spec import MAX_POINTS, to_json
from core.views.mlp import mlp_views
from ui.controls import controls_ui, preset_select, schedule_points, select_ui, spec_from_widgets, training_ui
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.runs import job_export_ui
from ui.state import initial_spec, load_into_widgets, sync_url

require_router()

P = "pg"
MAX_LAYERS_UI, MAX_UNITS_UI = 10, 64
TOY = {k: v for k, v in DATASETS.items() if v.kind == "toy"}


def load_network_widgets(spec) -> None:
    """Per-layer widgets (units, activation) from a spec."""
    hidden, acts = spec.model.hidden, spec.model.activation
    st.session_state[f"{P}.n_layers"] = len(hidden)
    st.session_state[f"{P}.same_act"] = len(acts) == 1
    st.session_state[f"{P}.act_all"] = acts[0]
    for i in range(MAX_LAYERS_UI):
        st.session_state[f"{P}.units.{i}"] = hidden[i] if i < len(hidden) else 4
        st.session_state[f"{P}.act.{i}"] = acts[i] if len(acts) > 1 and i < len(acts) else acts[0]


def load(spec) -> None:
    load_into_widgets(P, spec)
    load_network_widgets(spec)


def on_preset() -> None:
    name = st.session_state[f"{P}._preset_choice"]
    if name:
        st.session_state[f"{P}._preset"] = name
        load(load_preset(name).spec)


def on_dataset() -> None:
    # TF Playground uses 500 points for classification and 1,200 for regression.
    st.session_state[f"{P}.data.n"] = TOY[st.session_state[f"{P}.data.name"]].default_n


def on_regenerate() -> None:
    st.session_state[f"{P}.seed"] = random.randrange(1_000_000)


st.title("Playground")
st.caption("Build a network on a 2-D dataset, press Play, and watch PyTorch train it.")
base = initial_spec(P, load_preset("tfp-default").spec)
if f"{P}.n_layers" not in st.session_state:
    load_network_widgets(base)

with st.sidebar:
    preset_select(P, "playground", on_preset)
    with st.expander("Data", expanded=True):
        select_ui(P, "data.name", "Dataset", TOY, on_change=on_dataset)
        info = TOY[st.session_state[f"{P}.data.name"]]
        if info.task == "classes":
            st.slider("Classes", 2, 8, key=f"{P}.data.classes")
        st.slider("Noise (%)", 0.0, 50.0, step=1.0, key=f"{P}.data.noise")
        st.slider("Share of points for training", 0.1, 0.9, step=0.05, key=f"{P}.data.train_frac")
        st.number_input(
            "Points",
            10,
            MAX_POINTS,
            step=50,
            key=f"{P}.data.n",
            help=f"regression sets use {TOY['plane'].default_n} in TF Playground",
        )
        st.slider("Batch size", 1, 64, key=f"{P}.data.batch_size")
        c1, c2 = st.columns([3, 2])
        c1.number_input(
            "Seed", 0, 2**31 - 1, key=f"{P}.seed", help="the same seed gives the same data, weights and curves"
        )
        c2.button("Regenerate", on_click=on_regenerate, help="new random seed: new data and new initial weights")
        st.session_state.setdefault(f"{P}.show_test", st.query_params.get("show_test") == "1")
        show_test = st.toggle("Show test points", key=f"{P}.show_test")
    with st.expander("Features", expanded=True):
        st.pills(
            "Inputs",
            list(FEATURES),
            selection_mode="multi",
            format_func=lambda k: FEATURES[k].label,
            key=f"{P}.data.features",
        )
    with st.expander("Network", expanded=True):
        n_layers = st.number_input("Hidden layers", 0, MAX_LAYERS_UI, key=f"{P}.n_layers")
        same = st.toggle("Same activation in every layer", key=f"{P}.same_act")
        if same:
            select_ui(P, "act_all", "Activation", ACTIVATIONS)
        for i in range(n_layers):
            c1, c2 = st.columns([2, 3]) if not same else (st, None)
            c1.number_input(f"Units in layer {i + 1}", 1, MAX_UNITS_UI, key=f"{P}.units.{i}")
            if c2 is not None:
                with c2:
                    select_ui(P, f"act.{i}", f"Activation {i + 1}", ACTIVATIONS)
        select_ui(P, "model.init", "Weight init", INITS)
        init = st.session_state[f"{P}.model.init"]
        if init in ("normal", "uniform"):
            st.number_input(
                "Init scale (std or bound)", 0.0, 100.0, step=0.05, format="%g", key=f"{P}.model.init_scale"
            )
        if init != "default":
            st.number_input("Bias init", -10.0, 10.0, step=0.05, format="%g", key=f"{P}.model.init_bias")
        st.toggle("Batch norm", key=f"{P}.model.batchnorm")
        st.toggle("Residual links (where widths match)", key=f"{P}.model.residual")
        st.slider("Dropout", 0.0, 0.9, step=0.05, key=f"{P}.model.dropout")
        params_slot = st.empty()  # filled once the network is built
    with st.expander("Training", expanded=True):
        task = (
            "regression"
            if info.task == "regression"
            else (
                "multiclass"
                if info.task == "classes" and st.session_state.get(f"{P}.data.classes", 3) > 2
                else "binary"
            )
        )
        losses = losses_for(task)
        if st.session_state.get(f"{P}.train.loss") not in losses:
            st.session_state[f"{P}.train.loss"] = next(iter(losses))
        select_ui(P, "train.loss", "Loss", losses)
        training_ui(P)

acts = [st.session_state[f"{P}.act_all"]] if same else [st.session_state[f"{P}.act.{i}"] for i in range(n_layers)]
hidden = tuple(st.session_state[f"{P}.units.{i}"] for i in range(n_layers))
spec, error = spec_from_widgets(P, base, {"model.hidden": hidden, "model.activation": tuple(acts or ["tanh"])})
if error:
    st.error(f"Cannot use these settings: {error}")
    st.stop()

preset = st.session_state.get(f"{P}._preset")
if preset:
    with st.expander(f"Lesson: {load_preset(preset).title}", expanded=True):
        st.write(load_preset(preset).lesson)


PLANE_HELP = {
    "binary": "Background: the network's prediction at every point of the plane (orange class 0, blue class 1). "
    "Dots: training points; diamonds: test points.",
    "multiclass": "Background: the predicted class at every point, faded where the network is unsure. "
    "Dots: training points; diamonds: test points.",
    "regression": "Background: the network's output over the plane; dots: training points coloured by their target.",
}


job = attach_job(P, [spec], views=mlp_views, title=preset or "playground")
if job is None:
    st.stop()
n_params = sum(p.numel() for p in job.trainers[0].model.parameters())
params_slot.markdown(f"**{n_params:,}** trainable parameters")
action = controls_ui(P, job.running)
job = apply_action(P, job, action, [spec], views=mlp_views, title=preset or "playground")
if action:
    st.rerun()  # redraw the controls for the new state (Pause instead of Play)
sync_url(spec, run=job.id, show_test="1" if show_test else "")
trainer = job.trainers[0]
data = trainer.data
lr_x, lr_y = schedule_points(to_json(spec), trainer.steps_per_epoch)


def draw(snap: dict) -> None:
    run = snap["runs"][0]
    hist = run["history"]
    last = hist[-1] if hist else {}
    m = st.columns(6)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Train loss", f"{last['train_loss']:.4g}" if "train_loss" in last else "-")
    m[2].metric("Test loss", f"{last['val_loss']:.4g}" if "val_loss" in last else "-")
    if data.task != "regression":
        m[3].metric("Train accuracy", f"{100 * last['train_accuracy']:.1f} %" if "train_accuracy" in last else "-")
        m[4].metric("Test accuracy", f"{100 * last['val_accuracy']:.1f} %" if "val_accuracy" in last else "-")
    m[5].metric("Learning rate", f"{trainer.lr:.3g}", help="the rate of the next step (from the schedule)")
    status_message(snap)
    left, right = st.columns([1.05, 1])
    grid = run["views"]["grid"]
    train = (data.points_train, data.extra["labels_train"])
    test = (data.points_test, data.extra["labels_test"]) if show_test else None
    title = "Regression surface" if data.task == "regression" else "Decision surface"
    left.plotly_chart(decision_figure(grid, train, test, data.task, data.n_classes, title=title))
    left.caption(PLANE_HELP[data.task])
    right.plotly_chart(loss_figure(hist, height=300))
    right.plotly_chart(grad_norm_figure(hist, height=300))
    right.caption(
        "Gradient norm: ‖∂L/∂W‖₂ of each layer's weights, averaged over the epoch's batches (input layer darkest)."
    )
    c1, c2 = st.columns(2)
    if data.task != "regression":
        c1.plotly_chart(accuracy_figure(hist, height=280))
    c2.plotly_chart(lr_figure(lr_x, lr_y, current=run["epoch"]))


live_view(P, job, draw)
job_export_ui(P, job)
