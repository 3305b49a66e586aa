"""Transfer-learning charts: the three modes' accuracy on shared axes, accuracy against labels per class,
and the network drawn layer by layer with its frozen layers marked."""

from __future__ import annotations

import plotly.graph_objects as go

from core.charts.base import PALETTE, figure, line_figure

MODE_LABELS = {"frozen": "frozen body", "finetune": "fine-tune", "scratch": "from scratch"}
MODE_COLORS = {"frozen": PALETTE[0], "finetune": PALETTE[4], "scratch": PALETTE[1]}
# What a layer is in a run: code -> (legend label, colour)
LAYER_STATES = {
    0: ("no parameters", "#eeeeee"),
    1: ("frozen (pretrained, not trained)", "#7f8fa6"),
    2: ("pretrained, trained", PALETTE[4]),
    3: ("random start, trained", PALETTE[1]),
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


def _short_lines(text: str, width: int = 9) -> str:
    """A layer's description in lines of at most `width` characters (a word longer stays whole), so it fits a
    box of a narrow chart: "conv 16 filters 3x3, stride 1" -> "conv 16<br>filters<br>3x3<br>stride 1"."""
    lines: list[str] = []
    for word in text.replace(",", "").split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def architecture_figure(runs: dict[str, list[dict]], title: str = "The network in each mode") -> go.Figure:
    """One row of boxes per mode, input on the left; each box is a layer, coloured by what training does to it."""
    modes = list(runs)
    n = max((len(r) for r in runs.values()), default=0)
    z = [[layer_state(row) for row in runs[m]] + [None] * (n - len(runs[m])) for m in modes]
    text = [[_short_lines(row["text"]) for row in runs[m]] + [""] * (n - len(runs[m])) for m in modes]
    fig = figure(title, "layer (input → output)", "mode", height=120 + 90 * len(modes))
    codes = sorted(LAYER_STATES)
    scale = []
    for i, c in enumerate(codes):  # one flat colour band per code
        scale += [[i / len(codes), LAYER_STATES[c][1]], [(i + 1) / len(codes), LAYER_STATES[c][1]]]
    fig.add_trace(
        go.Heatmap(
            z=z, x=list(range(1, n + 1)), y=[MODE_LABELS.get(m, m) for m in modes], text=text,
            texttemplate="%{text}", textfont=dict(size=11), zmin=-0.5, zmax=len(codes) - 0.5,
            colorscale=scale, showscale=False, xgap=4, ygap=8, hoverinfo="text",
        )
    )  # fmt: skip
    for c in codes[1:]:  # legend entries for the colours
        label, color = LAYER_STATES[c]
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=label, marker=dict(color=color, symbol="square", size=14)
            )
        )
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(dtick=1, showgrid=False)
    return fig
