"""Browser test: the Playground trains live in a real browser."""

import pytest

from tests.e2e.conftest import EPOCH, IDLE, POINTS_OF, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e


def test_play_grows_loss_chart(server, page):
    """Open the Playground, press Play: the loss curve gains points, the epoch counter moves, no exception."""
    open_page(page, f"{server}/playground")
    assert read_when(page, POINTS_OF, "Loss") == 0  # nothing trained yet
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Loss') >= 10", timeout=60000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    page.wait_for_function(f"({POINTS_OF})('Gradient norm per layer') >= 10", timeout=30000)
    assert_no_exception(page)


def test_bad_link_is_reported_not_crashed(server, page):
    """A link with a bad setting shows a warning and the page still works."""
    open_page(page, f"{server}/playground?train.lr=-5&data.name=circle")
    page.wait_for_selector("text=Ignored a bad setting", timeout=30000)
    assert_no_exception(page)


def test_refresh_reattaches_to_running_job(server, page):
    """Press Play, reload the page: the same run goes on (the epoch counter does not restart)."""
    open_page(page, f"{server}/playground?preset=tfp-default")
    page.get_by_role("button", name="Play").click()
    before = read_when(page, EPOCH, ok="v => v >= 5", timeout=60000)
    assert "run=" in page.url
    page.reload()
    page.wait_for_function(f"({EPOCH})() >= {before}", timeout=60000)
    pause_training(page)
    assert_no_exception(page)
