"""Browser tests: a page comes back as it was left (page switches, refresh), and a shared link gets its own run."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import METRIC, POINTS_OF, assert_no_exception, open_page, read_when, rerun_done, set_number
from ui.pages import PAGES as PAGE_LIST

pytestmark = pytest.mark.e2e

NAV = '[data-testid="stSidebarNav"] a'
PAGES = ["Home"] + [p.title for p in PAGE_LIST]


def go(page, title: str) -> None:
    """Visit a page through the sidebar navigation."""
    rerun_done(page, page.locator(NAV).filter(has_text=title).first.click)
    assert_no_exception(page)


def has_number(page, label: str, value) -> None:
    """The number input shows `value` (waits for the first run of a new session to fill it)."""
    expect(page.get_by_label(label, exact=True).first).to_have_value(str(value), timeout=30000)


def step(page, times: int) -> None:
    button = page.get_by_role("button", name="Step", exact=True)
    for _ in range(times):
        expect(button).to_be_enabled(timeout=60000)  # the previous epoch has finished
        rerun_done(page, button.click)


def test_every_page_round_trip_keeps_settings_run_and_charts(server, page):
    """Set the Playground and the Gradient lab, visit every other page, come back: values, epochs and charts."""
    open_page(page, f"{server}/playground")
    set_number(page, "Points", 300)
    set_number(page, "Hidden layers", 3)
    set_number(page, "Units in layer 3", 7)
    set_number(page, "Seed", 1234)
    step(page, 2)
    page.wait_for_function(f"({POINTS_OF})('Loss') === 2", timeout=30000)

    go(page, "Gradient lab")
    set_number(page, "Layers", 20)  # side A
    set_number(page, "Units", 16)
    step(page, 3)
    page.wait_for_function(f"({METRIC})('Epoch') === 3", timeout=60000)

    for title in PAGES:  # (every other order of visits: tests/e2e/test_tours_e2e.py)
        go(page, title)
    go(page, "Playground")
    for label, value in (("Points", 300), ("Hidden layers", 3), ("Units in layer 3", 7), ("Seed", 1234)):
        has_number(page, label, value)
    assert read_when(page, METRIC, "Epoch") == 2  # the same run
    page.wait_for_function(f"({POINTS_OF})('Loss') === 2", timeout=30000)
    assert page.get_by_text("Cannot use these settings").count() == 0

    go(page, "Gradient lab")  # left before the pages after it in the tour, and the Playground
    has_number(page, "Layers", 20)
    has_number(page, "Units", 16)
    assert read_when(page, METRIC, "Epoch") == 3
    page.wait_for_function(f"({POINTS_OF})('A: gradient norm per layer') === 3", timeout=30000)


@pytest.mark.parametrize(
    "title,epoch", [("CNN", "Epoch"), ("GAN", "Epoch"), ("Sequences", "A: epoch"), ("Autoencoders", "Epoch")]
)
def test_each_training_page_comes_back_with_its_seed_and_run(server, page, title, epoch):
    """A seed typed in and an epoch trained survive a visit to two other pages."""
    open_page(page, f"{server}/")
    go(page, title)
    set_number(page, "Seed", 4321)
    step(page, 1)
    page.wait_for_function(f"({METRIC})({epoch!r}) === 1", timeout=120000)
    go(page, "Runs")
    go(page, "Playground")
    go(page, title)
    has_number(page, "Seed", 4321)
    page.wait_for_function(f"({METRIC})({epoch!r}) === 1", timeout=30000)  # the same run, not a new one
    assert page.get_by_text("Cannot use these settings").count() == 0


def test_refresh_mid_run_loses_no_steps_and_a_shared_link_gets_its_own_run(server, browser, page):
    """Refresh while training: same settings, same run, no epochs lost. The link in a new browser: own run."""
    open_page(page, f"{server}/playground")
    set_number(page, "Points", 400)
    page.get_by_role("button", name="Play").click()
    before = read_when(page, METRIC, "Epoch", ok="v => v >= 5", timeout=60000)
    points = read_when(page, POINTS_OF, "Loss", ok="v => v > 0")  # the whole-set evaluations so far (on a cadence)
    run = page.url.split("run=")[1].split("&")[0]
    page.reload()
    page.wait_for_selector('[data-testid="stApp"]', timeout=60000)
    page.wait_for_function(f"({METRIC})('Epoch') >= {before}", timeout=60000)
    page.wait_for_function(f"({POINTS_OF})('Loss') >= {points}", timeout=30000)  # the history came back too
    has_number(page, "Points", 400)
    assert f"run={run}" in page.url
    rerun_done(page, page.get_by_role("button", name="Pause").click)

    other = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    try:
        open_page(other, page.url)
        has_number(other, "Points", 400)
        other.wait_for_function(f"({METRIC})('Epoch') === 0", timeout=30000)  # a new run, not the owner's
        assert f"run={run}" not in other.url
        assert_no_exception(other)
    finally:
        other.context.close()
    assert read_when(page, METRIC, "Epoch") >= before  # the owner's run is untouched
    assert_no_exception(page)
