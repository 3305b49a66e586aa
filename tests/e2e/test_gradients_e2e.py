"""Browser test: the Gradient lab trains A and B side by side."""

import pytest

from tests.e2e.conftest import IDLE, POINTS_OF, assert_no_exception, open_page, pause_training

pytestmark = pytest.mark.e2e


def test_ab_play_updates_both_sides(server, page):
    """Open a fix lesson, press Play: both gradient charts gain points, no exception."""
    open_page(page, f"{server}/gradients?preset=fix-relu-he")
    for side in "AB":
        page.wait_for_function(f"({POINTS_OF})('{side}: gradient norm per layer') >= 0", timeout=30000)
    page.get_by_role("button", name="Play").click()
    for side in "AB":
        page.wait_for_function(f"({POINTS_OF})('{side}: gradient norm per layer') >= 5", timeout=90000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    # lockstep: both sides have trained the same epochs (waits out the redraw that follows Pause)
    page.wait_for_function(
        f"(({POINTS_OF})('A: gradient norm per layer') >= 5) && "
        f"(({POINTS_OF})('A: gradient norm per layer') === ({POINTS_OF})('B: gradient norm per layer'))",
        timeout=30000,
    )
    assert_no_exception(page)
