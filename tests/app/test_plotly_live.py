"""What a live chart sends: whole on a full run, then only what changed, each part with the revision it last changed."""

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
