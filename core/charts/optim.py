"""Optimization charts: optimisers racing on a surface, backpropagation by hand, the loss landscape.

Arrays in, figures out (core/charts/base.py's template): nothing here touches a model.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import FONT, NEGATIVE, PALETTE, POSITIVE, SEQUENTIAL, axes_layout, downsample, make_figure

GAP_FLOOR = 1e-8  # log10 of a loss gap needs a floor: the minimum itself has gap 0


def racer_color(i: int) -> str:
    """The colour of the i-th optimiser (registry order), the same on every race chart."""
    return PALETTE[i % len(PALETTE)]


def race_figure(grid: dict, results: dict[str, dict], shown: int, minima, start, title: str, height: int = 520):
    """The surface as log10(f - f*) contours, each optimiser's path to step `shown`, the start and the minima."""
    gap = np.log10(np.maximum(grid["z"] - grid["f_min"], GAP_FLOOR))
    traces = [
        {
            "type": "contour",
            "x": grid["xs"],
            "y": grid["ys"],
            "z": gap,
            "colorscale": SEQUENTIAL,
            "reversescale": True,
            "opacity": 0.55,
            "ncontours": 24,
            "colorbar": {"title": {"text": "log₁₀(f − f*)"}},
            "hoverinfo": "skip",
        }
    ]
    for i, (name, r) in enumerate(results.items()):
        path = r["path"][: shown + 1]
        xs, ys = downsample(path[:, 0].tolist(), path[:, 1].tolist())
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines+markers",
                "name": r.get("label", name),
                "marker": {"size": 4},
                "line": {"color": r.get("color", racer_color(i)), "width": 2.5},
            }
        )
    traces.append(_points([start], "start", "circle-open", "#000000"))
    traces.append(_points(minima, "minimum", "x", "#000000"))  # black, as the start: no racer's hue
    layout = axes_layout(title, "x", "y", height) | {"uirevision": "race"}
    layout["xaxis"] |= {"range": [float(grid["xs"][0]), float(grid["xs"][-1])]}
    layout["yaxis"] |= {"range": [float(grid["ys"][0]), float(grid["ys"][-1])]}
    return make_figure(traces, layout)


def _points(points, name: str, symbol: str, color: str) -> dict:
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    return {
        "type": "scatter",
        "x": pts[:, 0].tolist(),
        "y": pts[:, 1].tolist(),
        "mode": "markers",
        "name": name,
        "marker": {"symbol": symbol, "size": 14, "color": color, "line": {"width": 2, "color": color}},
    }


def race_loss_figure(results: dict[str, dict], shown: int, f_min: float, tol: float, height: int = 360) -> go.Figure:
    """Loss gap f - f* against step (log axis) to step `shown`, with the tolerance line."""
    traces = []
    for i, (name, r) in enumerate(results.items()):
        gaps = np.maximum(np.asarray(r["losses"][: shown + 1]) - f_min, GAP_FLOOR)
        xs, ys = downsample(list(range(len(gaps))), gaps.tolist())
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": r.get("label", name),
                "line": {"color": r.get("color", racer_color(i))},
            }
        )
    traces.append(
        {
            "type": "scatter",
            "x": [0, max(shown, 1)],
            "y": [tol, tol],
            "mode": "lines",
            "name": f"tolerance {tol:g}",
            "line": {"color": "#999999", "dash": "dot"},
        }
    )
    layout = axes_layout("Loss against step", "step", "f − f* (log scale)", height, log_y=True)
    return make_figure(traces, layout)


def backprop_figure(result: dict, stage: int, height: int = 460) -> go.Figure:
    """The network for one example: stage 0 forward (z, a at each neuron); stage k >= 1: the top k weight
    layers done backward (delta and phi'(z) at their neurons, dL/dw on their edges)."""
    layers = result["layers"]
    n = len(layers)
    sizes = [len(result["input"])] + [len(L["z"]) for L in layers]
    pos = [[(c * 3.0, (k - 1) / 2 - i) for i in range(k)] for c, k in enumerate(sizes)]
    done = {n - 1 - j for j in range(min(stage, n))}  # weight layers whose backward step is shown
    traces = []
    for li, L in enumerate(layers):
        grads = np.asarray(L["grad_w"])
        top = float(np.abs(grads).max()) or 1.0
        for o, (x1, y1) in enumerate(pos[li + 1]):
            for i, (x0, y0) in enumerate(pos[li]):
                w = L["weight"][o][i]
                g = grads[o, i]
                shown = li in done
                value = g if shown else w
                scale = abs(g) / top if shown else min(abs(w), 2.0) / 2.0
                text = f"w = {w:.4g}" + (f"<br>∂L/∂w = {g:.4g}" if shown else "")
                traces.append(
                    {
                        "type": "scatter",
                        "x": [x0, (x0 + x1) / 2, x1],
                        "y": [y0, (y0 + y1) / 2, y1],
                        "mode": "lines",
                        "line": {"color": POSITIVE if value >= 0 else NEGATIVE, "width": 0.8 + 5 * scale},
                        "opacity": 0.9 if shown else 0.45,
                        "hoverinfo": "text",
                        "text": [text] * 3,
                        "showlegend": False,
                    }
                )
    xs, ys, labels, hover = [], [], [], []
    for c, column in enumerate(pos):
        for i, (x, y) in enumerate(column):
            xs.append(x)
            ys.append(y)
            if c == 0:
                labels.append(f"x{i + 1} = {result['input'][i]:.3g}")
                hover.append(labels[-1])
                continue
            L = layers[c - 1]
            if c - 1 in done:
                labels.append(f"δ = {L['delta'][i]:.3g}<br>φ' = {L['slope'][i]:.3g}")
            else:
                labels.append(f"z = {L['z'][i]:.3g}<br>a = {L['a'][i]:.3g}")
            hover.append(
                f"{L['name']}, neuron {i + 1}: z = {L['z'][i]:.4g}, a = {L['a'][i]:.4g}, δ = {L['delta'][i]:.4g}"
            )
    traces.append(
        {
            "type": "scatter",
            "x": xs,
            "y": ys,
            "mode": "markers+text",
            "text": labels,
            "textposition": "top center",
            "hovertext": hover,
            "hoverinfo": "text",
            "marker": {"size": 22, "color": "#ffffff", "line": {"width": 2, "color": FONT["color"]}},
            "showlegend": False,
        }
    )
    what = "forward pass" if stage == 0 else f"backward: {min(stage, n)} of {n} layers"
    layout = axes_layout(f"One example, {what} (loss {result['loss']:.4g})", "layer (input → output)", "neuron", height)
    names = ["input"] + [L["name"] for L in layers]
    layout["xaxis"] |= {"tickvals": [c * 3.0 for c in range(len(names))], "ticktext": names, "showgrid": False}
    layout["yaxis"] |= {"showticklabels": False, "showgrid": False}
    return make_figure(traces, layout)


def landscape_line_figure(line: dict, height: int = 340) -> go.Figure:
    """Loss along (1 - a) theta_0 + a theta*: a = 0 the initial weights, a = 1 the trained ones."""
    traces = [
        {"type": "scatter", "x": list(line["alphas"]), "y": list(v), "mode": "lines", "name": name}
        for name, v in (("training loss", line["train"]), ("test loss", line.get("val", [])))
        if len(v)
    ]
    layout = axes_layout("From the initial to the trained weights", "a (0 = initial, 1 = trained)", "loss", height)
    layout["shapes"] = [
        {"type": "line", "x0": a, "x1": a, "yref": "paper", "y0": 0, "y1": 1, "line": {"dash": "dot", "color": "#999"}}
        for a in (0.0, 1.0)
    ]
    return make_figure(traces, layout)


def landscape_contour_figure(plane: dict, path: dict | None, title: str, height: int = 480) -> go.Figure:
    """The 2-D slice as log10(loss) contours, with the projected training path and the trained point."""
    traces = [
        {
            "type": "contour",
            "x": list(plane["xs"]),
            "y": list(plane["ys"]),
            "z": np.log10(np.maximum(plane["z"], 1e-12)),
            "colorscale": SEQUENTIAL,
            "reversescale": True,
            "ncontours": 20,
            "colorbar": {"title": {"text": "log₁₀(loss)"}},
        }
    ]
    if path is not None:
        traces.append(
            {
                "type": "scatter",
                "x": list(path["x"]),
                "y": list(path["y"]),
                "mode": "lines+markers",
                "name": "training path",
                "text": [f"epoch {e}" for e in path["epochs"]],
                "line": {"color": PALETTE[2]},
                "marker": {"size": 5},
            }
        )
    traces.append(_points([(0.0, 0.0)], "trained weights", "star", "#000000"))
    return make_figure(traces, axes_layout(title, "direction 1", "direction 2", height))


def landscape_surface_figure(plane: dict, title: str, height: int = 520) -> go.Figure:
    """The 2-D slice as a 3-D surface (loss on the vertical axis)."""
    trace = {
        "type": "surface",
        "x": list(plane["xs"]),
        "y": list(plane["ys"]),
        "z": np.asarray(plane["z"]),
        "colorscale": SEQUENTIAL,
        "reversescale": True,
        "colorbar": {"title": {"text": "loss"}},
    }
    layout = axes_layout(title, "direction 1", "direction 2", height)
    layout["scene"] = {
        "xaxis": {"title": {"text": "direction 1"}},
        "yaxis": {"title": {"text": "direction 2"}},
        "zaxis": {"title": {"text": "loss"}},
    }
    return make_figure([trace], layout)
