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
from core.registry import ANOMALIES
from core.shapes import ae_shapes
from core.spec import MAX_AE_CHANNELS
from core.views.ae import ae_views
from ui.controls import datasets, number_ui, select_ui, training_ui
from ui.network_panel import lr_finder_ui
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef

P = "ae"
IMAGE = datasets("image")
LAYER_DEFAULTS = {"dense_layers": 1, "dense_units": 64, "conv_layers": 2, "conv_channels": 16}


def load(sides) -> None:
    """Layer counts and first widths are widgets of their own."""
    a = sides[-1].ae
    st.session_state[f"{P}.dense_layers"] = len(a.hidden)
    st.session_state[f"{P}.dense_units"] = a.hidden[0] if a.hidden else 64
    st.session_state[f"{P}.conv_layers"] = len(a.channels)
    st.session_state[f"{P}.conv_channels"] = a.channels[0]


PAGE = PageDef(
    prefix=P,
    name="autoencoders",
    title="Autoencoders",
    caption="An autoencoder learns to copy an image through a narrow code: the encoder squeezes it into a few "
    "numbers, the decoder rebuilds the image from them. What fits through the code is what the network has learned.",
    default="ae-latent-2d",
    load=load,
    views=ae_views,
)


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


def settings(page: Page) -> list:
    with page.section("data", "Data"):
        select_ui(P, "data.name", "Images", IMAGE)
        if st.session_state[f"{P}.data.name"] == "shapes":
            c1, c2 = st.columns(2)
            number_ui(P, "data.classes", "Shape kinds", hi=len(SHAPES), where=c1)
            number_ui(P, "data.image_size", "Image size", where=c2)
            number_ui(P, "data.n", "Images", lo=10)
        number_ui(P, "data.train_frac", "Training share", slider=True)
        number_ui(P, "seed", "Seed", help="the same seed gives the same data and curves")
    with page.section("network", "Autoencoder"):
        select_ui(P, "ae.arch", "Architecture")
        for key, value in LAYER_DEFAULTS.items():  # the hidden architecture's widgets were forgotten
            st.session_state.setdefault(f"{P}.{key}", value)
        c1, c2 = st.columns(2)
        if st.session_state[f"{P}.ae.arch"] == "dense":
            number_ui(P, "ae.hidden", "Hidden layers", key=f"{P}.dense_layers", length=True, where=c1)
            number_ui(P, "ae.hidden", "Units (1st)", key=f"{P}.dense_units", where=c2, help="each next layer has half")
        else:
            number_ui(P, "ae.channels", "Conv layers", key=f"{P}.conv_layers", length=True, where=c1)
            number_ui(P, "ae.channels", "Channels (1st)", key=f"{P}.conv_channels", where=c2, help="each next: twice")
        number_ui(P, "ae.bottleneck", "Bottleneck (code size)")
        select_ui(P, "ae.activation", "Activation")
        select_ui(P, "ae.loss", "Reconstruction loss")
        st.toggle("Variational (VAE)", key=f"{P}.ae.variational", help="the code is a sampled Gaussian")
        if st.session_state[f"{P}.ae.variational"]:
            number_ui(P, "ae.kl_weight", "KL weight (β)")
        number_ui(P, "ae.noise", "Denoising: input noise", slider=True, help="std, in pixel units")
    with page.section("anomaly", "Anomaly detection", expanded=False):
        names = class_names()
        kept = [c for c in st.session_state.get(f"{P}.ae.normal_classes", []) if c < len(names)]
        st.session_state[f"{P}.ae.normal_classes"] = kept
        st.multiselect(
            "Normal classes (train on these only; none = all)",
            list(range(len(names))),
            format_func=names.__getitem__,
            key=f"{P}.ae.normal_classes",
        )
        st.multiselect(
            "Anomalies to score", list(ANOMALIES), format_func=lambda k: ANOMALIES[k].label, key=f"{P}.ae.anomalies"
        )
    with page.section("training", "Training", expanded=False):
        training_ui(P, early_stop=False, batch_size=True)
        params = st.empty()
    spec = page.spec(layers() | {"model.family": "ae", "data.normalize": "none"})
    params.markdown(f"**{sum(s.params for s in ae_shapes(spec)):,}** parameters")
    return [spec]


def anomaly_ui(scores: dict, roc: dict) -> None:
    """Error histograms, the threshold slider with precision and recall at it, and the ROC curve."""
    st.subheader("Anomaly detection")
    st.session_state.setdefault(f"{P}.threshold", 95.0)
    q = st.slider(
        "Threshold: flag an image when its error is above this percentile of the normal images' errors",
        50.0, 100.0, step=0.5, key=f"{P}.threshold",
    )  # fmt: skip
    threshold = float(np.percentile(scores["normal"], q))
    pr = precision_recall(scores["normal"], scores["anomalous"], threshold)
    m = st.columns(4)
    m[0].metric("Threshold (error)", f"{threshold:.4g}")
    precision = "-" if pr["precision"] != pr["precision"] else f"{pr['precision']:.1%}"
    m[1].metric("Precision", precision, help="flagged images that are anomalies")
    m[2].metric("Recall", f"{pr['recall']:.1%}", help="anomalies that are flagged")
    m[3].metric("False alarms", f"{pr['false_alarms']:.1%}", help="normal held-out images flagged")
    left, right = st.columns(2)
    live_chart(error_histogram_figure(scores, threshold), key=f"{P}.chart.hist", where=left)
    live_chart(roc_figure(roc, (pr["false_alarms"], pr["recall"])), key=f"{P}.chart.roc", where=right)


def draw(snap: dict) -> None:
    run = snap["runs"][0]
    hist, views, spec = run["history"], run["views"], page.specs[0]
    last = hist[-1] if hist else {}
    names = class_names()
    m = st.columns(5)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Step", run["step"])
    m[2].metric("Validation recon loss", f"{last['val_recon']:.4g}" if "val_recon" in last else "-")
    m[3].metric("KL (nats)", f"{last['kl']:.3g}" if "kl" in last else "-")
    m[4].metric("Anomaly AUC", f"{last['auc']:.3f}" if "auc" in last else "-", help="ROC AUC, normal vs anomalous")
    left, right = st.columns(2)
    live_chart(ae_loss_figure(hist, spec.ae.loss), key=f"{P}.chart.loss", where=left)
    if spec.ae.variational:
        live_chart(kl_figure(hist, spec.ae.kl_weight), key=f"{P}.chart.kl", where=left)
    live_chart(reconstruction_figure(views["examples"], spec.ae.noise > 0), key=f"{P}.chart.recon", where=right)
    right.caption("The first held-out image of each class, the same ones at every redraw.")
    left, right = st.columns(2)
    live_chart(latent_figure(views["latent"], names), key=f"{P}.chart.latent", where=left)
    with right:
        ex = list(views["example_classes"])
        c1, c2 = st.columns(2)
        a = c1.selectbox("From", range(len(ex)), format_func=lambda i: names[ex[i]], key=f"{P}.from")
        st.session_state.setdefault(f"{P}.to", min(1, len(ex) - 1))  # kept settings come from session state only
        b = c2.selectbox("To", range(len(ex)), format_func=lambda i: names[ex[i]], key=f"{P}.to")
        if a == b:
            st.info("Pick two different images to interpolate between.")
        else:
            live_chart(interpolation_figure(views["interp"], views["examples"][0], a, b), key=f"{P}.chart.interp")
        st.caption(
            "Decoding points on the straight line between two codes: a good code passes through plausible images."
        )
        if "sweep" in views:
            live_chart(sweep_figure(views["sweep"]), key=f"{P}.chart.sweep")
            st.caption("The decoder alone, fed a grid of codes (other units 0): what each region of the plane means.")
    if "roc" in views:
        anomaly_ui(views["scores"], views["roc"])
        live_chart(auc_figure(hist, list(dict.fromkeys(views["scores"]["kind"]))), key=f"{P}.chart.auc")
    lr_finder_ui(page, snap, snap["running"])


page = Page(PAGE)
page.run(settings, draw)
