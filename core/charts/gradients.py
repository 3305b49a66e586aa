"""Gradient-lab charts: gradient-norm heatmap, activation distributions, saturation, update ratios."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from core.charts.base import PALETTE, decade_ticks, downsample, empty_figure, figure, heatmap_figure, rgba
from core.charts.training import layer_colors

TINY = 1e-30  # log scales cannot show 0; an exactly zero gradient is drawn at 1e-30


def _log10(values) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.maximum(np.asarray(values, dtype=np.float64), TINY))
    return np.where(np.isfinite(out), out, np.nan)


def heatmap_range(*steps_views: dict | None) -> tuple[float, float] | None:
    """One log10 colour range for several heatmaps, so A and B are read on the same scale."""
    values = [_log10(v["norms"]) for v in steps_views if v and len(v["steps"])]  # inf -> nan: not in the range
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def grad_heatmap_figure(
    steps_view: dict | None,
    title: str = "log10 gradient norm, layer × step",
    height: int = 340,
    zrange: tuple[float, float] | None = None,
) -> go.Figure:
    """Layers (input at the top) by optimiser step, coloured by log10 ‖∂L/∂W‖₂ of that step."""
    if not steps_view or len(steps_view["steps"]) == 0:
        return figure(title, "optimiser step", "layer", height)
    steps, norms, names = steps_view["steps"], steps_view["norms"], steps_view["names"]
    keep = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), 400)).astype(int))  # small payload
    kept = norms[keep].T  # (L, S)
    z = _log10(kept)
    overflow = np.isposinf(kept)
    if overflow.any():
        # A norm that overflowed float32 is drawn in the top colour and says so on hover.
        top = zrange[1] if zrange else float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
        z = np.where(overflow, top, z)
    text = np.where(overflow, "overflow (inf)", "")
    fig = heatmap_figure(
        z,
        steps[keep],
        names,
        title,
        "optimiser step",
        "layer",
        "log10 ‖∂L/∂W‖",
        height=height,
        colorscale="Viridis",
        customdata=text,
        hovertemplate="step %{x}<br>%{y}<br>log10 norm %{z:.2f} %{customdata}<extra></extra>",
        **({"zmin": zrange[0], "zmax": zrange[1]} if zrange else {}),
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def ratio_series(history: list[dict]) -> tuple[list, list]:
    """(epochs, first-layer / output-layer gradient norm) over the history."""
    xs, ys = [], []
    for r in history:
        g = r.get("grad_norm") or {}
        if len(g) >= 2:
            v = list(g.values())
            xs.append(r["epoch"])
            ys.append(v[0] / v[-1] if v[-1] > 0 else math.inf)
    return xs, ys


def activation_band_figure(stats: dict | None, title: str = "Activations per layer", height: int = 320) -> go.Figure:
    """Median and the 5-95 % and 25-75 % ranges of each layer's activations (latest epoch)."""
    fig = figure(title, "layer", "activation value", height)
    if not stats:
        return fig
    names = list(stats)
    q = {k: [stats[n][k] for n in names] for k in ("q05", "q25", "q50", "q75", "q95")}
    line = dict(mode="lines", line=dict(width=0), hoverinfo="skip")
    for top, bottom, name, alpha in (("q95", "q05", "5-95 %", 0.15), ("q75", "q25", "25-75 %", 0.35)):
        fig.add_trace(go.Scatter(x=names, y=q[top], name=name, **line))
        fill = dict(fill="tonexty", fillcolor=rgba(PALETTE[0], alpha), showlegend=False)
        fig.add_trace(go.Scatter(x=names, y=q[bottom], **fill, **line))
    fig.add_trace(go.Scatter(x=names, y=q["q50"], mode="lines+markers", name="median", line=dict(color=PALETTE[0])))
    fig.update_xaxes(type="category")
    return fig


def saturation_figure(stats: dict | None, title: str = "Saturated and dead units", height: int = 300) -> go.Figure:
    """Per layer: share of saturated sigmoid/tanh activations and of dead ReLU units (latest epoch)."""
    fig = figure(title, "layer", "share of units (%)", height)
    if not stats:
        return fig
    names = list(stats)
    fig.add_trace(
        go.Bar(x=names, y=[100 * stats[n]["saturated"] for n in names], name="saturated", marker_color=PALETTE[1])
    )
    fig.add_trace(
        go.Bar(x=names, y=[100 * stats[n]["dead"] for n in names], name="dead (ReLU)", marker_color=PALETTE[9])
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 100])
    fig.update_xaxes(type="category")
    return fig


def histogram_figure(
    hists: dict | None, title: str = "Activation histograms", height: int = 320, max_layers: int = 5
) -> go.Figure:
    """Distribution of activation values for a few layers spread from input to output (latest epoch)."""
    names = [n for n in hists or {} if len(hists[n]["share"])]
    if not names:
        return empty_figure(title, "activation value", "share of values (%)", height)
    fig = figure(title, "activation value", "share of values (%)", height)
    pick = sorted(set(np.linspace(0, len(names) - 1, min(max_layers, len(names))).astype(int)))
    for i, color in zip(pick, layer_colors(len(pick))):
        h = hists[names[i]]
        centres = (h["edges"][:-1] + h["edges"][1:]) / 2
        fig.add_trace(
            go.Scatter(x=centres, y=100 * h["share"], mode="lines", name=names[i], line=dict(color=color, shape="hvh"))
        )
    return fig


def update_ratio_figure(history: list[dict], title: str = "Update size ‖ΔW‖ / ‖W‖", height: int = 320) -> go.Figure:
    """Per layer, the relative weight change of the epoch's last step (log scale); ~1e-3 is typical."""
    recs = [r for r in history if r.get("update_ratio")]
    if not recs:
        return empty_figure(title, "epoch", "‖ΔW‖ / ‖W‖ (log scale)", height)
    fig = figure(title, "epoch", "‖ΔW‖ / ‖W‖ (log scale)", height, log_y=True)
    names = list(recs[-1]["update_ratio"])
    for name, color in zip(names, layer_colors(len(names))):
        xs, ys = downsample([r["epoch"] for r in recs], [max(r["update_ratio"].get(name, 0.0), TINY) for r in recs])
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(color=color)))
    fig.add_hline(
        y=1e-3,
        line=dict(color="#888", dash="dot"),
        annotation_text="1e-3",
        annotation_position="bottom right",
        annotation_y=-3,  # on a log axis an annotation's y is log10 of the value
    )
    fig.update_layout(legend=dict(orientation="v", x=1.02, xanchor="left", y=1.0, yanchor="top"))
    return decade_ticks(fig)
