"""Transfer-learning charts: the three modes' accuracy on shared axes, accuracy against labels per class,
and the network drawn layer by layer with its frozen layers marked."""

from __future__ import annotations

import plotly.graph_objects as go

from core.charts.base import PALETTE, figure, line_figure

MODE_LABELS = {"frozen": "frozen body", "finetune": "fine-tune", "scratch": "from scratch"}
MODE_COLORS = {"frozen": PALETTE[0], "finetune": PALETTE[4], "scratch": PALETTE[1]}
# What a layer is in a run: code -> (legend label, colour, the word in its box: colour is never the only cue)
LAYER_STATES = {
    0: ("no parameters", "#eeeeee", ""),
    1: ("frozen: pretrained, not trained", MODE_COLORS["frozen"], "frozen"),
    2: ("tuned: pretrained, trained", MODE_COLORS["finetune"], "tuned"),
    3: ("random: random start, trained", MODE_COLORS["scratch"], "random"),
}


def modes_accuracy_figure(
    series: dict[str, tuple[list, list]], title: str = "Test accuracy on the target task", height: int = 360
) -> go.Figure:
    """One test-accuracy curve (fraction, drawn in %) per mode against epochs, on one pair of axes."""
    lines = {MODE_LABELS.get(m, m): (xs, [100 * y for y in ys]) for m, (xs, ys) in series.items()}
    fig = line_figure(lines, title, "epoch", "test accuracy (%)", height=height)
    for trace, mode in zip(fig.data, series):
        trace.line.color = MODE_COLORS.get(mode)
        if len(trace.x) <= 2:
            trace.mode = "lines+markers"
    fig.update_yaxes(range=[0, 101])
    return fig


def sweep_figure(points: list[dict], title: str = "Accuracy against labelled examples", height: int = 380) -> go.Figure:
    """Final test accuracy of each mode against labelled examples per class (log axis), one point per run."""
    fig = figure(title, "labelled examples per class (log scale)", "test accuracy (%)", height)
    pts = sorted(points, key=lambda p: p["per_class"])
    xs = [p["per_class"] for p in pts]
    text = ["all" if p["labels_per_class"] == 0 else str(p["labels_per_class"]) for p in pts]
    for mode, label in MODE_LABELS.items():
        key = f"{mode}_test_accuracy"
        ys = [100 * p[key] for p in pts if key in p]
        if ys:
            fig.add_trace(
                go.Scatter(
                    x=xs, y=ys, text=text, mode="lines+markers", name=label, line=dict(color=MODE_COLORS[mode]),
                    hovertemplate="%{text} per class: %{y:.1f} %",
                )
            )  # fmt: skip
    fig.update_xaxes(type="log")
    fig.update_yaxes(range=[0, 101])
    return fig


def layer_state(row: dict) -> int:
    """A layer row (from the views) -> its LAYER_STATES code."""
    if not row["params"]:
        return 0
    if row["frozen"]:
        return 1
    return 2 if row["pretrained"] else 3


ROW_PX = 30  # px per layer: its one-line name (13 px) stands clear of the next at any layer count


def architecture_figure(runs: dict[str, list[dict]], title: str = "The network in each mode") -> go.Figure:
    """One column of boxes per mode and one row per layer, input at the top; a box is coloured and named by what
    training does to that layer.

    The layers run down the chart, named once at the left: the chart grows by a row per layer and its width only
    decides the columns' width, so no name runs into another for any layer count or window width (laid across,
    a box's text had a 15th of the chart's width and ran into its neighbours at 1024 px).
    """
    modes = list(runs)
    rows = max(runs.values(), key=len, default=[])
    n = len(rows)
    z = [[layer_state(r[i]) if i < len(r) else None for r in runs.values()] for i in range(n)]
    text = [[LAYER_STATES[c][2] if c is not None else "" for c in line] for line in z]
    hover = [[f"{r[i]['text']}: {r[i]['params']:,} parameters" if i < len(r) else "" for r in runs.values()]
             for i in range(n)]  # fmt: skip
    fig = figure(title, "mode", "layer (input → output)", height=150 + ROW_PX * n)
    codes = sorted(LAYER_STATES)
    scale = []
    for i, c in enumerate(codes):  # one flat colour band per code
        scale += [[i / len(codes), LAYER_STATES[c][1]], [(i + 1) / len(codes), LAYER_STATES[c][1]]]
    ys = list(range(1, n + 1))  # numbers, not names: two layers with the same name ("ReLU") keep two rows
    fig.add_trace(
        go.Heatmap(
            z=z, x=[MODE_LABELS.get(m, m) for m in modes], y=ys, text=text, texttemplate="%{text}",
            textfont=dict(size=13), customdata=hover, zmin=-0.5, zmax=len(codes) - 0.5, colorscale=scale,
            showscale=False, xgap=6, ygap=3, hovertemplate="%{customdata}<extra>%{x}</extra>",
        )
    )  # fmt: skip
    for c in codes[1:]:  # legend entries for the colours
        label, color, _ = LAYER_STATES[c]
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=label, marker=dict(color=color, symbol="square", size=14)
            )
        )
    names = [f"{i}. {row['text']}" for i, row in enumerate(rows, 1)]
    fig.update_yaxes(autorange="reversed", showgrid=False, tickvals=ys, ticktext=names, tickfont=dict(size=13))
    fig.update_xaxes(showgrid=False)
    return fig
