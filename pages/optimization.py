"""Optimization: backpropagation by hand, optimizers racing on a surface, the loss landscape around the network."""

import streamlit as st

from core.charts.training import loss_figure
from core.landscape import path_probes
from core.presets import load_preset
from core.registry import ACTIVATIONS, DATASETS, INITS, OPTIMIZERS, losses_for
from core.spec import Spec
from core.views.mlp import mlp_views
from ui.controls import number_ui, select_ui, training_ui
from ui.live import last_evaluated
from ui.network_panel import lr_finder_ui
from ui.optim_views import backprop_ui, landscape_ui, race_settings_ui, race_ui
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef
from ui.state import job_key, manager, preset_key

P = "opt"
VIEWS = {"backprop": "Backpropagation", "race": "Optimizer race", "landscape": "Loss landscape"}
TOY = {k: v for k, v in DATASETS.items() if v.kind == "toy"}
RACE_DEFAULTS = {"surface": "ravine", "steps": 300, "race_at": 0, "bp_lr": 0.1, "grid": 21, "span": 1.0}
RACE_DEFAULTS |= {f"lr_{n}": 0.01 for n in OPTIMIZERS} | {
    f"on_{n}": n in ("sgd", "momentum", "adam") for n in OPTIMIZERS
}
UI_KEYS = ("view", "surface", "steps", *(f"on_{n}" for n in OPTIMIZERS), *(f"lr_{n}" for n in OPTIMIZERS))


def load(sides: list[Spec]) -> None:
    """The hidden layers as text, and a lesson's own view values (race surface, learning rates)."""
    st.session_state[f"{P}.units"] = ", ".join(str(u) for u in sides[-1].model.hidden)
    st.session_state[f"{P}.act_all"] = sides[-1].model.activation[0]
    name = st.session_state.get(preset_key(P))
    for key, value in (load_preset(name).ui if name else {}).items():
        st.session_state[f"{P}.{key}"] = value


PAGE = PageDef(
    prefix=P,
    name="optimization",
    title="Optimization",
    caption="Follow one example through backpropagation, race optimizers on a surface, map the loss landscape.",
    default="opt-backprop",
    load=load,
    views=mlp_views,
    probes=path_probes,
    ui_keys=UI_KEYS,
)


def take_playground() -> None:
    """Load the Playground's current network (its running job's spec) into this page."""
    job = manager().get(st.session_state.get(job_key("pg"), ""))
    if job is None:
        st.session_state[f"{P}._no_pg"] = True
        return
    st.session_state.pop(preset_key(P), None)
    page.load([job.specs[0]])


def hidden_ui() -> tuple[int, ...]:
    """Units per hidden layer, typed as "4, 2"."""
    text = st.text_input("Units per hidden layer", key=f"{P}.units", help="comma-separated, e.g. 4, 2")
    try:
        return tuple(int(u) for u in text.replace(" ", "").split(",") if u)
    except ValueError:
        st.error(f"Units per hidden layer: {text!r} is not a list of whole numbers like 4, 2.")
        st.stop()


def settings(page: Page) -> list[Spec]:
    for key, value in RACE_DEFAULTS.items():
        st.session_state.setdefault(page.key(key), value)
    st.session_state.setdefault(page.key("view"), "backprop")
    with st.sidebar:
        st.radio("View", list(VIEWS), format_func=VIEWS.get, key=page.key("view"), horizontal=True)
    if st.session_state[page.key("view")] == "race":
        with page.section("race", "Race"):
            race_settings_ui(page)
    with page.section("network", "Network and data", expanded=st.session_state[page.key("view")] != "race"):
        st.button("Use the Playground's network", on_click=take_playground, key=page.key("take_pg"))
        if st.session_state.pop(f"{P}._no_pg", False):
            st.caption("Open the Playground first: it has no network in this session yet.")
        select_ui(P, "data.name", "Dataset", TOY)
        number_ui(P, "data.noise", "Noise (%)", slider=True)
        number_ui(P, "seed", "Seed")
        hidden = hidden_ui()
        select_ui(P, "model.activation", "Activation", ACTIVATIONS, key=f"{P}.act_all")
        select_ui(P, "model.init", "Initialisation", INITS)
        st.toggle("Residual links (where widths match)", key=f"{P}.model.residual")
        task = (
            "multiclass"
            if TOY[st.session_state[f"{P}.data.name"]].task == "classes"
            else TOY[st.session_state[f"{P}.data.name"]].task
        )
        losses = losses_for(task)
        if st.session_state.get(f"{P}.train.loss") not in losses:
            st.session_state[f"{P}.train.loss"] = next(iter(losses))
        select_ui(P, "train.loss", "Loss", losses)
    with page.section("training", "Training", expanded=False):
        training_ui(P, regularisation=False, clipping=False, early_stop=False)
    act = st.session_state[f"{P}.act_all"]
    return [page.spec({"model.hidden": hidden, "model.activation": (act,), "model.batchnorm": False})]


def draw(snap: dict) -> None:
    view = st.session_state.get(page.key("view"), "backprop")
    if view == "race":
        race_ui(page)
        return
    run = snap["runs"][0]
    last = last_evaluated(run["history"])
    m = st.columns(3)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Train loss", f"{last['train_loss']:.4g}" if "train_loss" in last else "-")
    m[2].metric("Test loss", f"{last['val_loss']:.4g}" if "val_loss" in last else "-")
    if view == "backprop":
        backprop_ui(page, snap)
    else:
        landscape_ui(page, snap)
    live_chart(loss_figure(run["history"], height=280), key=f"{P}.chart.loss")
    lr_finder_ui(page, snap, snap["running"])


page = Page(PAGE)
page.run(settings, draw)
