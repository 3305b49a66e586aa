"""Autoencoders: squeeze images through a small code and back; see what the code learns, and let the
reconstruction error flag images unlike the training data."""

import numpy as np
import streamlit as st

from core.anomaly import precision_recall
from core.charts.ae import (
    ae_loss_figure,
    auc_figure,
    error_histogram_figure,
    interpolation_figure,
    kl_figure,
    latent_figure,
    reconstruction_figure,
    roc_figure,
    sweep_figure,
)
from core.data.images import SHAPES
from core.presets import load_preset
from core.registry import ACTIVATIONS, AE_ARCHS, AE_LOSSES, ANOMALIES, DATASETS
from core.spec import MAX_AE_CHANNELS, MAX_AE_LAYERS, MAX_BOTTLENECK, MAX_IMAGE_SIZE, MAX_UNITS
from core.views.ae import ae_views
from ui.controls import controls_ui, preset_select, select_ui, spec_from_widgets, training_ui
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.state import initial_spec, load_into_widgets, sync_url

require_router()

P = "ae"
IMAGE = {k: v for k, v in DATASETS.items() if v.kind == "image"}


def load(spec) -> None:
    """Put a spec into the widgets (layer count and first width are widgets of their own)."""
    load_into_widgets(P, spec)
    a = spec.ae
    st.session_state[f"{P}.dense_layers"] = len(a.hidden)
    st.session_state[f"{P}.dense_units"] = a.hidden[0] if a.hidden else 64
    st.session_state[f"{P}.conv_layers"] = len(a.channels)
    st.session_state[f"{P}.conv_channels"] = a.channels[0]


def on_preset() -> None:
    name = st.session_state[f"{P}._preset_choice"]
    if name:
        st.session_state[f"{P}._preset"] = name
        load(load_preset(name).spec)


def class_names() -> list[str]:
    if st.session_state[f"{P}.data.name"] == "digits":
        return [str(i) for i in range(10)]
    return list(SHAPES[: st.session_state[f"{P}.data.classes"]])


def layers() -> dict:
    """The encoder's widths from the layer widgets: each layer half the one before (the decoder mirrors them)."""
    n, units = st.session_state[f"{P}.dense_layers"], st.session_state[f"{P}.dense_units"]
    c, ch = st.session_state[f"{P}.conv_layers"], st.session_state[f"{P}.conv_channels"]
    return {
        "ae.hidden": tuple(max(1, units // 2**i) for i in range(n)),
        "ae.channels": tuple(min(MAX_AE_CHANNELS, ch * 2**i) for i in range(c)),
    }


st.title("Autoencoders")
st.caption(
    "An autoencoder learns to copy an image through a narrow code: the encoder squeezes it into a few numbers, "
    "the decoder rebuilds the image from them. What fits through the code is what the network has learned."
)
base = initial_spec(P, load_preset("ae-latent-2d").spec)
if f"{P}.dense_layers" not in st.session_state:
    load(base)

with st.sidebar:
    preset_select(P, "autoencoders", on_preset)
    with st.expander("Data", expanded=True):
        select_ui(P, "data.name", "Images", IMAGE)
        if st.session_state[f"{P}.data.name"] == "shapes":
            c1, c2 = st.columns(2)
            c1.number_input("Shape kinds", 2, len(SHAPES), key=f"{P}.data.classes")
            c2.number_input("Image size", 8, MAX_IMAGE_SIZE, key=f"{P}.data.image_size")
            st.number_input("Images", 10, 5000, step=100, key=f"{P}.data.n")
        st.slider("Training share", 0.1, 0.9, step=0.05, key=f"{P}.data.train_frac")
        st.number_input("Seed", 0, 2**31 - 1, key=f"{P}.seed", help="the same seed gives the same data and curves")
    with st.expander("Autoencoder", expanded=True):
        select_ui(P, "ae.arch", "Architecture", AE_ARCHS, help=AE_ARCHS[st.session_state[f"{P}.ae.arch"]].help)
        c1, c2 = st.columns(2)
        if st.session_state[f"{P}.ae.arch"] == "dense":
            c1.number_input("Hidden layers", 0, MAX_AE_LAYERS, key=f"{P}.dense_layers")
            c2.number_input("Units (1st)", 1, MAX_UNITS, key=f"{P}.dense_units", help="each next layer has half")
        else:
            c1.number_input("Conv layers", 1, MAX_AE_LAYERS, key=f"{P}.conv_layers", help="each halves the image side")
            c2.number_input("Channels (1st)", 1, MAX_AE_CHANNELS, key=f"{P}.conv_channels", help="each next has twice")
        st.number_input("Bottleneck (code size)", 2, MAX_BOTTLENECK, key=f"{P}.ae.bottleneck")
        select_ui(P, "ae.activation", "Activation", ACTIVATIONS)
        select_ui(P, "ae.loss", "Reconstruction loss", AE_LOSSES)
        st.toggle("Variational (VAE)", key=f"{P}.ae.variational", help="the code is a sampled Gaussian")
        if st.session_state[f"{P}.ae.variational"]:
            st.number_input("KL weight (β)", 0.0, 10.0, step=0.1, format="%g", key=f"{P}.ae.kl_weight")
        st.slider("Denoising: input noise", 0.0, 1.0, step=0.05, key=f"{P}.ae.noise", help="std, in pixel units")
    with st.expander("Anomaly detection", expanded=False):
        names = class_names()
        st.session_state[f"{P}.ae.normal_classes"] = [
            c for c in st.session_state[f"{P}.ae.normal_classes"] if c < len(names)
        ]
        st.multiselect(
            "Normal classes (train on these only; none = all)",
            list(range(len(names))),
            format_func=names.__getitem__,
            key=f"{P}.ae.normal_classes",
        )
        st.multiselect(
            "Anomalies to score", list(ANOMALIES), format_func=lambda k: ANOMALIES[k].label, key=f"{P}.ae.anomalies"
        )
    with st.expander("Training", expanded=False):
        training_ui(P, early_stop=False, batch_size=True)
    params_slot = st.empty()

spec, error = spec_from_widgets(P, base, layers() | {"model.family": "ae", "data.normalize": "none"})
if error:
    st.error(f"Cannot use these settings: {error}")
    st.stop()

preset = st.session_state.get(f"{P}._preset")
if preset:
    with st.expander(f"Lesson: {load_preset(preset).title}", expanded=True):
        st.write(load_preset(preset).lesson)

job = attach_job(P, [spec], views=ae_views, title=preset or "autoencoder")
if job is None:
    st.stop()
params_slot.markdown(f"**{sum(p.numel() for p in job.trainers[0].model.parameters()):,}** parameters")
action = controls_ui(P, job.running)
job = apply_action(P, job, action, [spec], views=ae_views, title=preset or "autoencoder")
if action:
    st.rerun()
sync_url(spec, run=job.id)


def anomaly_ui(scores: dict, roc: dict) -> None:
    """Error histograms, the threshold slider with precision and recall at it, and the ROC curve."""
    st.subheader("Anomaly detection")
    q = st.slider(
        "Threshold: flag an image when its error is above this percentile of the normal images' errors",
        50.0, 100.0, 95.0, step=0.5, key=f"{P}.threshold",
    )  # fmt: skip
    threshold = float(np.percentile(scores["normal"], q))
    pr = precision_recall(scores["normal"], scores["anomalous"], threshold)
    m = st.columns(4)
    m[0].metric("Threshold (error)", f"{threshold:.4g}")
    m[1].metric(
        "Precision",
        "-" if pr["precision"] != pr["precision"] else f"{pr['precision']:.1%}",
        help="flagged images that are anomalies",
    )
    m[2].metric("Recall", f"{pr['recall']:.1%}", help="anomalies that are flagged")
    m[3].metric("False alarms", f"{pr['false_alarms']:.1%}", help="normal held-out images flagged")
    left, right = st.columns(2)
    left.plotly_chart(error_histogram_figure(scores, threshold))
    right.plotly_chart(roc_figure(roc, (pr["false_alarms"], pr["recall"])))


def draw(snap: dict) -> None:
    run = snap["runs"][0]
    hist, views = run["history"], run["views"]
    last = hist[-1] if hist else {}
    names = class_names()
    m = st.columns(5)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Step", run["step"])
    m[2].metric("Validation recon loss", f"{last['val_recon']:.4g}" if "val_recon" in last else "-")
    m[3].metric("KL (nats)", f"{last['kl']:.3g}" if "kl" in last else "-")
    m[4].metric("Anomaly AUC", f"{last['auc']:.3f}" if "auc" in last else "-", help="ROC AUC, normal vs anomalous")
    status_message(snap)
    left, right = st.columns(2)
    left.plotly_chart(ae_loss_figure(hist, spec.ae.loss))
    if spec.ae.variational:
        left.plotly_chart(kl_figure(hist, spec.ae.kl_weight))
    right.plotly_chart(reconstruction_figure(views["examples"], spec.ae.noise > 0))
    right.caption("The first held-out image of each class, the same ones at every redraw.")
    left, right = st.columns(2)
    left.plotly_chart(latent_figure(views["latent"], names))
    with right:
        ex = list(views["example_classes"])
        c1, c2 = st.columns(2)
        a = c1.selectbox("From", range(len(ex)), format_func=lambda i: names[ex[i]], key=f"{P}.from")
        b = c2.selectbox(
            "To", range(len(ex)), index=min(1, len(ex) - 1), format_func=lambda i: names[ex[i]], key=f"{P}.to"
        )
        if a == b:
            st.info("Pick two different images to interpolate between.")
        else:
            st.plotly_chart(interpolation_figure(views["interp"], views["examples"][0], a, b))
        st.caption(
            "Decoding points on the straight line between two codes: a good code passes through plausible images."
        )
        if "sweep" in views:
            st.plotly_chart(sweep_figure(views["sweep"]))
            st.caption("The decoder alone, fed a grid of codes (other units 0): what each region of the plane means.")
    if "roc" in views:
        anomaly_ui(views["scores"], views["roc"])
        st.plotly_chart(auc_figure(hist, list(dict.fromkeys(views["scores"]["kind"]))))


live_view(P, job, draw)
