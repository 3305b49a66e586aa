"""Autoencoder charts: losses, reconstructions, the latent map, interpolations, the VAE's sweep, and the
anomaly detector's error histograms and ROC curve. Arrays in, figures out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import PALETTE, figure, image_figure, image_grid, line_figure
from core.charts.training import series

LOSS_LABELS = {"bce": "binary cross-entropy per pixel", "mse": "squared error per pixel"}
KIND_LABELS = {"other": "other classes", "noise": "noise images", "corrupt": "corrupted images"}
KIND_COLOURS = {"other": PALETTE[2], "noise": PALETTE[6], "corrupt": PALETTE[1]}
NORMAL_COLOUR = PALETTE[0]


def ae_loss_figure(history: list[dict], loss: str) -> go.Figure:
    """Reconstruction loss of the training batches and of the whole validation set, per epoch."""
    return line_figure(
        {
            "training batches": series(history, "recon_loss"),
            "validation set": series(history, "val_recon"),
        },
        "Reconstruction loss",
        "epoch",
        LOSS_LABELS[loss],
    )


def kl_figure(history: list[dict], weight: float) -> go.Figure:
    """The VAE's KL term per epoch (nats per image), before its weight."""
    return line_figure(
        {"KL(q(z|x) ‖ N(0, I))": series(history, "kl")},
        f"KL divergence (weight {weight:g})",
        "epoch",
        "nats per image",
    )


def auc_figure(history: list[dict], kinds) -> go.Figure:
    """ROC AUC of the held-out anomalies per epoch: all together and each kind alone."""
    lines = {"all anomalies": series(history, "auc")}
    lines |= {KIND_LABELS[k]: series(history, f"auc_{k}") for k in kinds}
    fig = line_figure(lines, "Anomaly detection: ROC AUC", "epoch", "AUC (0.5 = chance)")
    return fig.update_yaxes(range=[0, 1.02])


def reconstruction_figure(rows: np.ndarray, noisy: bool) -> go.Figure:
    """(R, K, S, S) rows of images in [0, 1]: inputs, (noisy inputs,) reconstructions, one image."""
    r, k = rows.shape[:2]
    mosaic = image_grid(rows.reshape(r * k, *rows.shape[2:]), cols=k, scale=max(2, 48 // rows.shape[-1]), vrange=(0, 1))
    what = "original, noisy input, reconstruction" if noisy else "input (top), reconstruction (bottom)"
    return image_figure(mosaic, f"Reconstructions: {what}")


def latent_figure(latent: dict, class_names: list[str]) -> go.Figure:
    """Held-out images as points at their code, one colour per class; a PCA projection when the code is wider than 2."""
    if latent["pca"]:
        share = round(100 * latent["explained"])
        title = f"Latent space: PCA projection of the {latent['dim']}-D code ({share} % of its variance)"
        xt, yt = "principal component 1", "principal component 2"
    else:
        title, xt, yt = "Latent space (the 2-D code)", "z1", "z2"
    fig = figure(title, xt, yt, height=480)
    pts, labels = latent["points"], latent["labels"]
    for c, name in enumerate(class_names):
        sel = labels == c
        if sel.any():
            fig.add_trace(
                go.Scattergl(
                    x=pts[sel, 0],
                    y=pts[sel, 1],
                    mode="markers",
                    name=name,
                    marker=dict(size=6, color=PALETTE[c % len(PALETTE)], opacity=0.75),
                )
            )
    # Ten classes in a row would run over the title: list them down the right side.
    fig.update_layout(
        legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top", title=dict(text="class"))
    )
    return fig


def interpolation_figure(interp: dict, ends: np.ndarray, a: int, b: int) -> go.Figure:
    """From example a to example b: decoded along the line between their codes (top) and a pixel cross-fade (bottom)."""
    pairs = interp["pairs"]
    lo, hi = min(a, b), max(a, b)
    row = int(np.flatnonzero((pairs[:, 0] == lo) & (pairs[:, 1] == hi))[0])
    path = interp["images"][row]
    if a > b:
        path = path[::-1]
    t = np.linspace(0, 1, len(path))[:, None, None]
    fade = (1 - t) * ends[a] + t * ends[b]
    imgs = np.concatenate([path, fade])
    mosaic = image_grid(imgs, cols=len(path), scale=max(2, 40 // path.shape[-1]), vrange=(0, 1))
    return image_figure(mosaic, "Interpolation: latent space (top), pixel fade (bottom)")


def sweep_figure(sweep: dict) -> go.Figure:
    """The VAE's decoder over a grid of (z1, z2) values: z1 grows to the right, z2 upwards."""
    imgs, v = sweep["images"], sweep["values"]
    n = len(v)
    mosaic = image_grid(imgs, cols=n, scale=max(2, 32 // imgs.shape[-1]), vrange=(0, 1))
    return image_figure(mosaic, f"Decoded latent plane: z1 →, z2 ↑, each {v[0]:.2f} to {v[-1]:.2f}")


def error_histogram_figure(scores: dict, threshold: float | None = None) -> go.Figure:
    """Reconstruction errors of held-out normal images and of each kind of anomaly, on shared bins."""
    fig = figure(
        "Reconstruction error: normal vs anomalous", "reconstruction error (mean squared, per pixel)", "images"
    )
    groups = {"normal (held out)": (scores["normal"], NORMAL_COLOUR)}
    for k in dict.fromkeys(scores["kind"]):
        groups[KIND_LABELS[k]] = (scores["anomalous"][scores["kind"] == k], KIND_COLOURS[k])
    every = np.concatenate([v for v, _ in groups.values()]) if groups else np.zeros(0)
    if every.size:
        top = float(np.quantile(every, 0.99)) or 1.0  # one far outlier would squeeze every other bar
        bins = dict(start=0.0, end=top, size=top / 40)
        for name, (values, colour) in groups.items():
            fig.add_trace(
                go.Histogram(x=np.minimum(values, top), xbins=bins, name=name, marker_color=colour, opacity=0.6)
            )
    fig.update_layout(barmode="overlay", legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"))
    if threshold is not None:
        fig.add_vline(x=threshold, line=dict(color="#000", dash="dash"), annotation_text="threshold")
    return fig


def roc_figure(roc: dict, point: tuple[float, float] | None = None) -> go.Figure:
    """The ROC curve (recall of anomalies vs false alarms on normal images) with its AUC and the threshold's point."""
    fig = figure(
        f"ROC curve (AUC {roc['auc']:.3f})",
        "false-alarm rate (normal images flagged)",
        "recall (anomalies caught)",
        height=400,
    )
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(color="#999", dash="dot")))
    fig.add_trace(
        go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="autoencoder", line=dict(color=NORMAL_COLOUR))
    )
    if point is not None:
        fig.add_trace(
            go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="threshold", marker=dict(size=12, color="#000"))
        )
    return fig.update_xaxes(range=[0, 1]).update_yaxes(range=[0, 1.02])
