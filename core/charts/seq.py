"""Sequence charts: loss against the baseline, the gradient through time (line and t x epoch heatmap),
hidden states and LSTM gates (units x time), and predictions next to targets."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.charts.base import DIVERGING, PALETTE, TEMPLATE, decade_ticks, downsample, figure, heatmap_figure
from core.charts.training import series

GATE_SCALE = "Viridis"  # gates are in (0, 1): dark = closed, yellow = open
# A gradient that underflowed to exactly 0 is drawn at float32's smallest positive value, not left out.
FLOOR = 1.4e-45


def run_colors(names: list[str]) -> dict[str, str]:
    """One colour per run, in the order given (A blue, B orange, C green)."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def seq_loss_figure(runs: dict[str, list[dict]], title: str = "Validation loss", height: int = 340) -> go.Figure:
    """Each run's validation loss (solid) and training-batch loss (dotted) per epoch, and the baseline."""
    fig = figure(title, "epoch", "loss (log scale)", height, log_y=True)
    colors = run_colors(list(runs))
    baseline = None
    for name, hist in runs.items():
        for key, dash, label in (("val_loss", "solid", "validation"), ("loss", "dot", "training batches")):
            xs, ys = downsample(*series(hist, key))
            if xs:
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=ys,
                        mode="lines" if len(xs) > 2 else "lines+markers",
                        name=f"{name} {label}",
                        line=dict(color=colors[name], dash=dash),
                    )
                )
        baseline = next((r["baseline_loss"] for r in reversed(hist) if "baseline_loss" in r), baseline)
    if baseline is not None:
        fig.add_hline(
            y=baseline,
            line=dict(color="#555", dash="dash"),
            annotation_text=f"baseline {baseline:.3g}: ignore the sequence",
            annotation_position="bottom left",
            annotation_y=math.log10(baseline),  # on a log axis an annotation's y is log10 of the value
        )
    return decade_ticks(fig)


def _last_gtt(hist: list[dict]) -> tuple[float | None, list[float]]:
    rec = next((r for r in reversed(hist) if r.get("grad_through_time")), None)
    return (rec["epoch"], rec["grad_through_time"]) if rec else (None, [])


def gtt_line_figure(runs: dict[str, list[dict]], title: str = "Gradient through time", height: int = 340) -> go.Figure:
    """||dL/dh_t|| over the time step t for each run's latest epoch, log scale."""
    fig = figure(title, "time step t", "‖∂L/∂hₜ‖ (log scale)", height, log_y=True)
    colors = run_colors(list(runs))
    for name, hist in runs.items():
        epoch, values = _last_gtt(hist)
        if not values:
            continue
        ys = [max(v, FLOOR) if math.isfinite(v) else None for v in values]
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(ys) + 1)),
                y=ys,
                mode="lines",
                name=f"{name} (epoch {epoch:g})",
                line=dict(color=colors[name]),
            )
        )
    return decade_ticks(fig)


def gtt_matrix(hist: list[dict], max_rows: int = 200) -> tuple[np.ndarray, list, np.ndarray]:
    """(log10 ||dL/dh_t|| as (epochs, T), epochs, t) from a history; at most max_rows epochs (evenly kept)."""
    recs = [r for r in hist if r.get("grad_through_time")]
    if len(recs) > max_rows:
        keep = np.unique(np.linspace(0, len(recs) - 1, max_rows).round().astype(int))
        recs = [recs[i] for i in keep]
    if not recs:
        return np.zeros((0, 0), np.float32), [], np.zeros(0, np.int64)
    values = np.asarray([r["grad_through_time"] for r in recs], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.isfinite(values), np.log10(np.maximum(values, FLOOR)), np.nan)
    return z.astype(np.float32), [r["epoch"] for r in recs], np.arange(1, values.shape[1] + 1)


def gtt_range(*matrices: np.ndarray) -> tuple[float, float] | None:
    """One colour range for several runs' log10 heatmaps (so equal colours mean equal gradients)."""
    vals = np.concatenate([m[np.isfinite(m)].ravel() for m in matrices if m.size] or [np.zeros(0)])
    if vals.size == 0:
        return None
    lo, hi = float(np.percentile(vals, 1)), float(vals.max())
    return (lo, hi if hi > lo else lo + 1)


def gtt_heatmap_figure(
    hist: list[dict], title: str = "Gradient through time, every epoch", zrange=None, height: int = 340
) -> go.Figure:
    """log10 ||dL/dh_t||: time step t across, epoch down (latest at the top)."""
    z, epochs, ts = gtt_matrix(hist)
    kw = {"zmin": zrange[0], "zmax": zrange[1]} if zrange else {}
    fig = heatmap_figure(
        z,
        ts,
        epochs,
        title,
        "time step t",
        "epoch",
        "log₁₀ ‖∂L/∂hₜ‖",
        height,
        hovertemplate="t %{x}<br>epoch %{y}<br>log₁₀ ‖∂L/∂hₜ‖ %{z:.2f}<extra></extra>",
        **kw,
    )
    return fig


def hidden_figure(h: np.ndarray, labels: list[str] | None = None, title: str = "Hidden state", height: int = 340):
    """One example's hidden state (units, T) as a heatmap: time across, unit down, white at 0."""
    h = np.asarray(h, np.float32)
    top = float(np.abs(h).max()) if h.size else 1.0
    fig = heatmap_figure(
        h,
        np.arange(1, h.shape[1] + 1),
        np.arange(1, h.shape[0] + 1),
        title,
        "time step t",
        "hidden unit",
        "hₜ",
        height,
        colorscale=DIVERGING,
        zmin=-max(top, 1e-6),
        zmax=max(top, 1e-6),
        customdata=_labels_grid(labels, h.shape[0]),
        hovertemplate="t %{x}, input %{customdata}<br>unit %{y}<br>h %{z:.3f}<extra></extra>",
    )
    return fig


def _labels_grid(labels: list[str] | None, rows: int):
    if not labels:
        return None
    return np.tile(np.asarray(labels, dtype=object), (rows, 1))


def gates_figure(gates: dict[str, np.ndarray], labels: list[str] | None = None, title: str = "LSTM gates", height=560):
    """Input, forget and output gates (units, T) of one example, stacked, on one 0-1 colour scale."""
    names = list(gates)
    fig = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=[f"{n} gate" for n in names]
    )
    for row, name in enumerate(names, start=1):
        g = np.asarray(gates[name], np.float32)
        fig.add_trace(
            go.Heatmap(
                z=g,
                x=np.arange(1, g.shape[1] + 1),
                y=np.arange(1, g.shape[0] + 1),
                zmin=0,
                zmax=1,
                colorscale=GATE_SCALE,
                showscale=row == 1,
                colorbar=dict(title="gate (0 closed, 1 open)", len=0.9),
                customdata=_labels_grid(labels, g.shape[0]),
                hovertemplate=f"{name} gate<br>t %{{x}}, input %{{customdata}}<br>unit %{{y}}<br>%{{z:.3f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="unit", row=row, col=1)
    fig.update_xaxes(title_text="time step t", row=len(names), col=1)
    fig.update_layout(template=TEMPLATE, title=title, height=height)
    return fig


def adding_figure(runs: dict[str, dict], title: str = "Predicted vs true sum", height: int = 360) -> go.Figure:
    """Adding problem: each run's prediction against the true sum on validation sequences, and y = x."""
    fig = figure(title, "true sum of the two marked numbers", "predicted sum", height)
    fig.add_trace(go.Scatter(x=[0, 2], y=[0, 2], mode="lines", name="perfect", line=dict(color="#888", dash="dot")))
    colors = run_colors(list(runs))
    for name, pred in runs.items():
        fig.add_trace(
            go.Scatter(
                x=pred["target"],
                y=pred["pred"],
                mode="markers",
                name=name,
                marker=dict(size=5, color=colors[name], opacity=0.6),
            )
        )
    fig.update_xaxes(range=[0, 2])
    return fig


def forecast_figure(inputs, target, preds: dict[str, np.ndarray], title="Next-value forecast", height=340):
    """One sequence: the next value (truth) and each run's forecast of it, over time."""
    t = np.arange(1, len(target) + 1)
    fig = figure(title, "time step t", "value", height)
    fig.add_trace(go.Scatter(x=t, y=target, mode="lines", name="true next value", line=dict(color="#333", width=3)))
    colors = run_colors(list(preds))
    for name, p in preds.items():
        fig.add_trace(go.Scatter(x=t, y=p, mode="lines", name=f"{name} forecast", line=dict(color=colors[name])))
    return fig


def recall_figure(target, preds: dict[str, np.ndarray], title: str = "Recalled symbols", height: int = 300):
    """Copy task: the symbols to replay (big rings) and each run's replay (markers), by replay position."""
    pos = np.arange(1, len(target) + 1)
    fig = figure(title, "replay position", "symbol", height)
    fig.add_trace(
        go.Scatter(
            x=pos,
            y=target,
            mode="markers",
            name="to recall",
            marker=dict(size=18, symbol="circle-open", color="#333", line=dict(width=2)),
        )
    )
    colors = run_colors(list(preds))
    for name, p in preds.items():
        fig.add_trace(go.Scatter(x=pos, y=p, mode="markers", name=name, marker=dict(size=9, color=colors[name])))
    fig.update_xaxes(dtick=1)
    fig.update_yaxes(dtick=1)
    return fig
