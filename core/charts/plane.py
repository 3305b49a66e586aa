"""The input plane: the model's decision surface (or regression surface) with the data points."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import DIVERGING, NEGATIVE, PALETTE, POSITIVE, make_figure


def _class_colors(n: int) -> list[str]:
    # Class 0 orange and class 1 blue everywhere, as in the binary sets; further classes follow the palette.
    rest = [c for c in PALETTE if c not in (NEGATIVE, POSITIVE)]
    return [NEGATIVE, POSITIVE, *rest][:n]


def _hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], np.float32)


def _points(traces: list, pts, labels, task, n_classes, name, test: bool):
    if pts is None or len(pts) == 0:
        return
    marker = dict(
        size=8 if not test else 9,
        line=dict(width=1.2, color="white" if not test else "black"),
    )
    if test:
        marker["symbol"] = "diamond"
    if task == "regression":
        marker |= {"color": labels, "colorscale": DIVERGING, "cmin": -1, "cmax": 1}
        traces.append(
            {"type": "scatter", "x": pts[:, 0], "y": pts[:, 1], "mode": "markers", "name": name} | {"marker": marker}
        )
        return
    colors = _class_colors(n_classes)
    for k in range(n_classes):
        sel = labels == k
        if sel.any():
            label = f"{name}: class {k}"
            points = {"type": "scatter", "x": pts[sel, 0], "y": pts[sel, 1], "mode": "markers", "name": label}
            traces.append(points | {"marker": marker | {"color": colors[k]}})


def discretized(grid: dict) -> dict:
    """The grid with every value pushed to its class: the range's ends, or one-hot probabilities."""
    if "probs" in grid:
        probs = grid["probs"]
        return grid | {"probs": np.eye(probs.shape[-1], dtype=np.float32)[probs.argmax(-1)]}
    lo, hi = grid["range"]
    return grid | {"value": np.where(grid["value"] >= (lo + hi) / 2, hi, lo).astype(np.float32)}


def decision_figure(
    grid: dict,
    train: tuple,
    test: tuple | None,
    task: str,
    n_classes: int,
    title: str = "Decision surface",
    height: int = 520,
    discrete: bool = False,
    axes: tuple[str, str] = ("x1", "x2"),
) -> go.Figure:
    """Model output over the grid's square (toy sets: [-6, 6]^2) behind the training points (and test points).

    train/test are (points (N, 2), labels (N,)): class indices, or values in [-1, 1] for regression.
    `discrete` shows TF Playground's "discretize output": each point coloured by its predicted class
    alone (the value range's midpoint is the threshold; K classes: the most probable one).
    """
    xs, ys = grid["xs"], grid["ys"]
    if discrete:
        grid = discretized(grid)
    traces = []
    if "probs" in grid:
        colors = np.stack([_hex_rgb(c) for c in _class_colors(n_classes)])  # (K, 3)
        probs = grid["probs"]  # (n, n, K)
        rgb = probs @ colors
        confidence = probs.max(-1, keepdims=True)
        # Uncertain regions fade to white, so the boundary reads at a glance.
        rgb = 255 - (255 - rgb) * (0.25 + 0.5 * confidence)
        step = float(xs[1] - xs[0])
        image = {"type": "image", "z": rgb.astype(np.uint8), "x0": float(xs[0]), "dx": step, "y0": float(ys[0])}
        traces.append(image | {"dy": step, "hoverinfo": "skip"})
    else:
        lo, hi = grid["range"]
        colorbar = {"title": {"text": grid["label"], "side": "right"}, "thickness": 14, "len": 0.8}
        heat = {"type": "heatmap", "z": grid["value"], "x": xs, "y": ys, "zmin": lo, "zmax": hi}
        traces.append(heat | {"colorscale": DIVERGING, "hoverinfo": "skip", "colorbar": colorbar})
    _points(traces, *train, task, n_classes, "train", test=False)
    if test is not None:
        _points(traces, *test, task, n_classes, "test", test=True)
    lim = float(xs[-1])
    axis = {"range": [-lim, lim], "showgrid": False, "constrain": "domain"}
    layout = {
        "title": {"text": title},
        "height": height,
        "showlegend": task != "regression",
        "xaxis": axis | {"title": {"text": axes[0]}},
        "yaxis": axis | {"title": {"text": axes[1]}, "scaleanchor": "x"},
    }
    return make_figure(traces, layout)
