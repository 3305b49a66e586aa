"""AppTest over every page listed in ui/pages.py (a page added there is covered without a new test):
tours that must find every setting again, and seeded random "monkey" actions that must never show a traceback."""

import random
import time

import pytest

from core.spec import Spec, to_dict
from tests.app.actions import PATHS, change_settings, random_action, settings
from tests.app.conftest import no_exception
from ui.state import store

ORDERS = {"in order": PATHS, "reverse": PATHS[::-1]} | {
    f"random {seed}": random.Random(seed).sample(PATHS, len(PATHS)) for seed in (1, 2, 3)
}
MONKEY_STEPS = 300


@pytest.mark.parametrize("order", list(ORDERS))
def test_a_tour_of_every_page_keeps_every_setting(app, order):
    """Change settings on every page, then visit them all again in this order: each page's widgets come back as
    they were left, with no exception on the way."""
    rng = random.Random(order)
    store().create_run(to_dict(Spec()), "playground", f"tour {order}", status="paused")  # for the Runs page
    at = app.run()
    left = {}
    for path in ORDERS[order]:
        at.switch_page(path).run()
        done = change_settings(at, rng)
        no_exception(at)
        left[path] = (settings(at), done)
    for path in ORDERS[order]:  # each page has seen every other page since it was left
        at.switch_page(path).run()
        no_exception(at)
        before, done = left[path]
        now = settings(at)
        lost = {k: (v, now.get(k, "gone")) for k, v in before.items() if now.get(k, "gone") != v}
        assert not lost, f"{path} after {done}: (left, found) {lost}"


@pytest.mark.parametrize("path", PATHS)
def test_random_actions_never_show_a_traceback(app, path):
    """300 seeded random actions (a setting, a button, a switch away and back) never show an exception."""
    rng = random.Random(path)
    at = app.run()
    at.switch_page(path).run()
    log, start = [], time.monotonic()
    for step in range(MONKEY_STEPS):
        log.append(random_action(at, rng, path))
        assert not at.exception, f"step {step}: {log[-8:]}: {[e.message for e in at.exception]}"
        if at.session_state["_current_page"] != path.removeprefix("pages/").removesuffix(".py"):
            at.switch_page(path).run()  # a button opened another page (the Runs page's Re-open)
    print(f"{path}: {MONKEY_STEPS} actions in {time.monotonic() - start:.0f} s")
