"""AppTest: every page opens through the router, key widgets change, no exception."""

from core.presets import list_presets
from tests.app.conftest import lesson_box, no_exception, wait_idle


def test_home_lists_pages_and_every_lesson(app):
    from ui.pages import PAGES

    at = app.run()
    no_exception(at)
    links = [(link.proto.label, link.proto.page, link.proto.query_string) for link in at.get("page_link")]
    assert [label for label, _, q in links if not q] == [p.title for p in PAGES]
    lessons = {q.removeprefix("preset="): label for label, _, q in links if q}
    assert lessons == {p.name: p.title for p in list_presets()}  # every preset, each opening its own page


def test_playground_step_trains_one_epoch_and_shows_numbers(app):
    at = app.run()
    at.switch_page("pages/playground.py").run()
    no_exception(at)
    assert at.title[0].value.startswith("Playground")
    at.button(key="pg.step").click().run()
    wait_idle(at, "pg")
    no_exception(at)
    epoch = [m for m in at.metric if m.label == "Epoch"]
    assert epoch and epoch[0].value == "1"


def test_playground_key_widgets(app):
    at = app.run()
    at.switch_page("pages/playground.py").run()
    at.selectbox(key="pg.data.name").set_value("spiral_k").run()
    no_exception(at)
    at.number_input(key="pg.n_layers").set_value(8).run()
    at.selectbox(key="pg.train.optimizer").set_value("adam").run()
    at.selectbox(key="pg.train.schedule").set_value("onecycle").run()
    at.slider(key="pg.data.noise").set_value(50.0).run()
    no_exception(at)
    shown = [m.value for m in at.sidebar.markdown if "trainable parameters" in m.value]
    assert shown, "the parameter count is shown"
    n_shown = int(shown[0].split("**")[1].replace(",", ""))
    widths = [len(at.session_state["pg.data.features"])]
    widths += [at.session_state[f"pg.units.{i}"] for i in range(8)] + [at.session_state["pg.data.classes"]]
    assert n_shown == sum(a * b + b for a, b in zip(widths, widths[1:]))
    at.button(key="pg.step").click().run()
    wait_idle(at, "pg")
    no_exception(at)


def test_playground_bad_link_is_reported_not_raised(app):
    at = app.run()
    at.query_params["train.lr"] = "-5"
    at.query_params["model.hidden"] = "x,y"
    at.switch_page("pages/playground.py").run()
    no_exception(at)
    assert at.warning or at.error


def test_gradient_lab_ab_step_shows_both_sides(app):
    at = app.run()
    at.switch_page("pages/gradients.py").run()
    no_exception(at)
    assert at.title[0].value == "Gradient lab"
    at.button(key="gl.step").click().run()
    wait_idle(at, "gl")
    no_exception(at)
    heads = [h.value for h in at.subheader]
    assert any(h.startswith("A:") for h in heads) and any(h.startswith("B:") for h in heads)
    ratios = [m.value for m in at.metric if m.label.startswith("Layer 1 / output")]
    assert len(ratios) == 2 and all(r != "-" for r in ratios)
    a, b = (float(r) for r in ratios)
    assert a < 1e-3 < b  # the broken side's first layer gets far less gradient than the fixed side's


def test_gradient_lab_presets_and_views(app):
    at = app.run()
    at.switch_page("pages/gradients.py").run()
    for p in list_presets("gradients"):
        lesson_box(at, "gl").set_value(p.name).run()
        no_exception(at)
        assert p.title in " ".join(str(i.value) for i in at.info)
    at.number_input(key="gl.a.depth").set_value(50).run()
    at.selectbox(key="gl.a.act").set_value("tanh").run()
    at.button(key="gl.step").click().run()
    wait_idle(at, "gl")
    for view in ("Activations", "Updates", "Loss", "Gradients"):
        at.segmented_control(key="gl.view").set_value(view).run()
        no_exception(at)
    at.toggle(key="gl.compare").set_value(False).run()
    no_exception(at)
