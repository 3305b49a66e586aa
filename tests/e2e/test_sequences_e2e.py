"""Browser test: the Sequences page trains an RNN and an LSTM side by side."""

import pytest

from tests.e2e.conftest import CHART, IDLE, POINTS_OF, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e

# JS: rows (epochs) of the (non-stale) heatmap titled `title`; -1 if there is no such chart.
ROWS_OF = f"""(title) => {{
  const el = ({CHART})(title);
  if (!el) return -1;
  const tr = (el._fullData || [])[0];
  return tr && tr.y ? tr.y.length : 0;
}}"""
# JS: the number of lines on the (non-stale) chart titled `title`.
TRACES_OF = f"""(title) => {{ const el = ({CHART})(title); return el ? (el.data || []).length : -1; }}"""
A, B = "A: RNN (tanh): gradient through time", "B: LSTM: gradient through time"


def test_side_by_side_trains_in_lockstep(server, page):
    """RNN vs LSTM on a short adding problem: Play grows both runs' curves and heatmaps equally, no exception."""
    open_page(
        page,
        f"{server}/sequences?data.name=adding&seq.length=20&data.n=400&seq.cell=rnn_tanh"
        "&b.data.name=adding&b.seq.length=20&b.data.n=400&b.seq.cell=lstm",
    )
    read_when(page, POINTS_OF, "Validation loss")
    assert read_when(page, ROWS_OF, A) == 0 and read_when(page, ROWS_OF, B) == 0  # nothing trained yet
    page.get_by_role("button", name="Play").click()
    for title in (A, B):
        page.wait_for_function(f"({ROWS_OF})({title!r}) >= 3", timeout=90000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    # lockstep: both runs have trained the same epochs (waits out the redraw that follows Pause)
    page.wait_for_function(f"(({ROWS_OF})({A!r}) >= 3) && (({ROWS_OF})({A!r}) === ({ROWS_OF})({B!r}))", timeout=30000)
    # read once the charts are not mid-redraw (POINTS_OF and TRACES_OF skip a chart that is being redrawn)
    page.wait_for_function(f"({POINTS_OF})('Validation loss') >= 3", timeout=30000)
    page.wait_for_function(f"({TRACES_OF})('Gradient through time') === 2", timeout=30000)  # one line per run
    assert_no_exception(page)


def test_inside_view_draws_gates(server, page):
    """Inside the network: after one Step the LSTM's gate chart is drawn, no exception."""
    open_page(page, f"{server}/sequences?data.name=adding&seq.length=20&data.n=400&seq.cell=lstm")
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"({POINTS_OF})('Validation loss') >= 1", timeout=60000)
    page.get_by_text("Inside the network").click()
    page.wait_for_function(f"({TRACES_OF})('A: LSTM: gates, recomputed from the weights') === 3", timeout=30000)
    assert_no_exception(page)
