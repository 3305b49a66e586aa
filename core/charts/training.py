"""Training curves: loss, accuracy, per-layer gradient norms, learning rate."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from core.charts.base import PALETTE, axes_layout, downsample, figure, line_figure, log_ticks, make_figure, waiting

LOSS_LABELS = {"train_loss": "train", "val_loss": "test", "loss": "train (batch mean)"}


def series(history: list[dict], key: str) -> tuple[list, list]:
    """(epochs, values) of one scalar metric over the history (records that have it)."""
    pts = [(r["epoch"], r[key]) for r in history if key in r and r[key] is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def loss_figure(history: list[dict], title: str = "Loss", val_label: str = "test", height: int = 320) -> go.Figure:
    """Train and validation loss per epoch (log scale)."""
    lines = {
        "train": series(history, "train_loss"),
        val_label: series(history, "val_loss"),
    }
    lines = {k: v for k, v in lines.items() if v[0]}
    fig = line_figure(lines, title, "epoch", "loss (log scale)", log_y=True, height=height)
    return fig


def accuracy_figure(
    history: list[dict],
    title: str = "Accuracy",
    val_label: str = "test",
    height: int = 320,
) -> go.Figure:
    """Train and validation accuracy per epoch, in percent."""
    lines = {}
    for key, name in (("train_accuracy", "train"), ("val_accuracy", val_label)):
        xs, ys = series(history, key)
        if xs:
            lines[name] = (xs, [100 * y for y in ys])
    fig = line_figure(lines, title, "epoch", "accuracy (%)", height=height)
    fig.update_yaxes(range=[0, 101])
    return fig


def layer_colors(n: int) -> list[str]:
    """n colours from input (dark purple) to output (yellow), so depth reads as colour."""
    return sample_colorscale("Viridis", [i / max(1, n - 1) * 0.9 for i in range(n)])


def _positive(v: float) -> float | None:
    """A value a log axis can draw: tiny for 0, a gap (None) for inf or NaN."""
    return max(v, 1e-30) if math.isfinite(v) else None


def grad_norm_figure(history: list[dict], title: str = "Gradient norm per layer", height: int = 320) -> go.Figure:
    """‖∂L/∂W‖₂ of each weight layer per epoch (mean over the epoch's batches), log scale."""
    recs = [r for r in history if r.get("grad_norm")]
    layout = axes_layout(title, "epoch", "‖∂L/∂W‖₂ (log scale)", height, log_y=True)
    if not recs:
        return make_figure([], waiting(layout))
    names = list(recs[-1]["grad_norm"])
    mode = "lines" if len(recs) > 2 else "lines+markers"  # one or two epochs: show the points
    traces, all_ys = [], []
    for name, color in zip(names, layer_colors(len(names))):
        xs = [r["epoch"] for r in recs]
        ys = [_positive(r["grad_norm"].get(name, 0.0)) for r in recs]
        xs, ys = downsample(xs, ys)
        all_ys += ys
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": mode, "name": name, "line": {"color": color}})
    bad = [r["epoch"] for r in recs if not all(math.isfinite(v) for v in r["grad_norm"].values())]
    if bad:  # an overflowed norm cannot sit on a log axis: mark where it happened
        layout["shapes"] = [_vline(bad[0], {"color": PALETTE[2], "dash": "dot"})]
        layout["annotations"] = [
            {
                "x": bad[0],
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": f"gradient overflow (inf) at epoch {bad[0]:.3g}",
                "showarrow": False,
                "xanchor": "right" if len(recs) > 1 else "center",
                "yanchor": "bottom",
                "font": {"color": PALETTE[2]},
            }
        ]
    # Many layers: a vertical legend beside the plot, ordered input (top) to output (bottom).
    layout["legend"] = {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1.0, "yanchor": "top"}
    layout["legend"]["traceorder"] = "normal"
    layout["yaxis"] |= log_ticks(all_ys)
    return make_figure(traces, layout)


def _vline(x: float, line: dict) -> dict:
    """A vertical line across the whole plot at x."""
    return {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper", "line": line}


def lr_figure(
    epochs: list[float],
    lrs: list[float],
    current: float | None = None,
    title: str = "Learning rate schedule",
    height: int = 260,
) -> go.Figure:
    """The LR over the run (from the real torch scheduler), with a marker at the current epoch."""
    layout = axes_layout(title, "epoch", "learning rate", height)
    layout["showlegend"] = False
    top = max(lrs) if lrs else 1.0
    layout["yaxis"] |= {"range": [0, top * 1.15], "exponentformat": "power"}
    if current is not None:
        layout["shapes"] = [_vline(current, {"color": PALETTE[2], "dash": "dash"})]
        layout["annotations"] = [
            {"x": current, "y": 1, "xref": "x", "yref": "paper", "text": "now", "showarrow": False}
            | {"xanchor": "left", "yanchor": "top"}
        ]
    line = {"type": "scatter", "x": epochs, "y": lrs, "mode": "lines", "name": "lr", "line": {"color": PALETTE[0]}}
    return make_figure([line], layout)


def lr_find_figure(result: dict, title: str = "Learning-rate finder", height: int = 300) -> go.Figure:
    """The training loss each short run ended with against its rate (log axis), the start loss, the task's baseline
    where it has one, and the suggestion."""
    steps = result.get("steps")
    fig = figure(
        title, "learning rate (log scale)", f"training loss after {steps} steps" if steps else "training loss", height
    )
    lrs, losses = result.get("lrs") or [], result.get("losses") or []
    fig.add_trace(
        go.Scatter(x=lrs, y=losses, mode="lines+markers", name="after a short run", line=dict(color=PALETTE[0]))
    )
    levels = (
        ("start_loss", "before", PALETTE[9], "dot"),
        ("baseline", "baseline (ignores the input)", PALETTE[3], "dash"),
    )
    for key, name, color, dash in levels:
        value = result.get(key)
        if value is not None and lrs:  # a level across the whole range of rates
            line = dict(color=color, dash=dash)
            fig.add_trace(go.Scatter(x=[lrs[0], lrs[-1]], y=[value, value], mode="lines", name=name, line=line))
    suggested = result.get("suggested_lr")
    if suggested:
        fig.add_vline(
            x=suggested, line=dict(color=PALETTE[2], dash="dash"), annotation_text=f"suggested: {suggested:.2g}"
        )
    fig.update_xaxes(type="log", exponentformat="power")
    return fig
