"""The network diagram: each neuron as a small heatmap of its output over the input plane, each
weight as a line coloured by its sign (blue positive, orange negative) and as thick as its size."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from core.charts.base import DIVERGING, FONT, NEGATIVE, POSITIVE, make_figure, rgba

TILE = 0.62  # a neuron's heatmap side, in the diagram's units
GAP = 0.85  # vertical distance between neuron centres
COL = 2.2  # horizontal distance between layers: room for the weights to be told apart
WIDTHS = (0.6, 1.2, 2.0, 3.0, 4.5, 6.0)  # line widths for |w| buckets, thinnest first
_STOPS = np.array([s for s, _ in DIVERGING], np.float32)
_RGB = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in DIVERGING], np.float32)


def tile_rgb(grid: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """(..., n, n) values -> (..., n, n, 3) uint8: -scale orange, 0 white, +scale blue (clipped), x2 upwards."""
    t = np.clip((np.asarray(grid, np.float32) / scale + 1) / 2, 0, 1)
    rgb = np.stack([np.interp(t, _STOPS, _RGB[:, k]) for k in range(3)], -1)
    return rgb[..., ::-1, :, :].astype(np.uint8)  # row 0 of the grid is the bottom of the plane


def _png(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def node_layout(view: dict) -> list[list[tuple[float, float]]]:
    """(x, y) centre of every node, column by column: inputs, each hidden layer, outputs."""
    counts = [len(view["inputs"])] + [len(h) for h in view["hidden"]] + [len(view["outputs"])]
    return [[(c * COL, (n - 1) / 2 * GAP - i * GAP) for i in range(n)] for c, n in enumerate(counts)]


def network_figure(
    view: dict, selected: tuple[int, int] | None = None, height: int | None = None, tile_px: int = 20
) -> go.Figure:
    """The diagram of `network_view`'s arrays; `selected` = (column, neuron) is outlined.

    Tiles are drawn at about `tile_px` pixels a side (every k-th grid point): the diagram is redrawn
    several times a second, and a 40 x 40 tile costs four times the PNG bytes and encoding time of a
    20 x 20 one that looks the same at the tile's size on screen (bench/bench_network.py).
    """
    step = max(1, len(view["xs"]) // tile_px)
    pos = node_layout(view)
    columns = [view["inputs"], *view["hidden"], view["outputs"]]
    names = (
        [f"input {f}" for f in view["features"]]
        + [f"layer {li + 1}, neuron {j + 1}" for li, h in enumerate(view["hidden"]) for j in range(len(h))]
        + [f"output {j + 1}" for j in range(len(view["outputs"]))]
    )
    traces = _edges(view["weights"], pos, view.get("zero_tol", 0.0))
    images, hx, hy, text, k = [], [], [], [], 0
    for c, grids in enumerate(columns):
        last = c == len(columns) - 1
        probs = last and grids.min() >= 0 and grids.max() <= 1
        # Inputs span their own range; a layer's neurons share one scale, its 98th percentile of |output|
        # (a ReLU layer's few large values at the plane's corners would otherwise wash the rest out).
        size = np.abs(grids[np.isfinite(grids)])
        scale = 1.0 if probs else max(1e-3, float(np.percentile(size, 98)) if size.size else 1.0)
        shown = np.where(np.isfinite(grids), grids, 0.0)  # a diverged network's nan/inf tiles are white
        if c == 0:
            scale = np.abs(shown).max(axis=(1, 2), keepdims=True)
            scale[scale == 0] = 1.0
        rgb = tile_rgb((2 * shown - 1 if probs else shown)[:, ::step, ::step], scale)
        low, high = grids.min(axis=(1, 2)).tolist(), grids.max(axis=(1, 2)).tolist()
        for j in range(len(grids)):
            x, y = pos[c][j]
            place = {"x": x - TILE / 2, "y": y + TILE / 2, "sizex": TILE, "sizey": TILE, "xref": "x", "yref": "y"}
            images.append(place | {"source": _png(rgb[j]), "sizing": "stretch", "layer": "above"})
            hx.append(x)
            hy.append(y)
            text.append(f"{names[k]}<br>min {low[j]:.3g}, max {high[j]:.3g}")
            k += 1
    neurons = {"type": "scatter", "x": hx, "y": hy, "mode": "markers", "name": "neurons", "showlegend": False}
    neurons["marker"] = {"size": 28, "symbol": "square", "color": "rgba(0,0,0,0)"}
    traces.append(neurons | {"hovertext": text, "hoverinfo": "text"})
    shapes = []
    if selected is not None:
        x, y = pos[selected[0]][selected[1]]
        box = {
            "x0": x - TILE / 2 - 0.05,
            "x1": x + TILE / 2 + 0.05,
            "y0": y - TILE / 2 - 0.05,
            "y1": y + TILE / 2 + 0.05,
        }
        shapes.append({"type": "rect", "xref": "x", "yref": "y", "line": {"color": FONT["color"], "width": 3}} | box)
    n_cols = len(columns)
    top = max(len(c) for c in columns)
    labels = ["inputs"] + [f"layer {i + 1}" for i in range(n_cols - 2)] + ["output"]
    span = (top - 1) / 2 * GAP + TILE
    layout = {
        "title": {"text": "Network: each neuron's output over the plane"},
        "images": images,
        "shapes": shapes,
        "height": height or max(300, 90 + int(top * GAP * 55)),
        "margin": {"l": 10, "r": 10, "t": 50, "b": 40},
        "showlegend": False,
        "xaxis": {"range": [-0.5 * COL, (n_cols - 0.5) * COL], "tickvals": [c * COL for c in range(n_cols)]}
        | {"ticktext": labels, "showgrid": False, "zeroline": False},
        "yaxis": {"range": [-span, span], "visible": False, "scaleanchor": "x", "constrain": "domain"},
    }
    return make_figure(traces, layout)


def _edges(weights: list[np.ndarray], pos, zero_tol: float) -> list[dict]:
    """One line per weight, bucketed by sign and size into a few traces (cheap to draw and send).

    A weight below `zero_tol` in size is drawn as a faint dotted line: with L1 regularisation the
    student watches connections fade out of the network. Each trace's lines are one array of (start, end,
    NaN) points: Plotly breaks a line at NaN, and arrays go to the browser as binary.
    """
    finite = [np.abs(w[np.isfinite(w)]) for w in weights]
    biggest = max((float(a.max()) for a in finite if a.size), default=1.0) or 1.0
    parts = []  # per layer: weights, their ends and their (layer, in, out), in the order (out, in)
    for li, w in enumerate(weights):
        src, dst = np.asarray(pos[li], np.float32), np.asarray(pos[li + 1], np.float32)  # 4 bytes a point to send
        o, i = np.divmod(np.arange(w.size), w.shape[1])
        parts.append((np.asarray(w, np.float64).ravel(), src[i], dst[o], np.full(w.size, li), i, o))
    v, a, b, layer, i, o = (np.concatenate(c) for c in zip(*parts))
    zero = ~np.isfinite(v) | (np.abs(v) < zero_tol)  # a diverged network's nan/inf: dotted, hover says so
    bucket = np.minimum(len(WIDTHS) - 1, (np.abs(np.where(zero, 0.0, v)) / biggest * len(WIDTHS)).astype(int))
    gap = np.full(len(v), np.nan, np.float32)
    xs = np.stack([a[:, 0] + TILE / 2, b[:, 0] - TILE / 2, gap], 1)
    ys = np.stack([a[:, 1], b[:, 1], gap], 1)

    def lines(where: np.ndarray, line: dict) -> dict:
        return {
            "type": "scatter",
            "x": xs[where].ravel(),
            "y": ys[where].ravel(),
            "mode": "lines",
            "line": line,
        } | QUIET

    traces = []
    for positive in (False, True):
        for k in range(len(WIDTHS)):
            where = ~zero & ((v >= 0) == positive) & (bucket == k)
            if where.any():
                color = rgba(POSITIVE if positive else NEGATIVE, 0.25 + 0.75 * (k + 1) / len(WIDTHS))
                traces.append(lines(where, {"color": color, "width": WIDTHS[k]}))
    if zero.any():
        traces.append(lines(zero, {"color": "rgba(120,120,120,0.35)", "width": 1, "dash": "dot"}))
    text = [
        f"weight {w:.4g}<br>layer {n + 1}: neuron {s + 1} → {d + 1}"
        for w, n, s, d in zip(v.tolist(), layer.tolist(), i.tolist(), o.tolist())
    ]
    hover = {"type": "scatter", "x": (a[:, 0] + b[:, 0]) / 2, "y": (a[:, 1] + b[:, 1]) / 2, "mode": "markers"}
    hover |= {"name": "weights", "showlegend": False, "marker": {"size": 8, "color": "rgba(0,0,0,0)"}}
    traces.append(hover | {"hovertext": text, "hoverinfo": "text"})
    return traces


QUIET = {"hoverinfo": "skip", "showlegend": False}
