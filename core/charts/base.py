"""One Plotly template and colour scheme for every chart; generic figure builders.

Charts take plain numbers and arrays, never models or tensors.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image

TEMPLATE = "playground"
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=15, color="#1f2430")
# Okabe-Ito: distinguishable with colour-blindness and on a washed-out projector.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#999999",
]
NEGATIVE, POSITIVE = (
    "#E69F00",
    "#0072B2",
)  # TF Playground's convention: orange -1 / class 0, blue +1 / class 1
# Orange (-1) through white (0) to blue (+1), for decision surfaces and signed values.
DIVERGING = [
    [0.0, "#D98200"],
    [0.25, "#F3C27A"],
    [0.5, "#F7F7F7"],
    [0.75, "#8FBFE0"],
    [1.0, "#0B5EA8"],
]
SEQUENTIAL = "Viridis"
MAX_POINTS_PER_LINE = 600

pio.templates[TEMPLATE] = go.layout.Template(
    layout=dict(
        font=FONT,
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=60, r=20, t=50, b=50),
        title=dict(font=dict(size=18), x=0.0, xanchor="left"),
        xaxis=dict(
            showgrid=True,
            gridcolor="#e6e6e6",
            zeroline=False,
            linecolor="#888",
            ticks="outside",
        ),
        yaxis=dict(
            showgrid=True,
            gridcolor="#e6e6e6",
            zeroline=False,
            linecolor="#888",
            ticks="outside",
        ),
        legend=dict(
            orientation="h",
            yanchor="bottom",
            y=1.0,
            xanchor="right",
            x=1.0,
            font=dict(size=13),
        ),
        hoverlabel=dict(font_size=14),
    )
)


# The template as plain data: a figure built without validation (below) cannot look its name up.
TEMPLATE_LAYOUT = pio.templates[TEMPLATE].to_plotly_json()


def make_figure(traces: list, layout: dict) -> go.Figure:
    """A figure of trace dicts (`{"type": "scatter", ...}`) and a layout dict, in the house template.

    Built without Plotly's per-property validation: live charts are rebuilt several times a second, and
    validating costs 1-2 ms a trace (most of a redraw). The names are Plotly's; the chart tests read
    the figures back and check what they show.
    """
    return go.Figure(data=traces, layout={"template": TEMPLATE_LAYOUT} | layout, _validate=False)


def axes_layout(title: str, x_title: str, y_title: str, height: int = 320, log_y: bool = False) -> dict:
    """The layout of a chart in the house style with both axes labelled."""
    y_axis = {"title": {"text": y_title}}
    if log_y:
        y_axis |= {"type": "log", "exponentformat": "power"}
    return {"title": {"text": title}, "height": height, "xaxis": {"title": {"text": x_title}}, "yaxis": y_axis}


def figure(title: str, x_title: str, y_title: str, height: int = 320, log_y: bool = False) -> go.Figure:
    """An empty figure in the house style with both axes labelled."""
    return make_figure([], axes_layout(title, x_title, y_title, height, log_y))


def decade_dtick(ys) -> dict:
    """On a log axis spanning two or more decades, label only the powers of ten (no 2, 3, 5 clutter)."""
    ys = np.asarray([y for y in ys if y is not None], dtype=np.float64)
    ys = ys[np.isfinite(ys) & (ys > 0)]
    return {"dtick": 1} if ys.size and np.log10(ys.max()) - np.log10(ys.min()) >= 2 else {}


def decade_ticks(fig: go.Figure) -> go.Figure:
    """On a log axis spanning two or more decades, label only the powers of ten (no 2, 3, 5 clutter)."""
    ys = np.concatenate([np.asarray(t.y, dtype=np.float64) for t in fig.data if t.y is not None] or [np.zeros(0)])
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size and np.log10(ys.max()) - np.log10(ys.min()) >= 2:
        fig.update_yaxes(dtick=1)
    return fig


def downsample(xs, ys, limit: int = MAX_POINTS_PER_LINE):
    """Keep at most `limit` points of a curve (every k-th plus the last), so payloads stay small."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    idx = list(range(0, n, int(np.ceil(n / limit))))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def line_figure(
    series: dict[str, tuple[list, list]],
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    height: int = 320,
) -> go.Figure:
    """One line per named (xs, ys) series."""
    traces = []
    for name, (xs, ys) in series.items():
        xs, ys = downsample(xs, ys)
        traces.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name})
    return make_figure(traces, axes_layout(title, x_title, y_title, height, log_y))


def heatmap_figure(
    z,
    x,
    y,
    title: str,
    x_title: str,
    y_title: str,
    colorbar: str,
    height: int = 320,
    **kw,
) -> go.Figure:
    """A heatmap with labelled axes and a titled colour bar."""
    trace = {"type": "heatmap", "z": z, "x": x, "y": y, "colorscale": kw.pop("colorscale", SEQUENTIAL)}
    trace |= {"colorbar": {"title": {"text": colorbar}}} | kw
    return make_figure([trace], axes_layout(title, x_title, y_title, height))


def image_grid(
    images: np.ndarray, cols: int = 8, pad: int = 1, scale: int = 4, vrange: tuple[float, float] | None = None
) -> np.ndarray:
    """(N, H, W) floats -> one uint8 (rows*H, cols*W) mosaic, upscaled; high values dark.

    Each tile is min-max scaled, or with `vrange` = (lo, hi) every tile is drawn on that one scale
    (so a faint image looks faint).
    """
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    cols = max(1, min(cols, n))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), 255, np.uint8)
    for i, img in enumerate(images):
        lo, hi = vrange if vrange else (float(img.min()), float(img.max()))
        img = np.clip(img, lo, hi) if vrange else img
        tile = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
        r, c = divmod(i, cols)
        out[
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + c * (w + pad) : pad + c * (w + pad) + w,
        ] = (255 - tile * 255).astype(np.uint8)
    return np.kron(out, np.ones((scale, scale), np.uint8)) if scale > 1 else out


def image_figure(mosaic: np.ndarray, title: str, height: int | None = None) -> go.Figure:
    """A uint8 grey or RGB mosaic as one PNG image (a few KB per redraw), square pixels, axes hidden."""
    h, w = mosaic.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(mosaic)).save(buf, "PNG")
    source = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    layout = {
        "title": {"text": title},
        "height": height or min(600, 80 + h),
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
        "xaxis": {"visible": False, "range": [-0.5, w - 0.5], "constrain": "domain"},
        "yaxis": {"visible": False, "range": [h - 0.5, -0.5], "scaleanchor": "x", "constrain": "domain"},
    }
    return make_figure([{"type": "image", "source": source, "hoverinfo": "skip"}], layout)
