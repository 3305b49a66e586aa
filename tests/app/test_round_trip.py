"""AppTest: a page comes back exactly as it was left after visiting every other page."""

from tests.app.conftest import no_exception

OTHERS = ["pages/home.py", "pages/gradients.py", "pages/cnn.py", "pages/gan.py", "pages/playground.py"]


def visit_all(at, back_to: str) -> None:
    for path in OTHERS:
        if path != back_to:
            at.switch_page(path).run()
            no_exception(at)
    at.switch_page(back_to).run()
    no_exception(at)


def test_playground_settings_and_run_survive_a_tour(app):
    """Non-default Playground settings and its trained run are all there after visiting every page."""
    at = app.run()
    at.switch_page("pages/playground.py").run()
    at.slider(key="pg.data.noise").set_value(35.0).run()
    at.number_input(key="pg.data.batch_size").set_value(100).run()
    at.number_input(key="pg.n_layers").set_value(3).run()
    at.number_input(key="pg.units.2").set_value(7).run()
    at.selectbox(key="pg.train.optimizer").set_value("adam").run()
    at.button(key="pg.step").click().run()
    job = at.session_state["pg._job"]
    visit_all(at, "pages/playground.py")
    assert at.session_state["pg.data.noise"] == 35.0
    assert at.session_state["pg.data.batch_size"] == 100
    assert at.session_state["pg.n_layers"] == 3 and at.session_state["pg.units.2"] == 7
    assert at.session_state["pg.train.optimizer"] == "adam"
    assert at.session_state["pg._job"] == job  # the same run, not a new network
    assert not at.error


def test_gradient_lab_survives_a_tour(app):
    """The Gradient lab keeps both sides' settings and its lesson after visiting every page."""
    at = app.run()
    at.switch_page("pages/gradients.py").run()
    at.number_input(key="gl.a.depth").set_value(20).run()
    at.selectbox(key="gl.b.act").set_value("tanh").run()
    job = at.session_state["gl._job"]
    visit_all(at, "pages/gradients.py")
    assert at.session_state["gl.a.depth"] == 20
    assert at.session_state["gl.b.act"] == "tanh"
    assert at.session_state["gl.compare"] is True
    assert at.session_state["gl._job"] == job
    assert not at.error
