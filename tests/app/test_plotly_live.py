"""What a live chart sends: whole on a full run, then only what changed, each part with the revision it last changed."""

import base64
import json

from core.charts.base import make_figure
from ui.plotly_live import live_payload


def figure(points: list, title: str = "Loss"):
    static = {"type": "scatter", "x": [0, 1], "y": [1, 0], "name": "target"}
    return make_figure(
        [static, {"type": "scatter", "x": list(range(len(points))), "y": points}], {"title": {"text": title}}
    )


def test_a_redraw_sends_only_the_changed_trace_and_says_since_when_the_rest_is_unchanged():
    sent = {}
    first = json.loads(live_payload(figure([1.0]), "k", sent, diff=True))
    assert first["full"] and first["rev"] == 1 and first["since"] == [1, 1, 1]
    assert first["traces"][1]["y"] == [1.0] and first["layout"]["title"]["text"] == "Loss"
    second = json.loads(live_payload(figure([1.0, 0.5]), "k", sent, diff=True))
    assert not second["full"] and second["rev"] == 2
    assert second["traces"][0] is None and second["traces"][1]["y"] == [1.0, 0.5] and second["layout"] is None
    assert second["since"] == [1, 2, 1]  # the static trace and the layout: unchanged since the first payload
    third = json.loads(live_payload(figure([1.0, 0.5], title="Loss!"), "k", sent, diff=True))
    assert third["traces"] == [None, None] and third["layout"]["title"]["text"] == "Loss!"
    assert third["since"] == [1, 2, 3]
    again = json.loads(live_payload(figure([1.0, 0.5], title="Loss!"), "k", sent, diff=False))  # a full script run
    assert again["full"] and again["since"] == [4, 4, 4] and again["traces"][0]["name"] == "target"


def test_a_figure_is_sent_as_plotly_itself_would_write_it():
    """What the browser gets for a go.Figure (NumPy arrays, NaN, traces added and axes changed after it was built)
    reads the same as Plotly's own `to_plotly_json`."""
    import numpy as np

    from core.charts.base import line_figure
    from ui.plotly_live import figure_json

    grid = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    fig = make_figure([{"type": "heatmap", "z": grid, "x": np.arange(4), "y": [0.5, float("nan"), 2.0]}], {})
    fig.add_trace({"type": "scatter", "x": np.array([1, 2, 3]), "y": [1.0, float("inf"), 3.0], "mode": "lines"})
    fig.update_yaxes(range=[0, 2]).add_hline(y=1.0)
    line = line_figure({"train": ([1, 2, 3], [1.0, 0.1, 0.01])}, "Loss", "epoch", "loss", log_y=True)

    def values(o):  # typed arrays ({dtype, bdata[, shape]}) as the numbers they hold
        if isinstance(o, dict) and "bdata" in o:
            a = np.frombuffer(base64.b64decode(o["bdata"]), dtype=np.dtype(o["dtype"]))
            return a.reshape([int(n) for n in o["shape"].split(",")] if "shape" in o else -1).tolist()
        if isinstance(o, dict):
            return {k: values(v) for k, v in o.items()}
        return [values(v) for v in o] if isinstance(o, list) else o

    for f in (fig, line):
        traces, layout = figure_json(f)
        want_traces, want_layout = figure_json(f.to_plotly_json())
        assert [values(json.loads(t)) for t in traces] == [values(json.loads(t)) for t in want_traces]
        assert json.loads(layout) == json.loads(want_layout)
    assert json.loads(figure_json(fig)[1])["shapes"][0]["y0"] == 1.0  # what was changed after building is sent
