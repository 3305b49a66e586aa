"""Browser test: no chart, metric, label or widget value on any page has text that overlaps or is cut, at a
projector's 1500 px and a laptop's 1024 px, in normal and presentation mode, before and while training.

Generic over ui/pages.py: a page added there is measured without new code.
"""

from pathlib import Path

import pytest

from core.charts.base import NOTHING_YET
from core.charts.transfer import architecture_figure
from core.models.cnn import plan
from core.presets import list_presets, load_preset
from core.runs import side_titles
from core.spec import LIMITS, MAX_CONV_LAYERS, LayerSpec, to_dict
from core.store import Store
from core.transfer import MODES
from tests.e2e import server as server_process
from tests.e2e.conftest import IDLE, assert_no_exception, open_page, rerun_done
from ui.pages import PAGES
from ui.plotly_live import PLOTLY_JS

pytestmark = pytest.mark.e2e

MEASURE = (Path(__file__).parent / "textboxes.js").read_text()
WIDTHS = (1500, 1024)
# JS: every live chart on the page has been drawn at least `n` times since it was mounted.
DRAWN = """(n) => { const c = Array.from(document.querySelectorAll('.plotly-live'));
  return c.length > 0 && c.every(e => (e.__renders || 0) >= n); }"""
# JS: every chart on screen is drawn at its box's width (a resize is redrawn on the observer's next frame).
SETTLED = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(e =>
  !e._fullLayout || e.clientWidth === 0 || Math.abs(e._fullLayout.width - e.clientWidth) <= 2)"""
# JS: the page's epoch counter (the first metric whose label starts with "Epoch"), or -1.
EPOCH = """() => { const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
  .find(e => /^(\\w: )?epoch/i.test(e.innerText));
  return m ? parseFloat(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')) : -1; }"""

# JS: the live charts that still say nothing is trained (their note's first words; Plotly may wrap it).
WAITING = f"""() => Array.from(document.querySelectorAll('.plotly-live')).filter(e =>
  Array.from(e.querySelectorAll('.annotation-text')).some(a => a.textContent.startsWith({NOTHING_YET[:19]!r})))
  .map(e => e.dataset.chart)"""


def key(problem: dict) -> tuple:
    return problem["kind"], problem["where"], problem["a"], problem["b"]


def measure(page, when: str, seen: dict) -> list[str]:
    """The problems on the page at each width (the charts resize in place), as lines naming chart and texts.

    `seen` counts the charts measured and the charts with a problem, per width and moment.
    """
    lines = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_function(SETTLED, timeout=30000)
        if "while training" in when:
            try:  # the first epoch's points replace every "nothing trained yet" note, at every width
                page.wait_for_function(f"({WAITING})().length === 0", timeout=20000)
            except Exception:  # noqa: BLE001 (a timeout: name the charts)
                lines.append(f"{width}px {when}: charts still say nothing is trained: {page.evaluate(WAITING)}")
        found = page.evaluate(MEASURE)
        # What a reader sees stays: a chart is redrawn once when its text did not fit, and live data moves.
        page.wait_for_timeout(500)
        again = {key(p) for p in page.evaluate(MEASURE)["problems"]}
        found["problems"] = [p for p in found["problems"] if key(p) in again]
        seen["charts"] += found["charts"]
        seen["bad"] += len({p["where"] for p in found["problems"] if p["kind"] != "ellipsis"})
        for p in found["problems"]:
            seen[p["kind"]] = seen.get(p["kind"], 0) + 1
        lines += [f"{width}px {when}: {p['kind']} in {p['where']}: {p['a']!r} / {p['b']!r}" for p in found["problems"]]
    page.set_viewport_size({"width": WIDTHS[0], "height": 1000})
    return lines


# JS: the page's base font size (presentation mode enlarges it).
FONT = "() => getComputedStyle(document.documentElement).fontSize"


def open_expanders(page) -> None:
    """Open every closed group of controls (an expander's content is measured only when it is open)."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    for _ in range(closed.count()):
        closed.first.click()


def presentation(page, on: bool, normal_font: str, training: bool = False) -> None:
    """Turn presentation mode on or off with the sidebar's toggle, as a teacher does (presenting collapses the
    sidebar, as a `?present=1` link opens it), and wait until the page is drawn in that mode: while training,
    the live view's own reruns would pass for the toggle's, so the sign that the toggle's run is drawn is the font."""
    if not on:
        page.locator('[data-testid="stExpandSidebarButton"]').click()
    toggle = page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode", exact=True)
    toggle.click()
    page.wait_for_function(f"f => ({FONT})() {'!==' if on else '==='} f", arg=normal_font, timeout=60000)
    if not training:  # a page that trains may redraw back to back on a loaded server: the charts' own waits follow
        page.wait_for_selector(IDLE, timeout=60000)
    if on:
        page.locator('[data-testid="stExpandSidebarButton"]').wait_for(timeout=10000)


def run_specs(preset) -> list[dict]:
    other = preset.compare_spec(preset.spec)
    return [to_dict(s) for s in ([other] if other is not None else []) + [preset.spec]]


def run_titles(preset) -> list[str]:
    """The names a Job gives the runs of a lesson (one per side)."""
    return side_titles(preset.name, run_specs(preset))


def seeded_runs(folder: Path) -> None:
    """A run store holding a run of every lesson (both sides of a side-by-side one, named as a Job names them),
    paused before its first epoch: the Runs page's longest names and every page."""
    store = Store(folder / "runs.sqlite")
    for preset in list_presets():
        for spec, title in zip(run_specs(preset), run_titles(preset)):
            store.create_run(spec, preset.page, title, status="paused")
    store.close()


def longest_run_name() -> str:
    return max((t for p in list_presets() for t in run_titles(p)), key=len)


def pick_two_runs(page) -> None:
    """In the Runs page's Compare tab, the two sides of the side-by-side lesson with the longest run name."""
    lesson = longest_run_name().split(" · ")[0]
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Runs to compare")
    for _ in range(2):
        box.locator("input").fill(lesson)
        rerun_done(page, page.get_by_role("option").filter(has_text=lesson).first.click)
        page.keyboard.press("Escape")
    page.wait_for_selector("text=Settings that differ", timeout=30000)


def manage_longest_run(page) -> None:
    """Open the Runs page's Manage tab on the run with the longest name (its box, name field and detail)."""
    page.get_by_role("tab", name="Manage").click()
    name = longest_run_name()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").locator("input").fill(name)
    rerun_done(page, page.get_by_role("option").filter(has_text=name).first.click)
    page.locator('[data-testid="stTextInput"] input').first.wait_for(timeout=30000)


@pytest.fixture(scope="module")
def runs_server(tmp_path_factory):
    """A server whose run store holds a run of every lesson (for the Runs page)."""
    folder = tmp_path_factory.mktemp("runs")
    seeded_runs(folder)
    proc, url = server_process.start(env={"PLAYGROUND_DATA": str(folder)})
    try:
        yield url
    finally:
        server_process.stop(proc)


@pytest.mark.parametrize("info", PAGES, ids=[p.name for p in PAGES])
def test_no_text_overlaps_or_is_cut(request, browser, info):
    """Every chart's text boxes are apart and inside the chart; no metric, caption, button or widget value is cut,
    before and while training, in normal then presentation mode (one tab: the training goes on across the
    switch)."""
    server = request.getfixturevalue("server" if info.trains else "runs_server")
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 1000})
    page = context.new_page()
    seen = {"charts": 0, "bad": 0}
    try:
        open_page(page, f"{server}/{info.name}")
        if page.locator(".plotly-live").count():
            page.wait_for_function(f"({DRAWN})(1)", timeout=30000)
        if not info.trains:
            pick_two_runs(page)
        open_expanders(page)
        problems = measure(page, "before training", seen)
        if not info.trains:
            manage_longest_run(page)
            problems += measure(page, "Manage tab", seen)
        normal_font = page.evaluate(FONT)
        presentation(page, True, normal_font)
        problems += measure(page, "before training, presenting", seen)
        if not info.trains:
            page.get_by_role("tab", name="Compare").click()
            problems += measure(page, "Compare tab, presenting", seen)
        if info.trains:
            play = page.get_by_role("button", name="Play", exact=True)
            if not play.count():  # a step the page asks for first (Transfer learning: Pretrain)
                page.locator('[data-testid="stBaseButton-primary"]').first.click()
            play.first.click(timeout=300000)
            page.wait_for_function(f"({EPOCH})() >= 1", timeout=120000)
            page.wait_for_function(f"({DRAWN})(2)", timeout=30000)
            problems += measure(page, "while training, presenting", seen)
            presentation(page, False, normal_font, training=True)
            problems += measure(page, "while training", seen)
        assert_no_exception(page)
    finally:
        context.close()
    kinds = ", ".join(f"{seen.get(k, 0)} {k}" for k in ("overlap", "cut", "ellipsis"))
    head = f"{kinds}; {seen['bad']} of {seen['charts']} charts (summed over widths and moments):"
    assert not problems, head + "\n" + "\n".join(problems[:60])


def largest_network_rows() -> dict[str, list[dict]]:
    """The transfer page's longest network with its longest layer names (every conv at the widest limits), as the
    page's views give it for each mode."""
    hi = {k: LIMITS[f"model.layers.{k}"].hi for k in ("size", "kernel", "padding", "p")}
    conv = LayerSpec(type="conv", size=int(hi["size"]), kernel=int(hi["kernel"]), stride=1, padding=int(hi["padding"]))
    block = (
        conv,
        LayerSpec(type="batchnorm"),
        LayerSpec(type="act", name="leaky_relu"),
        LayerSpec(type="dropout", p=hi["p"]),
    )
    spec = load_preset("transfer-glyphs").spec.with_(**{"model.layers": block * MAX_CONV_LAYERS})
    steps = plan(spec)
    return {
        mode: [
            {
                "kind": s.kind, "text": s.text, "params": s.params,
                "frozen": mode == "frozen" and s.kind != "output" and s.params > 0,
                "pretrained": mode != "scratch" and s.kind != "output" and s.params > 0,
            }
            for s in steps
        ]
        for mode in MODES
    }  # fmt: skip


@pytest.mark.parametrize("width", [560, 1400])
def test_the_largest_transfer_network_is_drawn_apart(browser, width):
    """Every layer name and box word of the largest network the transfer page builds stands apart, in a chart as
    wide as the page gives it at 1024 px (560 px) and presenting at 1500 px."""
    fig = architecture_figure(largest_network_rows()).update_layout(title=None, showlegend=False)
    context = browser.new_context(viewport={"width": width + 40, "height": 1000})
    page = context.new_page()
    try:
        page.set_content(f'<div id="c" style="width:{width}px; height:{fig.layout.height}px"></div>')
        page.add_script_tag(path=str(PLOTLY_JS))
        page.evaluate("f => Plotly.newPlot('c', f.data, f.layout)", fig.to_plotly_json())
        found = page.evaluate(MEASURE)
    finally:
        context.close()
    assert found["charts"] == 1
    assert not found["problems"], found["problems"][:20]
