"""Browser test: the GAN page trains live in a real browser."""

import pytest

from tests.e2e.conftest import (
    CHART,
    IDLE,
    POINTS_OF,
    assert_no_exception,
    open_page,
    pause_training,
    read_when,
    rerun_done,
)

pytestmark = pytest.mark.e2e

# The generated samples (trace "generated") of the plane chart, as one string that changes when they move.
FAKES = f"""() => {{
  const el = ({CHART})('Real and generated samples');
  const tr = el && (el._fullData || []).find(d => d.name === 'generated');  // decoded arrays (data holds base64)
  return tr ? Array.from(tr.x).slice(0, 20).join(',') : '';
}}"""


def test_play_moves_samples_and_grows_loss_chart(server, page):
    """Open the GAN page, press Play: the loss curve grows, the fake samples move, no exception."""
    open_page(page, f"{server}/gan?preset=gan-ring")
    assert read_when(page, POINTS_OF, "Losses") == 0  # nothing trained yet
    before = drawn_fakes(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Losses') >= 5", timeout=60000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    read_when(page, FAKES, ok=f"v => v !== '' && v !== {before!r}")
    # the page redraws once more after Pause: wait for the chart rather than read it mid-redraw
    page.wait_for_function(f"({POINTS_OF})('Mode coverage') >= 5", timeout=30000)
    assert_no_exception(page)


def drawn_fakes(page) -> str:
    """The generated samples once the chart is drawn."""
    return read_when(page, FAKES, ok="v => v !== ''")


def test_slow_motion_g_step_moves_samples(server, page):
    """A G step while paused moves the generated samples; a D step leaves them where they are."""
    open_page(page, f"{server}/gan?preset=gan-ring")
    before = drawn_fakes(page)
    rerun_done(page, page.get_by_role("button", name="D step", exact=True).click)
    assert drawn_fakes(page) == before
    page.get_by_role("button", name="G step", exact=True).click()
    read_when(page, FAKES, ok=f"v => v !== '' && v !== {before!r}")
    assert_no_exception(page)


def test_digits_grid_shows(server, page):
    """The digits preset shows the generated-digits image and trains one epoch with Step."""
    open_page(page, f"{server}/gan?preset=gan-digits")
    page.wait_for_function(f"({POINTS_OF})('Generated digits (fixed noise)') >= 0", timeout=30000)
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(f"({POINTS_OF})('Losses') >= 1", timeout=60000)
    assert_no_exception(page)
