"""Playground: a small network on 2-D data or your own CSV, trained live by PyTorch (TensorFlow Playground's job)."""

import random

import streamlit as st

from core.budget import costs
from core.charts.training import accuracy_figure, grad_norm_figure, loss_figure, lr_figure
from core.registry import FEATURES, losses_for
from core.spec import LENGTHS, Spec, output_size, to_json
from core.views.mlp import mlp_views
from ui.controls import datasets, number_ui, schedule_points, select_ui, training_ui
from ui.live import last_evaluated
from ui.network_panel import lr_finder_ui, plane_and_network_ui, weight_edit_ui
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef
from ui.state import preset_key
from ui.upload import NO_TABLE, projection_ui, table_ui

P = "pg"
MAX_LAYERS_UI = 10  # the sidebar shows one row per layer; deeper networks belong to the Gradient lab
TOY = datasets("toy")
DATA = TOY | datasets("table")  # 2-D sets, then your own CSV
PLANE_HELP = {
    "binary": "Background: the network's prediction at every point of the plane (orange class 0, blue class 1). "
    "Dots: training points; diamonds with a dark outline: test points.",
    "multiclass": "Background: the predicted class at every point, faded where the network is unsure. "
    "Dots: training points; diamonds with a dark outline: test points.",
    "regression": "Background: the network's output over the plane; dots: training points coloured by their target.",
}


def load(sides: list[Spec]) -> None:
    """Per-layer widgets (units, activation) from a spec."""
    hidden, acts = sides[-1].model.hidden, sides[-1].model.activation
    st.session_state[f"{P}.n_layers"] = len(hidden)
    st.session_state[f"{P}.same_act"] = len(acts) == 1
    st.session_state[f"{P}.act_all"] = acts[0]
    for i in range(max(MAX_LAYERS_UI, len(hidden))):
        st.session_state[f"{P}.units.{i}"] = hidden[i] if i < len(hidden) else 4
        st.session_state[f"{P}.act.{i}"] = acts[i] if len(acts) > 1 and i < len(acts) else acts[0]


PAGE = PageDef(
    prefix=P,
    name="playground",
    title="Playground",
    caption="Build a network on a 2-D dataset (or your own CSV), press Play, and watch PyTorch train it.",
    default="tfp-default",
    load=load,
    views=mlp_views,
    ui_keys=("show_test",),
)


def on_dataset() -> None:
    # TF Playground uses 500 points for classification and 1,200 for regression.
    info = DATA[st.session_state[f"{P}.data.name"]]
    if info.kind == "toy":
        st.session_state[f"{P}.data.n"] = info.default_n
    else:
        st.session_state.pop(preset_key(P), None)  # a lesson's note is about its own dataset, not yours


def task_of(info, table: dict | None) -> str:
    task, classes = info.task, st.session_state.get(f"{P}.data.classes", 3)
    if table is not None:
        task, classes = ("regression" if table["data.task"] == "regression" else "classes"), table.get("data.classes")
    if task == "regression":
        return "regression"
    return "multiclass" if task == "classes" and classes > 2 else "binary"


def network_ui() -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Layer count, then units (and activation) per layer; returns (hidden, activations)."""
    top = max(MAX_LAYERS_UI, st.session_state.get(f"{P}.n_layers", 0))  # a link may hold more layers
    n_layers = number_ui(P, "model.hidden", "Hidden layers", key=f"{P}.n_layers", hi=top, length=True)
    same = st.toggle("Same activation in every layer", key=f"{P}.same_act")
    if same:
        select_ui(P, "model.activation", "Activation", key=f"{P}.act_all")
    for i in range(n_layers):
        st.session_state.setdefault(f"{P}.units.{i}", 4)
        c1, c2 = st.columns([2, 3]) if not same else (st, None)
        number_ui(P, "model.hidden", f"Units in layer {i + 1}", key=f"{P}.units.{i}", where=c1)
        if c2 is not None:
            st.session_state.setdefault(f"{P}.act.{i}", st.session_state[f"{P}.act_all"])
            select_ui(P, "model.activation", f"Activation {i + 1}", key=f"{P}.act.{i}", where=c2)
    acts = [st.session_state[f"{P}.act_all"]] if same else [st.session_state[f"{P}.act.{i}"] for i in range(n_layers)]
    return tuple(st.session_state[f"{P}.units.{i}"] for i in range(n_layers)), tuple(acts or ["tanh"])


def settings(page: Page) -> list[Spec]:
    with page.section("data", "Data"):
        select_ui(P, "data.name", "Dataset", DATA, on_change=on_dataset)
        info = DATA[st.session_state[f"{P}.data.name"]]
        table = None
        if info.kind == "table":
            table = table_ui(P)
        if info.task == "classes":
            number_ui(P, "data.classes", "Classes", hi=8, slider=True)
        if info.kind == "toy":
            number_ui(P, "data.noise", "Noise (%)", slider=True)
        number_ui(P, "data.train_frac", "Share of points for training", slider=True)
        if info.kind == "toy":
            tip = f"regression sets use {TOY['plane'].default_n} in TF Playground"
            number_ui(P, "data.n", "Points", lo=10, help=tip)
        number_ui(P, "data.batch_size", "Batch size")
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        number_ui(P, "seed", "Seed", where=c1, help="the same seed gives the same data, weights and curves")
        c2.button(
            "Regenerate",
            on_click=lambda: st.session_state.update({f"{P}.seed": random.randrange(1_000_000)}),
            help="new random seed: new data and new initial weights",
        )
        st.toggle("Show test points", key=page.key("show_test"))
    with page.section("features", "Features"):
        if info.kind == "table":
            st.caption("The inputs are the table's feature columns, each scaled to mean 0 and standard deviation 1.")
        else:
            st.pills(
                "Inputs",
                list(FEATURES),
                selection_mode="multi",
                format_func=lambda k: FEATURES[k].label,
                key=f"{P}.data.features",
                help=f"between {LENGTHS['data.features'].lo} and {LENGTHS['data.features'].hi} inputs",
            )
    with page.section("network", "Network"):
        hidden, acts = network_ui()
        select_ui(P, "model.init", "Weight init")
        init = st.session_state[f"{P}.model.init"]
        if init in ("normal", "uniform"):
            number_ui(P, "model.init_scale", "Init scale (std or bound)")
        if init != "default":
            number_ui(P, "model.init_bias", "Bias init")
        st.toggle("Batch norm", key=f"{P}.model.batchnorm")
        st.toggle("Residual links (where widths match)", key=f"{P}.model.residual")
        number_ui(P, "model.dropout", "Dropout", slider=True)
        params = st.empty()
    with page.section("training", "Training"):
        losses = losses_for(task_of(info, table))
        if st.session_state.get(f"{P}.train.loss") not in losses:
            st.session_state[f"{P}.train.loss"] = next(iter(losses))
        select_ui(P, "train.loss", "Loss", losses)
        training_ui(P)
    if info.kind == "table" and table is None:
        st.info("Upload a CSV file in the sidebar (Data) to train on your own data.", icon=":material/upload_file:")
        st.stop()
    spec = page.spec({"model.hidden": hidden, "model.activation": acts} | (table or NO_TABLE))
    params.markdown(f"**{costs(spec, output_size(spec)).params:,}** trainable parameters")
    return [spec]


def draw(snap: dict) -> None:
    data, spec = page.job.data(0), page.specs[0]
    run = snap["runs"][0]
    hist = run["history"]
    last = last_evaluated(hist)
    m = st.columns(6)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Train loss", f"{last['train_loss']:.4g}" if "train_loss" in last else "-")
    m[2].metric("Test loss", f"{last['val_loss']:.4g}" if "val_loss" in last else "-")
    if data.task != "regression":
        m[3].metric("Train accuracy", f"{100 * last['train_accuracy']:.1f} %" if "train_accuracy" in last else "-")
        m[4].metric("Test accuracy", f"{100 * last['val_accuracy']:.1f} %" if "val_accuracy" in last else "-")
    m[5].metric("Learning rate", f"{run['lr']:.3g}", help="the rate of the next step (from the schedule)")
    show_test = bool(st.session_state.get(page.key("show_test")))
    test = (data.points_test, data.extra["labels_test"]) if show_test else None
    title = "Regression surface" if data.task == "regression" else "Decision surface"
    if "projection" in run["views"]:
        projection_ui(P, run, data, show_test)
    else:
        plane_and_network_ui(page, run, data, title, test)
        st.caption(PLANE_HELP[data.task])
    c1, c2 = st.columns(2)
    live_chart(loss_figure(hist, height=300), key=f"{P}.chart.loss", where=c1)
    live_chart(grad_norm_figure(hist, height=300), key=f"{P}.chart.grad_norm", where=c2)
    c2.caption(
        "Gradient norm: ‖∂L/∂W‖₂ of each layer's weights, averaged over the epoch's batches (input layer darkest)."
    )
    c1, c2 = st.columns(2)
    if data.task != "regression":
        live_chart(accuracy_figure(hist, height=280), key=f"{P}.chart.accuracy", where=c1)
    lr_x, lr_y = schedule_points(to_json(spec), run["steps_per_epoch"])
    live_chart(lr_figure(lr_x, lr_y, current=run["epoch"]), key=f"{P}.chart.lr", where=c2)
    if "network" in run["views"]:
        weight_edit_ui(page, run["views"]["network"], snap["running"])
    lr_finder_ui(page, snap, snap["running"])


page = Page(PAGE)
page.run(settings, draw)
