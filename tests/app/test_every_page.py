"""AppTest over every page listed in ui/pages.py (a page added there is covered without a new test):
tours that must find every setting again, and seeded random "monkey" actions that must never show a traceback."""

import random
import time

import pytest

from core.presets import families, list_presets
from core.spec import Spec, to_dict, to_query
from tests.app.actions import PATHS, change_settings, drawn_at_another_value, random_action, settings, unkeyed, visit
from tests.app.conftest import no_exception, open_page
from ui.pages import PAGES
from ui.state import manager, store

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
        visit(at, path)
        done = change_settings(at, rng)
        no_exception(at)
        left[path] = (settings(at), done)
    for path in ORDERS[order]:  # each page has seen every other page since it was left
        visit(at, path)
        no_exception(at)
        before, done = left[path]
        now = settings(at)
        lost = {k: (v, now.get(k, "gone")) for k, v in before.items() if now.get(k, "gone") != v}
        assert not lost, f"{path} after {done}: (left, found) {lost}"


@pytest.mark.parametrize("path", PATHS)
def test_random_actions_never_show_a_traceback(app, path):
    """300 seeded random actions (a setting, a button, a switch away and back) never show an exception, nor a setting
    widget without a key or with a default other than its value (what a browser shows when it draws it afresh)."""
    rng = random.Random(path)
    at = app.run()
    visit(at, path)
    log, start = [], time.monotonic()
    for step in range(MONKEY_STEPS):
        log.append(random_action(at, rng, path))
        assert not at.exception, f"step {step}: {log[-8:]}: {[e.message for e in at.exception]}"
        assert not unkeyed(at), f"step {step}: {log[-8:]}: widgets without a key: {unkeyed(at)}"
        assert not (other := drawn_at_another_value(at)), f"step {step}: {log[-8:]}: (value, default) {other}"
        if at.session_state["_current_page"] != path.removeprefix("pages/").removesuffix(".py"):
            visit(at, path)  # a button opened another page (the Runs page's Re-open)
    print(f"{path}: {MONKEY_STEPS} actions in {time.monotonic() - start:.0f} s")


def test_every_setting_widget_is_drawn_at_its_value(app):
    """On every page, each setting widget's default (what the browser shows when it draws the widget afresh, after
    a page change) is its value, not its minimum or first option."""
    at = app.run()
    for path in PATHS:
        visit(at, path)
        at.run()  # a rerun, as after a click: the values come from the browser, none is set from the state
        no_exception(at)
        assert not (other := drawn_at_another_value(at)), f"{path}: (value, default) {other}"


@pytest.mark.parametrize("path", [p.path for p in PAGES if p.trains])
def test_a_link_to_another_kind_of_network_opens_the_default_lesson(app, path):
    """A link carrying a network this page does not train (another page's settings) is named on the page, which
    opens its own default lesson instead of building (or pretraining) the foreign network."""
    name = path.removeprefix("pages/").removesuffix(".py")
    own = families(name)
    foreign = next(p.spec for p in list_presets() if p.spec.model.family not in own)
    open_page(at=app, path=path, **to_query(foreign))
    assert any("which this page does not train" in w.value for w in app.warning), [w.value for w in app.warning]
    built = {s.model.family for job in manager().jobs.values() for s in job.specs}  # Transfer: none before pretraining
    assert built <= own, built


def test_a_page_holds_only_its_own_settings_in_session_state(app):
    """After a tour, the session state holds the shown page's settings and the other pages' few private keys:
    Streamlit reads every key on each widget it draws, so a tour left every page slower (860 keys)."""
    at = app.run()
    for path in PATHS:
        visit(at, path)
    for path in PATHS:
        visit(at, path)
        prefix = at.session_state["_shown_prefix"]
        keys = [k.split("-", 2)[-1] if k.startswith("$$") else k for k in at.session_state._state._state._keys()]
        mine = ("_", f"{prefix}.")  # the app's own keys (_settings, _parked, ...) and the page's
        others = [k for k in keys if "." in k and not k.startswith(mine) and not k.split(".", 1)[1].startswith("_")]
        assert not others, f"{path}: {sorted(others)[:10]}"
