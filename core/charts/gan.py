"""GAN charts: the plane (D heatmap, real and fake samples, G's gradient arrows), losses, D's outputs,
mode coverage over time, and the digits sample grid."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import DIVERGING, PALETTE, empty_figure, figure, image_figure, line_figure, make_figure
from core.charts.training import series
from core.registry import GAN_LOSSES

REAL, FAKE, ARROW = PALETTE[4], PALETTE[6], "#000000"  # green real, purple fake (GAN Lab's colours)
# D's view of the plane: white where D is unsure, the palette's blue where it says "real", orange where "fake";
# the range is [0, 1] for probabilities, and centred on the score where D is undecided for the other losses.
D_SCALE = [[0.0, DIVERGING[0][1]], [0.5, DIVERGING[2][1]], [1.0, PALETTE[0]]]
ARROW_SHARE = 0.12  # the longest arrow is drawn this share of the plane's width


def _arrow_trace(points: np.ndarray, push: np.ndarray, length: float) -> go.Scatter:
    """Segments from each point along its push, scaled together (longest = `length`), with arrow heads."""
    norms = np.linalg.norm(push, axis=1)
    scale = length / norms.max() if len(norms) and norms.max() > 0 else 0.0
    ends = points + push * scale
    xs, ys, sizes = [], [], []
    for (x0, y0), (x1, y1) in zip(points, ends):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        sizes += [0, 9, 0]
    trace = {"type": "scatter", "x": xs, "y": ys, "mode": "lines+markers", "name": "G's gradient (−∂L_G/∂x)"}
    trace["marker"] = {"symbol": "arrow", "angleref": "previous", "size": sizes, "color": ARROW}
    return trace | {"line": {"color": ARROW, "width": 1.3}, "hoverinfo": "skip"}


def plane_figure(view: dict, title: str = "Real and generated samples", arrows: bool = True, height: int = 540):
    """D's output over the plane behind the real (green) and generated (purple) samples.

    view: gan_views() output: grid {xs, ys, value, range, label}, real (N, 2), fake (M, 2),
    arrows {points, push} and, for mixtures, centers (K, 2).
    """
    grid = view["grid"]
    xs, (lo, hi) = grid["xs"], grid["range"]
    colorbar = {"title": {"text": grid["label"], "side": "right"}, "thickness": 14, "len": 0.8}
    heat = {"type": "heatmap", "z": grid["value"], "x": xs, "y": grid["ys"], "zmin": lo, "zmax": hi}
    hover = "x1 %{x:.2f}<br>x2 %{y:.2f}<br>D %{z:.3f}<extra></extra>"
    # White in the middle of the colour scale: where D is undecided.
    traces = [heat | {"colorscale": D_SCALE, "hovertemplate": hover, "colorbar": colorbar}]
    for pts, name, color, opacity in ((view["real"], "real", REAL, 0.8), (view["fake"], "generated", FAKE, 0.9)):
        marker = {"size": 5, "color": color, "opacity": opacity}
        traces.append(
            {"type": "scatter", "x": pts[:, 0], "y": pts[:, 1], "mode": "markers", "name": name, "marker": marker}
        )
    lim = float(xs[-1])
    if arrows and "arrows" in view:
        traces.append(_arrow_trace(view["arrows"]["points"], view["arrows"]["push"], ARROW_SHARE * 2 * lim))
    if "centers" in view:
        c = view["centers"]
        marker = {"symbol": "x-thin", "size": 10, "line": {"width": 2, "color": "#333"}}
        traces.append(
            {"type": "scatter", "x": c[:, 0], "y": c[:, 1], "mode": "markers", "name": "mode centres", "marker": marker}
        )
    axis = {"range": [-lim, lim], "showgrid": False, "constrain": "domain"}
    layout = {
        "title": {"text": title},
        "height": height,
        # The legend goes under the plot: above it, it would cover the title on a square plane.
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.16, "xanchor": "left", "x": 0.0},
        "xaxis": axis | {"title": {"text": "x1"}},
        "yaxis": axis | {"title": {"text": "x2"}, "scaleanchor": "x"},
    }
    return make_figure(traces, layout)


def gan_loss_figure(history: list[dict], title: str = "Losses", height: int = 300) -> go.Figure:
    """Discriminator and generator loss per epoch (epoch means)."""
    lines = {"D loss": series(history, "d_loss"), "G loss": series(history, "g_loss")}
    return line_figure({k: v for k, v in lines.items() if v[0]}, title, "epoch", "loss", height=height)


def d_output_figure(history: list[dict], loss: str, title: str = "D(real) and D(fake)", height: int = 300):
    """Mean D output on real and on generated samples per epoch: a probability or a raw score by loss."""
    prob = GAN_LOSSES[loss].sigmoid
    lines = {"D(real)": series(history, "d_real"), "D(fake)": series(history, "d_fake")}
    fig = line_figure(
        {k: v for k, v in lines.items() if v[0]},
        title,
        "epoch",
        "mean D(x): P(real)" if prob else "mean D(x): score",
        height=height,
    )
    for trace, color in zip(fig.data, (REAL, FAKE)):
        trace.line.color = color
    if prob and fig.data:  # with nothing drawn yet the chart says so alone
        fig.update_yaxes(range=[0, 1.02])
        fig.add_hline(
            y=0.5,
            line=dict(color="#888", dash="dot"),
            annotation_text="0.5: D cannot tell",
            annotation_position="top left",
        )
    return fig


def coverage_figure(history: list[dict], title: str = "Mode coverage", height: int = 300) -> go.Figure:
    """Modes covered (left axis, of K) and the share of high-quality samples (right axis, %) per epoch."""
    fig = figure(title, "epoch", "modes covered", height)
    xs, covered = series(history, "modes_covered")
    if not xs:
        return empty_figure(title, "epoch", "modes covered", height)
    total = history[-1].get("modes_total", max(covered))
    hx, hq = series(history, "high_quality")
    fig.add_trace(go.Scatter(x=xs, y=covered, mode="lines", name="modes covered", line=dict(color=PALETTE[0])))
    fig.add_trace(
        go.Scatter(
            x=hx,
            y=[100 * v for v in hq],
            mode="lines",
            name="high-quality samples",
            yaxis="y2",
            line=dict(color=PALETTE[1]),
        )
    )
    fig.update_yaxes(range=[0, total + 0.5])
    fig.update_layout(
        margin=dict(l=60, r=80, t=50, b=50),  # room for the right axis's ticks and title
        yaxis2=dict(
            title=dict(text="high-quality samples (%)"),
            overlaying="y",
            side="right",
            range=[0, 101],
            tickmode="linear",
            tick0=0,
            dtick=25,
            showgrid=False,
        ),
    )
    return fig


def samples_figure(mosaic: np.ndarray, title: str = "Generated digits (fixed noise)") -> go.Figure:
    """The fixed-noise sample grid as one image."""
    return image_figure(mosaic, title, height=min(520, 80 + mosaic.shape[0]))
