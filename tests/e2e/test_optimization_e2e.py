"""Browser test: the Optimization page's race grows its paths in place; backpropagation steps layer by layer."""

import pytest

from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e

STEPS = 200  # opt-race-ravine's step budget
# JS: the race contour chart (a live chart keeps this one node across redraws).
RACE = "() => document.querySelector('.plotly-live[data-chart=\"opt.race_c\"]')"
# JS: the number of points of each optimiser's path on the contour chart (-1 before it is drawn).
PATHS = f"""() => {{
  const el = ({RACE})();
  if (!el || !el.data) return [-1];
  return el.data.filter(t => t.type === 'scatter' && !['start', 'minimum'].includes(t.name)).map(t => t.x.length);
}}"""
# JS: record every distinct length of the first path, and whether the chart's node was ever replaced.
WATCH = f"""() => {{
  const el = ({RACE})();
  el.__marked = true;
  window.__raceSeen = [];
  window.__raceSwapped = false;
  const t = setInterval(() => {{
    const now = ({RACE})();
    if (!now || !now.__marked) window.__raceSwapped = true;
    const n = ({PATHS})()[0];
    if (n !== window.__raceSeen[window.__raceSeen.length - 1]) window.__raceSeen.push(n);
    if (n === {STEPS + 1}) clearInterval(t);
  }}, 20);
}}"""
# JS: the value of the "Show step" slider.
SHOW_STEP = """() => {
  const s = Array.from(document.querySelectorAll('[data-testid="stSlider"]')).find(e => e.innerText.startsWith('Show step'));
  const v = s && s.querySelector('[data-testid="stSliderThumbValue"]');
  return v ? v.innerText : null;
}"""
# JS: the title of the Plotly chart whose title starts with `start` ('' if none).
TITLE = """(start) => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const t = el.layout && el.layout.title && el.layout.title.text;
    if (t && t.replace(/<[^>]+>/g, '').startsWith(start)) return t.replace(/<[^>]+>/g, '');
  }
  return '';
}"""


def test_race_paths_grow_in_place_and_backprop_steps(server, page):
    """Run race: each path grows over many redraws of one chart node to the full budget; Next steps backprop back."""
    open_page(page, f"{server}/optimization?preset=opt-race-ravine")
    page.wait_for_function(f"({PATHS})().length === 4 && ({PATHS})().every(n => n === 1)", timeout=60000)
    page.evaluate(WATCH)
    page.get_by_role("button", name="Run race").click()
    page.wait_for_function(f"({PATHS})().every(n => n === {STEPS + 1})", timeout=60000)
    seen = page.evaluate("window.__raceSeen")
    assert len([n for n in seen if 1 < n < STEPS + 1]) >= 5, seen  # drawn in frames, not in one jump
    assert seen == sorted(seen), seen  # the paths only grow
    assert not page.evaluate("window.__raceSwapped")  # the same chart node throughout: updated in place
    page.wait_for_function(f"({SHOW_STEP})() === '{STEPS}'", timeout=30000)  # then the slider shows the end

    page.get_by_text("Backpropagation", exact=True).click()
    page.wait_for_function(f"({TITLE})('One example, forward pass') !== ''", timeout=60000)
    page.get_by_role("button", name="Next").click()
    page.wait_for_function(f"({TITLE})('One example').includes('backward: 1 of')", timeout=30000)
    page.get_by_role("button", name="Next").click()
    page.wait_for_function(f"({TITLE})('One example').includes('backward: 2 of')", timeout=30000)
    page.get_by_role("button", name="Back").click()
    page.wait_for_function(f"({TITLE})('One example').includes('backward: 1 of')", timeout=30000)
    assert_no_exception(page)
