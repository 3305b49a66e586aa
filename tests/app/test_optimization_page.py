"""AppTest: the Optimization page's three views, backpropagation's Next/Back and a race step."""

from tests.app.conftest import chart_titles, no_exception, open_page


def test_three_views_backprop_steps_and_a_race_step(app):
    """Backprop Next/Back redraws the diagram, its update goes through the Job; a race step moves the paths."""
    at = open_page(app, "pages/optimization.py", preset="opt-backprop")
    no_exception(at)
    assert any(t.startswith("One example, forward pass") for t in chart_titles(at))
    at.button(key="opt.bp_next").click().run()
    assert any("backward: 1 of 3 layers" in t for t in chart_titles(at))
    at.button(key="opt.bp_back").click().run()
    assert any(t.startswith("One example, forward pass") for t in chart_titles(at))
    from ui.state import manager

    trainer = manager().get(at.session_state["opt._job"]).trainers[0]
    before = trainer.model.output.weight.detach().clone()
    for _ in range(3):
        at.button(key="opt.bp_next").click().run()
    at.button(key="opt.bp_apply").click().run()
    no_exception(at)
    assert not (trainer.model.output.weight.detach() == before).all()  # the SGD step reached the running network
    assert any("One SGD step on this example" in s.value for s in at.success)

    at.sidebar.radio(key="opt.view").set_value("landscape").run()
    no_exception(at)
    at.button(key="opt.map").click().run()
    no_exception(at)
    assert "From the initial to the trained weights" in chart_titles(at)

    at.sidebar.radio(key="opt.view").set_value("race").run()
    no_exception(at)
    assert "Loss against step" in chart_titles(at)
    at.button(key="opt.race_step").click().run()
    no_exception(at)
    assert at.slider(key="opt.race_at").value == 10
