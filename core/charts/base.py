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
# Tableau 10: ten hues told apart with the common colour-vision deficiencies and on a washed-out projector.
# Classes take them in order everywhere (class i is PALETTE[i]), and so do the sides of a comparison
# (A blue, B orange, C red).
PALETTE = [
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#59A14F",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
]
NEGATIVE, POSITIVE = PALETTE[1], PALETTE[0]  # TF Playground's convention: orange -1 / class 0, blue +1 / class 1
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

TITLE_SIZE, LEGEND_SIZE = 18, 13
# Room above the plot for a one-line title and, under it, a one-row legend. The live chart measures both
# in the browser and makes room for more lines (ui/plotly_live.py); a figure drawn statically keeps this.
TOP_MARGIN = 78
# Every axis: grid, outside ticks, and `automargin`, so the margins grow to hold the tick labels and the axis
# title stands `standoff` px clear of them (with fixed margins the titles were written over the ticks).
AXIS = dict(
    showgrid=True,
    gridcolor="#e6e6e6",
    zeroline=False,
    linecolor="#888",
    ticks="outside",
    automargin=True,
    title=dict(standoff=8),
)

# A colour bar's title runs up its right side: on top it sat on the bar's highest tick label.
COLORBAR = {"colorbar": {"title": {"side": "right"}}}

pio.templates[TEMPLATE] = go.layout.Template(
    data={kind: [COLORBAR] for kind in ("heatmap", "contour", "histogram2d")},
    layout=dict(
        font=FONT,
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=20, r=20, t=TOP_MARGIN, b=20),
        # The title has the top line of the figure to itself; the legend sits on the plot's top edge below it.
        title=dict(
            font=dict(size=TITLE_SIZE),
            x=0.0,
            xanchor="left",
            xref="container",
            y=1.0,
            yanchor="top",
            yref="container",
            pad=dict(l=10, t=8),
        ),
        xaxis=AXIS,
        yaxis=AXIS,
        legend=dict(
            orientation="h",
            yanchor="bottom",
            y=1.0,
            xanchor="right",
            x=1.0,
            font=dict(size=LEGEND_SIZE),
        ),
        hoverlabel=dict(font_size=14),
    ),
)


# The template as plain data: a figure built without validation (below) cannot look its name up.
TEMPLATE_LAYOUT = pio.templates[TEMPLATE].to_plotly_json()


def rgba(color: str, alpha: float) -> str:
    """A "#rrggbb" colour with transparency, as Plotly's "rgba(r,g,b,a)"."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


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


def empty_figure(title: str, x_title: str, y_title: str, height: int = 320) -> go.Figure:
    """A chart with nothing to draw yet, saying so (see `waiting`)."""
    return make_figure([], waiting(axes_layout(title, x_title, y_title, height)))


def log_ticks(ys) -> dict:
    """Tick labels for a log axis over these values that do not crowd on a short axis: over two decades or more,
    only powers of ten (Plotly thins them to fit the axis' length); over one to two, 1, 2 and 5 of each decade
    (not every digit 2 ... 9); under one decade, Plotly's own plain numbers."""
    ys = np.asarray([y for y in ys if y is not None], dtype=np.float64)
    ys = ys[np.isfinite(ys) & (ys > 0)]
    decades = float(np.log10(ys.max()) - np.log10(ys.min())) if ys.size else 0.0
    if decades >= 2:
        return {"minorloglabels": "none"}
    return {"dtick": "D2"} if decades >= 1 else {}


def decade_ticks(fig: go.Figure) -> go.Figure:
    """`log_ticks` on the y axis of a figure, over the y values of all its traces."""
    ys = np.concatenate([np.asarray(t.y, dtype=np.float64) for t in fig.data if t.y is not None] or [np.zeros(0)])
    return fig.update_yaxes(**log_ticks(ys))


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
    layout = axes_layout(title, x_title, y_title, height, log_y)
    if not any(len(xs) for xs, _ in series.values()):
        return make_figure(traces, waiting(layout))
    if log_y:
        layout["yaxis"] |= log_ticks(y for _, ys in series.values() for y in ys)
    return make_figure(traces, layout)


NOTHING_YET = "Nothing trained yet:<br>press Play or Step"


def waiting(layout: dict) -> dict:
    """A chart with nothing to draw says so, with its axes titled but no made-up ranges or ticks."""
    blank = {
        "showticklabels": False,
        "ticks": "",
        "showgrid": False,
        "zeroline": False,
        "range": [0, 1],
        "type": "linear",
    }
    note = {"text": NOTHING_YET, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False}
    return layout | {
        "xaxis": layout["xaxis"] | blank,
        "yaxis": layout["yaxis"] | blank,
        "annotations": [*layout.get("annotations", []), note | {"font": {"size": 14}}],
        "showlegend": False,
    }


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
