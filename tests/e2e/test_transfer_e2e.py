"""Browser test: the transfer page pretrains, then trains its three modes live."""

import pytest

from tests.e2e.conftest import CHART, IDLE, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e

# JS: the number of points of each trace of the (non-stale) chart titled `title`, or null when it is not drawn.
TRACE_POINTS = f"""(title) => {{
  const el = ({CHART})(title);
  return el ? (el._fullData || []).map(d => d.x ? d.x.length : 0) : null;
}}"""
CURVES = "Test accuracy on the target task"


def test_pretrain_then_play_grows_three_curves(server, page):
    """Pretrain, then Play: the frozen, fine-tune and scratch curves all grow; no exception."""
    open_page(page, f"{server}/transfer?preset=transfer-10-labels")
    page.get_by_role("button", name="Pretrain", exact=True).click()
    read_when(page, TRACE_POINTS, CURVES, timeout=120000)  # pretrained: the modes appear
    page.wait_for_selector(IDLE, timeout=30000)
    assert read_when(page, TRACE_POINTS, CURVES) == [0, 0, 0]  # nothing trained yet
    assert page.get_by_text("source test accuracy").count() >= 1
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"(({TRACE_POINTS})({CURVES!r}) || [0]).every(n => n >= 5)", timeout=60000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    lengths = read_when(page, TRACE_POINTS, CURVES, ok="n => n !== null && n.every(k => k >= 5)")
    # three modes in lockstep: a Pause lands between batches, so one mode may be one epoch behind until Play
    assert len(lengths) == 3 and max(lengths) - min(lengths) <= 1
    assert_no_exception(page)
