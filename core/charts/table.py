"""An uploaded table of more than two columns, drawn on its first two principal components."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import DIVERGING, make_figure
from core.charts.plane import _class_colors


def projection_figure(
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray] | None,
    task: str,
    class_names: list[str],
    axes: list[str],
    title: str,
    target_range: tuple[float, float] | None = None,
    height: int = 460,
) -> go.Figure:
    """Rows as dots on a 2-D projection, coloured by a class index (classifiers) or a value in [-1, 1].

    train/test are (points (N, 2), values (N,)); test rows are diamonds with a dark outline. For regression
    `target_range` (lo, hi) labels the colour bar in the target column's units (-1 is lo, 1 is hi).
    """
    traces = []
    parts = [("train", *train, False)] + ([("test", *test, True)] if test is not None else [])
    for name, pts, values, is_test in parts:
        marker = {"size": 9 if is_test else 8, "line": {"width": 1.2, "color": "black" if is_test else "white"}}
        if is_test:
            marker["symbol"] = "diamond"
        if task == "regression":
            lo, hi = target_range or (-1.0, 1.0)
            bar = {"title": {"text": "target", "side": "right"}, "thickness": 14, "len": 0.8}
            bar |= {"tickvals": [-1, 0, 1], "ticktext": [f"{lo:.3g}", f"{(lo + hi) / 2:.3g}", f"{hi:.3g}"]}
            marker |= {"color": values, "colorscale": DIVERGING, "cmin": -1, "cmax": 1}
            if not is_test:
                marker["colorbar"] = bar
            traces.append({"type": "scatter", "x": pts[:, 0], "y": pts[:, 1], "mode": "markers", "name": name})
            traces[-1]["marker"] = marker
            continue
        colors = _class_colors(len(class_names))
        for k, label in enumerate(class_names):
            sel = values == k
            if sel.any():
                points = {"type": "scatter", "x": pts[sel, 0], "y": pts[sel, 1], "mode": "markers"}
                traces.append(points | {"name": f"{name}: {label}", "marker": marker | {"color": colors[k]}})
    layout = {
        "title": {"text": title},
        "height": height,
        "showlegend": task != "regression",
        "xaxis": {"title": {"text": axes[0]}, "showgrid": False},
        "yaxis": {"title": {"text": axes[1]}, "showgrid": False},
    }
    return make_figure(traces, layout)
