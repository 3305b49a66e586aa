"""CNN: stack conv and pooling layers, train on images, and watch filters and feature maps learn."""

import dataclasses
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
from core.data.upload import MAX_UPLOAD_BYTES, image_to_input, open_upload
from core.models.cnn import layer_table
from core.presets import load_preset
from core.registry import ACTIVATIONS, AUGMENTS, DATASETS, LAYER_TYPES
from core.spec import MAX_IMAGE_SIZE, MAX_UNITS, LayerSpec, Spec, from_json, to_json
from core.views.cnn import cnn_views, frozen_copy, image_view
from ui.controls import controls_ui, preset_select, select_ui, spec_from_widgets, training_ui
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.state import initial_spec, load_into_widgets, sync_url

require_router()

P = "cnn"
IMAGE = {k: v for k, v in DATASETS.items() if v.kind == "image"}
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
# Widgets per layer type: (field, label, kind, low, high)
EDIT = {
    "conv": [("size", "Filters", "int", 1, MAX_UNITS), ("kernel", "Kernel", "int", 1, 15)]
    + [("stride", "Stride", "int", 1, 8), ("padding", "Padding", "int", 0, 8)],
    "pool": [("name", "Kind", "pool", 0, 0), ("kernel", "Window", "int", 1, 15)]
    + [("stride", "Stride", "int", 1, 8), ("padding", "Padding", "int", 0, 8)],
    "act": [("name", "Function", "act", 0, 0)],
    "dropout": [("p", "Drop probability", "float", 0.0, 0.9)],
    "dense": [("size", "Units", "int", 1, MAX_UNITS)],
}


# ---------------------------------------------------------------------------- layer list state
def load_layers(layers) -> None:
    """Replace the edited layer list (a plain list of dicts with stable ids that keep widget keys)."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{P}.layer.")]:
        del st.session_state[key]
    start = st.session_state.get(f"{P}._next_uid", 0)
    st.session_state[f"{P}._layers"] = [{"uid": start + i} | dataclasses.asdict(x) for i, x in enumerate(layers)]
    st.session_state[f"{P}._next_uid"] = start + len(layers)


def load(spec, compare: bool = False) -> None:
    load_into_widgets(P, spec)
    load_layers(spec.model.layers)
    st.session_state[f"{P}.compare"] = compare


def on_preset() -> None:
    name = st.session_state[f"{P}._preset_choice"]
    if name:
        st.session_state[f"{P}._preset"] = name
        preset = load_preset(name)
        load(preset.spec, preset.compare is not None)


def on_dataset() -> None:
    digits = st.session_state[f"{P}.data.name"] == "digits"
    st.session_state[f"{P}.data.image_size"] = 8 if digits else 28
    st.session_state[f"{P}.data.n"] = IMAGE[st.session_state[f"{P}.data.name"]].default_n
    st.session_state[f"{P}.data.classes"] = 10 if digits else 5


def add_layer() -> None:
    uid = st.session_state[f"{P}._next_uid"]
    st.session_state[f"{P}._next_uid"] = uid + 1
    new = NEW_LAYER[st.session_state[f"{P}._new_type"]]
    st.session_state[f"{P}._layers"].append({"uid": uid} | dataclasses.asdict(new))


def move_layer(pos: int, delta: int) -> None:
    layers = st.session_state[f"{P}._layers"]
    layers[pos], layers[pos + delta] = layers[pos + delta], layers[pos]


def remove_layer(pos: int) -> None:
    st.session_state[f"{P}._layers"].pop(pos)


def layer_row_ui(pos: int, layer: dict, count: int) -> None:
    """One row of the layer editor: its settings, then move up / down and remove."""
    k = f"{P}.layer.{layer['uid']}"
    edit = EDIT.get(layer["type"], [])
    widths = [1.6 if kind in ("pool", "act") else 1.0 for _, _, kind, _, _ in edit]
    spacer = [4.6 - sum(widths)] if sum(widths) < 4.6 else []
    c = st.columns([1.5, *widths, *spacer, 0.4, 0.4, 0.4], vertical_alignment="bottom")
    c[0].markdown(f"**{pos + 1}. {LAYER_TYPES[layer['type']].label}**")
    for col, (f, label, kind, lo, hi) in zip(c[1:], edit):
        key = f"{k}.{f}"
        st.session_state.setdefault(key, layer[f])
        if kind == "int":
            col.number_input(label, lo, hi, key=key)
        elif kind == "float":
            col.number_input(label, lo, hi, step=0.05, key=key)
        elif kind == "pool":
            col.selectbox(label, list(POOLS), format_func=POOLS.get, key=key)
        else:
            col.selectbox(label, list(ACTIVATIONS), format_func=lambda a: ACTIVATIONS[a].label, key=key)
        layer[f] = st.session_state[key]
    for col, (icon, name, on_click, args, off) in zip(
        c[-3:],
        (
            (":material/arrow_upward:", "up", move_layer, (pos, -1), pos == 0),
            (":material/arrow_downward:", "down", move_layer, (pos, 1), pos == count - 1),
            (":material/close:", "remove", remove_layer, (pos,), False),
        ),
    ):
        col.button(icon, key=f"{k}.{name}", on_click=on_click, args=args, disabled=off, type="tertiary", help=name)


# ---------------------------------------------------------------------------- settings
st.title("Convolutional networks")
st.caption("Stack convolutions and pooling, train on images, and watch the filters and feature maps learn.")
base = initial_spec(P, load_preset("cnn-digits").spec)
if f"{P}._layers" not in st.session_state:
    preset = st.session_state.get(f"{P}._preset")
    load(base, bool(preset and load_preset(preset).compare is not None) or st.query_params.get("compare") == "1")
elif f"{P}.data.name" not in st.session_state:  # back from another page: widgets were cleared
    load_into_widgets(P, st.session_state.get(f"{P}._spec", base))

with st.sidebar:
    preset_select(P, "cnn", on_preset)
    with st.expander("Data", expanded=True):
        select_ui(P, "data.name", "Dataset", IMAGE, on_change=on_dataset)
        if st.session_state[f"{P}.data.name"] == "shapes":
            st.slider("Shapes (classes)", 2, len(SHAPES), key=f"{P}.data.classes", help=", ".join(SHAPES))
            st.number_input("Images", 100, 5000, step=100, key=f"{P}.data.n")
            st.slider("Noise (%)", 0.0, 50.0, step=1.0, key=f"{P}.data.noise", help="Gaussian, std = noise/100")
            st.number_input("Image size (pixels)", 16, MAX_IMAGE_SIZE, key=f"{P}.data.image_size")
        else:
            st.number_input("Images (0 = all 1,797)", 0, 1797, step=100, key=f"{P}.data.n")
            st.number_input("Image size (pixels; 8 = original)", 8, MAX_IMAGE_SIZE, key=f"{P}.data.image_size")
        st.slider("Share for training", 0.1, 0.9, step=0.05, key=f"{P}.data.train_frac")
        st.slider("Share of the rest for validation", 0.0, 0.9, step=0.05, key=f"{P}.data.val_frac")
        ss = st.session_state
        total = ss[f"{P}.data.n"] or IMAGE[ss[f"{P}.data.name"]].default_n or 1797
        a, b, c = split_sizes(
            min(total, 1797) if ss[f"{P}.data.name"] == "digits" else total,
            ss[f"{P}.data.train_frac"],
            ss[f"{P}.data.val_frac"],
        )
        st.caption(
            f"{a} training, {b} validation, {c} test images" + ("" if b else " (validation curves use the test set)")
        )
        st.selectbox(
            "Normalisation",
            ["standard", "none"],
            key=f"{P}.data.normalize",
            format_func={"standard": "subtract train mean, divide by train std", "none": "none (pixels in [0, 1])"}.get,
        )
        st.number_input("Seed", 0, 2**31 - 1, key=f"{P}.seed", help="the same seed gives the same data and weights")
        st.button("New seed", on_click=lambda: st.session_state.update({f"{P}.seed": random.randrange(10**6)}))
    with st.expander("Augmentation (training batches only)", expanded=False):
        st.pills(
            "Augment", list(AUGMENTS), selection_mode="multi", format_func=lambda a: AUGMENTS[a].label,
            key=f"{P}.data.augment",
        )  # fmt: skip
        st.slider("Strength", 0.0, 1.0, step=0.05, key=f"{P}.data.aug_strength", help="scales rotation, shift, noise")
        preview_slot = st.empty()
    with st.expander("Training", expanded=True):
        training_ui(P, regularisation=False, weight_decay=True, clipping=False, batch_size=True)

layers = st.session_state[f"{P}._layers"]
with st.expander("Network", expanded=True):
    left, right = st.columns([3, 2])
    with left:
        for pos, layer in enumerate(layers):
            layer_row_ui(pos, layer, len(layers))
        c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
        c1.selectbox("New layer", list(NEW_LAYER), format_func=lambda t: LAYER_TYPES[t].label, key=f"{P}._new_type")
        c2.button("Add layer", icon=":material/add:", on_click=add_layer, width="stretch")
    stack = tuple(LayerSpec(**{f: x[f] for f in FIELDS}) for x in layers)
    spec, error = spec_from_widgets(P, base, {"model.layers": stack, "model.family": "cnn"})
    with right:
        if error:
            st.error(f"Cannot build this network: {error}")
        else:
            table = layer_table(spec)
            rows = [
                {"#": str(r["index"]), "layer": r["layer"], "output": r["output"], "parameters": r["params"]}
                for r in table
            ]
            st.dataframe(
                rows,
                hide_index=True,
                height=36 * (len(rows) + 1),
                column_config={
                    "#": st.column_config.TextColumn(width=30),
                    "layer": st.column_config.TextColumn(width="medium"),
                },
            )
            st.caption(
                f"**{sum(r['params'] for r in table):,}** trainable parameters; output shapes are channels x height x width."
            )
if error:
    st.stop()
st.session_state[f"{P}._spec"] = spec


@st.cache_data(max_entries=16, show_spinner=False)
def preview(data_json: str):
    """The augmentation preview depends on the data settings and the seed only."""
    return augment_preview(from_json(data_json), 8)


if spec.data.augment:
    preview_slot.plotly_chart(augmentation_figure(preview(to_json(Spec(data=spec.data, seed=spec.seed)))))

preset = st.session_state.get(f"{P}._preset")
if preset:
    st.info(f"**{load_preset(preset).title}.** {load_preset(preset).lesson}", icon=":material/school:")
compare = bool(spec.data.augment) and st.toggle(
    "Compare with the same network trained without augmentation", key=f"{P}.compare"
)
lesson = load_preset(preset) if preset else None
other = lesson.compare_spec(spec) if lesson and lesson.compare else spec.with_(**{"data.augment": ()})
specs = [other, spec] if compare else [spec]
job = attach_job(P, specs, views=cnn_views, title=preset or "cnn")
if job is None:
    st.stop()
action = controls_ui(P, job.running)
job = apply_action(P, job, action, specs, views=cnn_views, title=preset or "cnn")
if action:
    st.rerun()
sync_url(spec, run=job.id, compare="1" if compare else "")
trainer = job.trainers[-1]
data = trainer.data
names = data.extra["class_names"]
n_te = len(data.x_test)
val_label = "test" if data.extra["val_is_test"] else "validation"
if spec.data.normalize == "standard":
    st.caption(
        f"Pixels normalised with the training set's mean {data.extra['mean']:.3f} and std {data.extra['std']:.3f}."
    )


# ---------------------------------------------------------------------------- try it yourself
@st.cache_data(max_entries=4, show_spinner=False)
def upload_input(raw: bytes, size: int, mean: float, std: float):
    return image_to_input(open_upload(raw), size, mean, std)


def input_ui():
    """The image to look inside: a test image by number, or an upload. Returns (x, true class or None, shown)."""
    st.subheader("Look inside")
    src, pick = st.columns([1, 3])
    source = src.radio("Input", ["Test image", "Upload"], key=f"{P}.source", horizontal=True)
    if source == "Test image":
        st.session_state[f"{P}.index"] = min(st.session_state.get(f"{P}.index", 0), n_te - 1)
        c1, c2 = pick.columns([3, 1], vertical_alignment="bottom")
        c1.number_input(f"Test image (0-{n_te - 1})", 0, n_te - 1, key=f"{P}.index")
        c2.button("Random", on_click=lambda: st.session_state.update({f"{P}.index": random.randrange(n_te)}))
        i = st.session_state[f"{P}.index"]
        x = data.x_test[i : i + 1].cpu().numpy()
        return x, int(data.extra["labels_test"][i]), x[0, 0]
    up = pick.file_uploader(
        f"A PNG or JPEG (at most {MAX_UPLOAD_BYTES // 10**6} MB); it is made grey, cropped to the ink and resized",
        type=["png", "jpg", "jpeg"],
        key=f"{P}.upload",
    )
    if up is None:
        st.info("Upload a picture to see what the network makes of it.")
        return None, None, None
    try:
        x, shown = upload_input(up.getvalue(), spec.data.image_size, data.extra["mean"], data.extra["std"])
    except ValueError as e:
        st.error(f"Cannot use this image: {e}")
        return None, None, None
    return x, None, shown


def curves(hist: list[dict], who: str = "") -> None:
    c1, c2 = st.columns(2)
    c1.plotly_chart(loss_figure(hist, title=f"{who}Loss", val_label=val_label, height=300))
    c2.plotly_chart(accuracy_figure(hist, title=f"{who}Accuracy", val_label=val_label, height=300))


def draw(snap: dict) -> None:
    run = snap["runs"][-1]
    hist, views = run["history"], run["views"]
    m = st.columns(5)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Learning rate", f"{trainer.lr:.3g}")
    for i, (r, who) in enumerate(
        zip(snap["runs"], ("A, no augmentation: ", "B, with augmentation: ") if compare else ("",))
    ):
        last = r["history"][-1] if r["history"] else {}
        acc = [("train", last.get("train_accuracy")), ("test", r["views"]["test_accuracy"])]
        if not data.extra["val_is_test"]:
            acc.insert(1, ("validation", last.get("val_accuracy")))
        for col, (name, value) in zip(m[2:] if not compare else st.columns(3), acc):
            col.metric(
                f"{who}{name} accuracy" if who else f"{name.capitalize()} accuracy",
                "-" if value is None else f"{100 * value:.1f} %",
            )
    status_message(snap)
    if compare:
        a, b = st.columns(2)
        for col, r, who in ((a, snap["runs"][0], "A, no augmentation: "), (b, run, "B, with augmentation: ")):
            with col:
                curves(r["history"], who)
    else:
        curves(hist)
    x, true, shown = input_ui()
    if x is not None:
        view = image_view(frozen_copy(trainer.model), x)
        c1, c2 = st.columns([1, 2])
        c1.plotly_chart(input_figure(shown, "Input" + (f" (true class: {names[true]})" if true is not None else "")))
        c2.plotly_chart(probability_figure(view["probs"], names, true))
        cols = st.columns(2)
        for i, fm in enumerate(view["maps"]):
            cols[i % 2].plotly_chart(feature_map_figure(fm["maps"], f"Feature maps, {fm['title']}"))
        if not view["maps"]:
            st.info("The network has no conv layer, so there are no feature maps to show.")
        st.caption(
            "Each map is scaled on its own: dark = strongest response. Maps come from forward hooks on the network."
        )
    c1, c2 = st.columns(2)
    c1.plotly_chart(filters_figure(views["filters"]))
    c1.caption("First-layer weights, each filter scaled on its own: dark = most positive.")
    c2.plotly_chart(confusion_figure(views["confusion"], names))
    st.plotly_chart(misclassified_figure(views["wrong"], names))
    st.plotly_chart(grad_norm_figure(hist, height=300))


live_view(P, job, draw)
