"""The Runs page's comparison chart: one metric of several runs overlaid on shared axes."""

from __future__ import annotations

import plotly.graph_objects as go

from core.charts.base import decade_ticks, line_figure


def compare_figure(
    curves: dict[str, tuple[list, list]], metric: str, log_y: bool = False, smoothing: float = 0.0, height: int = 380
) -> go.Figure:
    """One line per run ({run name: (epochs, values)}) for `metric`; non-positive values vanish on a log axis."""
    if log_y:
        curves = {name: _positive(xs, ys) for name, (xs, ys) in curves.items()}
    y_title = metric + (" (log scale)" if log_y else "") + (f", smoothed {smoothing:.2f}" if smoothing else "")
    fig = line_figure(curves, f"{metric} by epoch", "epoch", y_title, log_y=log_y, height=height)
    fig.update_layout(legend=dict(title=dict(text="run")))
    return decade_ticks(fig) if log_y else fig


def _positive(xs: list, ys: list) -> tuple[list, list]:
    pts = [(x, y) for x, y in zip(xs, ys) if y > 0]
    return [p[0] for p in pts], [p[1] for p in pts]
