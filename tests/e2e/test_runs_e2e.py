"""Browser tests: a run trained on the Playground survives a refresh and is listed on the Runs page; two runs compare."""

import re

import pytest

from tests.e2e.conftest import (
    CHART,
    EPOCH,
    IDLE,
    assert_no_exception,
    open_page,
    pause_training,
    read_when,
    rerun_done,
)

pytestmark = pytest.mark.e2e

# JS: the x-lengths of every trace of the (non-stale) Plotly chart titled `title`; null if none.
TRACES_OF = f"""(title) => {{
  const el = ({CHART})(title);
  return el ? (el.data || []).map(d => (d.x || []).length) : null;
}}"""


# JS: the text of the caption under the Runs page's chosen run ("Playground · paused · 3 epochs · ..."), or null.
DETAIL = """() => { const c = Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'))
  .find(e => / · id [0-9a-f]+$/.test(e.innerText.trim()));
  return c ? c.innerText.trim() : null; }"""


def train(page, url: str, epochs: int) -> int:
    """Open a Playground link, Play until `epochs`, Pause; returns the epoch it paused at."""
    open_page(page, url)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({EPOCH})() >= {epochs}", timeout=90000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    page.wait_for_timeout(500)  # the job leaves its loop and flushes to the store after the script goes idle
    return read_when(page, EPOCH)


def test_a_trained_run_survives_a_refresh_and_is_listed(fresh_server, page):
    """Train, refresh: the same run is re-attached; the Runs page lists it as a Playground run."""
    epoch = train(page, f"{fresh_server}/playground?preset=tfp-default", 3)
    assert "run=" in page.url
    page.reload()
    page.wait_for_selector(IDLE, timeout=60000)
    page.wait_for_function(f"({EPOCH})() >= {epoch}", timeout=60000)  # re-attached, not a fresh network
    open_page(page, f"{fresh_server}/runs")
    page.wait_for_selector("text=/[1-9][0-9]* of [1-9][0-9]* runs shown/", timeout=30000)
    page.get_by_role("tab", name="Manage").click()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").click()
    option = page.get_by_role("option").filter(has_text=re.compile(r"^tfp-default \([0-9a-f]{6}\)$"))
    assert option.count() >= 1
    rerun_done(page, option.first.click)
    detail = read_when(page, DETAIL)
    assert re.match(r"Playground · paused · \d+ epochs · ", detail), detail
    assert_no_exception(page)


def test_compare_two_runs_shows_both_curves(fresh_server, page):
    """Two Playground runs with different learning rates: the Compare tab overlays both loss curves."""
    # Both trained here (another process may run this module's other tests), on another lesson than the refresh
    # test's, whose pick by name must find its own paused run.
    for lr in (0.1, 0.03):
        train(page, f"{fresh_server}/playground?preset=spiral-relu&train.lr={lr}", 3)
    open_page(page, f"{fresh_server}/runs")
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Runs to compare")
    for _ in range(2):
        box.locator("input").click()
        page.get_by_role("option").first.click()
        page.keyboard.press("Escape")
        page.wait_for_selector(IDLE, timeout=30000)
    lengths = read_when(page, TRACES_OF, "loss by epoch")
    assert len(lengths) >= 2 and min(lengths) >= 3  # both picked (a run the module's other test trained may show)
    page.wait_for_selector("text=Settings that differ", timeout=10000)
    assert_no_exception(page)
