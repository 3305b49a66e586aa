"""Browser tests: live charts redraw in place while a page trains (no blank, faded or duplicated chart)."""

from pathlib import Path

import pytest

from tests.e2e.conftest import IDLE, POINTS_OF, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e

PROBE_JS = (Path(__file__).parent / "live_probe.js").read_text()
# JS: the Plotly element (DOM node) of the chart titled `title`, stale or not.
NODE = """(title) => Array.from(document.querySelectorAll('.js-plotly-plot'))
  .find(el => el.layout && el.layout.title && el.layout.title.text.replace(/<[^>]+>/g, '') === title)"""


def test_playground_frames_are_clean_while_training(server, page):
    """While the Playground trains, >= 99 % of animation frames show every chart once and no chart is replaced."""
    open_page(page, f"{server}/playground?preset=tfp-default")
    page.wait_for_function(f"({POINTS_OF})('Loss') >= 0", timeout=30000)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Loss') >= 3", timeout=60000)
    page.add_script_tag(content=PROBE_JS)
    charts = page.evaluate("window.__liveProbe.start('Loss')")
    assert charts == 6  # decision surface, network diagram, loss, gradient norm, accuracy, learning rate
    points_before = read_when(page, POINTS_OF, "Loss")
    page.wait_for_timeout(5000)
    res = page.evaluate("window.__liveProbe.stop()")
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    assert res["redraws"] >= 2, res  # the charts did change while sampled
    # the curve grew (read once the chart is not mid-redraw: POINTS_OF skips a stale one)
    page.wait_for_function(f"({POINTS_OF})('Loss') > {points_before}", timeout=30000)
    assert res["frames"] >= 20, res
    assert res["clean"] >= 0.99 * res["frames"], res
    assert res["dup"] == 0, res
    assert res["new_nodes"] == 0, res  # every chart kept its DOM node
    assert_no_exception(page)


def test_zoomed_chart_stays_zoomed_across_redraws(server, page):
    """Drag-zoom the loss chart while training: later redraws add points but keep the zoom and the same node."""
    open_page(page, f"{server}/playground?preset=tfp-default")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Loss') >= 5", timeout=60000)
    page.evaluate(f"({NODE})('Loss').__marked = true")
    box = page.evaluate(  # the loss chart's plot area
        f"""() => {{ const el = ({NODE})('Loss');
                    el.scrollIntoView({{block: 'center'}});
                    const r = el.querySelector('.nsewdrag').getBoundingClientRect();
                    return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }}"""
    )
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.3, y0 + box["height"] * 0.3, steps=8)
    page.mouse.up()
    zoomed = page.evaluate(f"({NODE})('Loss')._fullLayout.xaxis.range.slice()")
    points = read_when(page, POINTS_OF, "Loss")
    page.wait_for_function(f"({POINTS_OF})('Loss') >= {points + 3}", timeout=60000)  # several redraws later
    el_same = page.evaluate(f"({NODE})('Loss').__marked === true")
    now = page.evaluate(f"({NODE})('Loss')._fullLayout.xaxis.range.slice()")
    # The zoom is Plotly's, kept across redraws by uirevision; the chart's own copy of the server's layout
    # must not take it in, or the next layout the server sends (new log ticks, a note) drops the zoom.
    held = page.evaluate(
        f"(() => {{ const el = ({NODE})('Loss'); return window.__plotlyLive[el.dataset.chart].layout; }})()"
    )
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    assert el_same
    assert now == pytest.approx(zoomed)
    assert "range" not in held["xaxis"] and "range" not in held["yaxis"], held["xaxis"]
    assert_no_exception(page)
