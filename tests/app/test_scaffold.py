"""AppTest: every page and every lesson through the scaffold; links outside a widget's range; teacher links."""

import pytest

from core.presets import list_presets, load_preset
from tests.app.actions import late_request, send
from tests.app.conftest import choose_lesson, lesson_box, no_exception, open_page, wait_idle
from ui.pages import PAGES

PATH = {p.name: p.path for p in PAGES}


def open_with(at, path: str, query: dict):
    """Open `path` with a link's query, as a new browser session would."""
    return open_page(at, path, **query)


@pytest.mark.parametrize("page", [p.name for p in PAGES if p.trains])
def test_every_page_opens_with_play(app, page):
    """Each page opens with its default lesson, its controls and no error."""
    at = open_with(app, PATH[page], {})
    assert not at.error, [e.value for e in at.error]
    # the Transfer page's first step is pretraining (until weights are stored, there is nothing to Play)
    assert any(b.label in ("Play", "Pretrain") for b in at.button)


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_every_lesson_link_opens(app, name):
    """?preset=<lesson> on its page: no exception, no error, the lesson note shown, a run attached."""
    preset = next(p for p in list_presets() if p.name == name)
    at = open_with(app, PATH[preset.page], {"preset": name})
    assert not at.error, [e.value for e in at.error]
    assert any(preset.title in i.value for i in at.info)
    prefix = at.session_state["_shown_prefix"]
    if preset.page == "transfer" and f"{prefix}._job" not in at.session_state:
        assert any(b.label == "Pretrain" for b in at.button)  # step 1: no pretrained weights stored yet
    else:
        assert at.session_state[f"{prefix}._job"]


@pytest.mark.parametrize("page", [p.name for p in PAGES if p.trains])
def test_the_lesson_box_names_the_lesson_then_a_change(app, page):
    """The box above the charts shows the lesson the settings came from; after a change the note says so and
    Reload lesson loads it afresh; every lesson of the page can be chosen there."""
    at = open_with(app, PATH[page], {})
    prefix = at.session_state["_shown_prefix"]
    box = lesson_box(at, prefix)
    lesson = load_preset(box.value)
    assert box.value and lesson.page == page
    assert at.button(key=f"{prefix}._reload_lesson").disabled
    seed = at.number_input(key=f"{prefix}.seed")
    seed.set_value(seed.value + 1).run()
    box = lesson_box(at, prefix)
    assert box.value == lesson.name and not at.button(key=f"{prefix}._reload_lesson").disabled
    assert any("You have changed its settings" in i.value for i in at.info)
    at.button(key=f"{prefix}._reload_lesson").click().run()
    no_exception(at)
    assert lesson_box(at, prefix).value == lesson.name
    assert at.number_input(key=f"{prefix}.seed").value == seed.value - 1
    assert not any("You have changed" in i.value for i in at.info)
    assert at.button(key=f"{prefix}._reload_lesson").disabled
    for other in list_presets(page):
        choose_lesson(at, prefix, other.name)


@pytest.mark.parametrize("page", [p.name for p in PAGES if p.trains])
def test_a_request_sent_before_a_change_was_drawn_keeps_the_change(app, page):
    """A browser sends every widget's value with each request: one sent before the run that drew a change's
    effects carries the lesson box as it was. It must not load the lesson over the change (the box used to be
    set from code on every run, and the old value then counted as a choice of the lesson)."""
    at = open_with(app, PATH[page], {})
    prefix = at.session_state["_shown_prefix"]
    lesson = lesson_box(at, prefix).value
    seed = at.number_input(key=f"{prefix}.seed")
    changed = seed.value + 1
    seed.set_value(changed).run()
    lesson_box(at, prefix).set_value(lesson)  # the box as the browser last drew it
    at.number_input(key=f"{prefix}.seed").set_value(changed).run()
    no_exception(at)
    assert at.number_input(key=f"{prefix}.seed").value == changed
    assert any("You have changed its settings" in i.value for i in at.info)


def test_a_late_request_does_not_bring_back_the_lesson_left(app):
    """Choosing your own data on the Playground leaves the lesson (the box is drawn anew, empty). A request the
    browser sent before that run reached it carries the box as it was, naming the lesson: it must not load the
    lesson back over the student's choice."""
    at = open_with(app, PATH["playground"], {})
    assert lesson_box(at, "pg").value
    at.selectbox(key="pg.data.name").select("table")
    send(at)
    assert lesson_box(at, "pg").value is None and "pg._preset" not in at.session_state
    late_request(at)  # the old box is sent with the lesson's name, the data box with "your own data"
    no_exception(at)
    assert at.session_state["pg.data.name"] == "table" and "pg._preset" not in at.session_state
    assert lesson_box(at, "pg").value is None


@pytest.mark.parametrize("page", [p.name for p in PAGES if p.trains and p.name != "transfer"])
def test_training_alone_changes_no_setting_of_the_lesson(app, page):
    """Two Steps on the lesson as it opened: the note does not say the settings were changed, and Reload lesson
    stays off (the Playground's weight box, which shows a live weight, once made every trained lesson "changed").
    Transfer's first step is pretraining, with no Step."""
    at = open_with(app, PATH[page], {})
    prefix = at.session_state["_shown_prefix"]
    for _ in range(2):
        at.button(key=f"{prefix}.step").click().run()
        wait_idle(at, prefix)
    no_exception(at)
    assert at.session_state[f"{prefix}._job"] and not any("You have changed" in i.value for i in at.info)
    assert at.button(key=f"{prefix}._reload_lesson").disabled


def test_link_batch_100_restores_exactly(app):
    """The spec allows batch 512; a link with batch 100 and 100 units comes back exactly (it used to raise)."""
    at = open_with(app, "pages/playground.py", {"data.name": "circle", "data.batch_size": "100", "model.hidden": "100"})
    assert not at.error and not at.warning, [w.value for w in at.warning]
    assert at.session_state["pg.data.batch_size"] == 100
    assert at.session_state["pg.units.0"] == 100 and at.session_state["pg.n_layers"] == 1


def test_link_outside_a_page_range_says_what_changed(app):
    """The CNN page's shapes need 16+ pixels (the spec allows 8): the page moves it and says so."""
    at = open_with(app, "pages/cnn.py", {"data.name": "shapes", "data.image_size": "8", "model.family": "cnn"})
    changed = [w.value for w in at.warning if "Changed to fit this page" in w.value]
    assert changed and "Image size" in changed[0] and "16" in changed[0]
    assert at.session_state["cnn.data.image_size"] == 16


def test_link_to_another_pages_dataset_says_what_changed(app):
    """A 2-D dataset named in a GAN link is not offered there: replaced, and said."""
    at = open_with(app, "pages/gan.py", {"data.name": "spiral"})
    assert any("not offered on this page" in w.value for w in at.warning)


def test_locked_lesson_hides_sections_and_keeps_them_in_the_link(app):
    """?hide=data,network hides those groups of controls; the flags stay in the URL."""
    at = open_with(app, "pages/playground.py", {"preset": "xor-features", "hide": "data,network"})
    labels = [e.label for e in at.sidebar.expander]
    assert "Data" not in labels and "Network" not in labels and "Training" in labels
    assert at.query_params["hide"] in ("data,network", ["data,network"])


def test_presentation_mode_from_the_link(app):
    """?present=1 turns presentation mode on (the toggle shows it) and stays in the link."""
    at = open_with(app, "pages/gradients.py", {"present": "1"})
    assert at.toggle(key="_present").value is True
    assert at.query_params["present"] in ("1", ["1"])


def test_server_box_shows_budgets_and_slots(app):
    at = open_with(app, "pages/playground.py", {})
    text = " ".join(m.value for m in at.sidebar.markdown) + " ".join(c.value for c in at.sidebar.caption)
    assert "Runs training now: 0 of" in text and "parameters" in text and "GFLOP" in text


def test_with_a_shared_store_the_server_box_counts_the_whole_deployment(app, monkeypatch, postgres_server):
    """On PostgreSQL the box adds every replica's training runs (read from the store) to this server's slots."""
    from core.store import Store
    from tests.postgres import fresh_database
    from ui.state import manager, store

    url = fresh_database(postgres_server)
    other = Store(url)
    for host in ("replica-b", "replica-b", "replica-c"):  # runs that other machines' replicas train
        run_id = other.create_run({}, "app")
        other.db.write(lambda db, h=host, r=run_id: db.execute("UPDATE runs SET host = ? WHERE id = ?", (h, r)))
    other.finish_run(run_id, "paused", {})  # a paused run holds no slot
    monkeypatch.setenv("PLAYGROUND_DATABASE_URL", url)
    store.clear()
    manager.clear()
    try:
        at = open_with(app, "pages/playground.py", {})
        text = " ".join(c.value for c in at.sidebar.caption)
        assert "The whole deployment: 2 training on 1 server processes" in text
    finally:
        monkeypatch.undo()  # first: a store made after the clear must be the tests' own SQLite again
        store.clear()
        manager.clear()
        other.close()


def test_a_full_server_says_which_cap_and_what_to_do(app, monkeypatch):
    """With every training slot taken, Play explains the running cap instead of failing silently."""
    from ui.state import manager

    manager.clear()
    monkeypatch.setenv("PLAYGROUND_MAX_RUNS", "0")
    at = open_with(app, "pages/playground.py", {})
    at.button(key="pg.play").click().run()
    no_exception(at)
    assert any("training slots" in w.value and "Pause a run" in w.value for w in at.warning)


def test_a_spec_over_a_budget_names_it_and_what_to_shrink(app):
    """A CNN over the server's parameter budget is refused with the budget and what to shrink."""
    at = open_with(app, "pages/cnn.py", {})
    at.number_input(key="cnn.data.image_size").set_value(64).run()
    conv = [x["uid"] for x in at.session_state["cnn._layers"] if x["type"] == "conv"][-1]
    at.number_input(key=f"cnn.layer.{conv}.size").set_value(256).run()
    no_exception(at)
    assert any("budget" in e.value and "fewer filters" in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("path", [p.path for p in PAGES if p.trains])
def test_locked_lesson_hides_the_named_sections_on_every_page(app, path):
    """?hide=data: the page draws its data controls in a container that the page's style hides."""
    at = open_with(app, path, {"hide": "data"})
    styles = " ".join(h.proto.body for h in at.get("html"))
    assert '[class*="-hidden-data"] { display: none; }' in styles
    assert "Data" not in [e.label for e in at.sidebar.expander]
