"""CNN: stack conv and pooling layers, train on images, and watch filters and feature maps learn."""

import random

import streamlit as st

from core.charts.cnn import (
    augmentation_figure,
    confusion_figure,
    feature_map_figure,
    filters_figure,
    input_figure,
    misclassified_figure,
    probability_figure,
)
from core.charts.training import accuracy_figure, grad_norm_figure, loss_figure
from core.data.images import SHAPES, augment_preview, split_sizes
from core.registry import AUGMENTS
from core.spec import Spec, from_json, to_json
from core.views.cnn import cnn_views, input_view
from ui.controls import datasets, number_ui, select_ui, training_ui
from ui.image_input import image_input_ui
from ui.layer_editor import layer_editor_ui, layer_table_ui, load_layers
from ui.live import last_evaluated
from ui.network_panel import lr_finder_ui
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef

P = "cnn"
IMAGE = datasets("image")


def load(sides: list[Spec]) -> None:
    load_layers(P, sides[-1].model.layers)
    st.session_state[f"{P}.compare"] = len(sides) > 1


PAGE = PageDef(
    prefix=P,
    name="cnn",
    title="Convolutional networks",
    caption="Stack convolutions and pooling, train on images, and watch the filters and feature maps learn.",
    default="cnn-digits",
    load=load,
    views=cnn_views,
)


def on_dataset() -> None:
    digits = st.session_state[f"{P}.data.name"] == "digits"
    st.session_state[f"{P}.data.image_size"] = 8 if digits else 28
    st.session_state[f"{P}.data.n"] = IMAGE[st.session_state[f"{P}.data.name"]].default_n
    st.session_state[f"{P}.data.classes"] = 10 if digits else 5


@st.cache_data(max_entries=16, show_spinner=False)
def preview(data_json: str):
    """The augmentation preview depends on the data settings and the seed only."""
    return augment_preview(from_json(data_json), 8)


def data_ui() -> None:
    ss = st.session_state
    select_ui(P, "data.name", "Dataset", IMAGE, on_change=on_dataset)
    if ss[f"{P}.data.name"] == "shapes":
        number_ui(P, "data.classes", "Shapes (classes)", hi=len(SHAPES), slider=True, help=", ".join(SHAPES))
        number_ui(P, "data.n", "Images", lo=100, step=100)
        number_ui(P, "data.noise", "Noise (%)", slider=True, help="Gaussian, std = noise/100")
        number_ui(P, "data.image_size", "Image size (pixels)", lo=16)
    else:
        number_ui(P, "data.n", "Images (0 = all 1,797)", hi=1797, step=100)
        number_ui(P, "data.image_size", "Image size (pixels; 8 = original)")
    number_ui(P, "data.train_frac", "Share for training", slider=True)
    number_ui(P, "data.val_frac", "Share of the rest for validation", slider=True)
    total = ss[f"{P}.data.n"] or IMAGE[ss[f"{P}.data.name"]].default_n or 1797
    digits = ss[f"{P}.data.name"] == "digits"
    a, b, c = split_sizes(min(total, 1797) if digits else total, ss[f"{P}.data.train_frac"], ss[f"{P}.data.val_frac"])
    st.caption(
        f"{a} training, {b} validation, {c} test images" + ("" if b else " (validation curves use the test set)")
    )
    select_ui(P, "data.normalize", "Normalisation")
    number_ui(P, "seed", "Seed", help="the same seed gives the same data and weights")
    st.button("New seed", on_click=lambda: ss.update({f"{P}.seed": random.randrange(10**6)}))


def settings(page: Page) -> list[Spec]:
    with page.section("data", "Data"):
        data_ui()
    with page.section("augmentation", "Augmentation (training batches only)", expanded=False):
        st.pills(
            "Augment", list(AUGMENTS), selection_mode="multi", format_func=lambda a: AUGMENTS[a].label,
            key=f"{P}.data.augment",
        )  # fmt: skip
        number_ui(P, "data.aug_strength", "Strength", slider=True, help="scales rotation, shift, noise")
        preview_slot = st.empty()
    with page.section("training", "Training"):
        training_ui(P, regularisation=False, weight_decay=True, clipping=False, batch_size=True)
    with page.section("network", "Network", sidebar=False):
        stack = layer_editor_ui(P)  # the editor and the table each take the full width: beside each other,
        spec = page.spec({"model.layers": stack, "model.family": "cnn"})  # both were cut at 1024 px
        layer_table_ui(spec)
    if spec.data.augment:
        live_chart(
            augmentation_figure(preview(to_json(Spec(data=spec.data, seed=spec.seed)))), f"{P}.chart.aug", preview_slot
        )
        compare = st.toggle("Compare with the same network trained without augmentation", key=f"{P}.compare")
    else:
        compare = False
    if not compare:
        return [spec]
    lesson = page.preset
    other = lesson.compare_spec(spec) if lesson and lesson.compare else spec.with_(**{"data.augment": ()})
    return [other, spec]


def draw(snap: dict) -> None:
    data = page.job.data(len(snap["runs"]) - 1)
    names = data.extra["class_names"]
    compare = len(snap["runs"]) > 1
    val_label = "test" if data.extra["val_is_test"] else "validation"
    run = snap["runs"][-1]
    m = st.columns(5)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Learning rate", f"{run['lr']:.3g}")
    whos = ("A, no augmentation: ", "B, with augmentation: ") if compare else ("",)
    for r, who in zip(snap["runs"], whos):
        last = last_evaluated(r["history"])
        acc = [("train", last.get("train_accuracy")), ("test", r["views"]["test_accuracy"])]
        if not data.extra["val_is_test"]:
            acc.insert(1, ("validation", last.get("val_accuracy")))
        for col, (name, value) in zip(m[2:] if not compare else st.columns(3), acc):
            label = f"{who}{name} accuracy" if who else f"{name.capitalize()} accuracy"
            col.metric(label, "-" if value is None else f"{100 * value:.1f} %")
    if page.specs[-1].data.normalize == "standard":
        st.caption(
            f"Pixels normalised with the training set's mean {data.extra['mean']:.3f} and std {data.extra['std']:.3f}."
        )
    for col, r, who in zip(st.columns(len(snap["runs"])), snap["runs"], whos):
        c1, c2 = col.columns(2) if not compare else (col, col)
        live_chart(
            loss_figure(r["history"], title=f"{who}Loss", val_label=val_label, height=300),
            key=f"{P}.chart.{who[:1] or 'x'}.loss",
            where=c1,
        )
        live_chart(
            accuracy_figure(r["history"], title=f"{who}Accuracy", val_label=val_label, height=300),
            key=f"{P}.chart.{who[:1] or 'x'}.accuracy",
            where=c2,
        )
    x, true, shown = image_input_ui(P, data, page.specs[-1].data.image_size)
    if x is not None:
        view = page.job.view(input_view, len(snap["runs"]) - 1, x)
        c1, c2 = st.columns([1, 2])
        live_chart(
            input_figure(shown, "Input" + (f" (true class: {names[true]})" if true is not None else "")),
            key=f"{P}.chart.input",
            where=c1,
        )
        live_chart(probability_figure(view["probs"], names, true), key=f"{P}.chart.probability", where=c2)
        cols = st.columns(2)
        for i, fm in enumerate(view["maps"]):
            live_chart(
                feature_map_figure(fm["maps"], f"Feature maps, {fm['title']}"),
                key=f"{P}.chart.{i}.feature_map",
                where=cols[i % 2],
            )
        if not view["maps"]:
            st.info("The network has no conv layer, so there are no feature maps to show.")
        st.caption(
            "Each map is scaled on its own: dark = strongest response. Maps come from forward hooks on the network."
        )
    c1, c2 = st.columns(2)
    live_chart(filters_figure(run["views"]["filters"]), key=f"{P}.chart.filters", where=c1)
    c1.caption("First-layer weights, each filter scaled on its own: dark = most positive.")
    live_chart(confusion_figure(run["views"]["confusion"], names), key=f"{P}.chart.confusion", where=c2)
    live_chart(misclassified_figure(run["views"]["wrong"], names), key=f"{P}.chart.misclassified")
    live_chart(grad_norm_figure(run["history"], height=300), key=f"{P}.chart.grad_norm")
    lr_finder_ui(page, snap, snap["running"])


page = Page(PAGE)
page.run(settings, draw)
