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


def test_backprop_follows_an_example_the_student_types(app):
    """A typed point and target are followed through the network (the forward caption names that target); bad input
    gets one clear message and no traceback; Apply's step reaches the running network."""
    at = open_page(app, "pages/optimization.py", preset="opt-backprop")
    at.toggle(key="opt.bp_own").set_value(True).run()
    no_exception(at)
    at.text_input(key="opt.bp_point").set_value("2, -3").run()
    at.text_input(key="opt.bp_target").set_value("0").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    from ui.state import manager

    job = manager().get(at.session_state["opt._job"])
    shown = job.snapshot()["action"]["results"][0]
    assert shown["example"] == {"point": [2.0, -3.0], "label": 0.0} and shown["point"] == [2.0, -3.0]
    assert any(f"loss {shown['loss']:.5g}" in c.value for c in at.caption)
    for bad, says in (
        (("2; x", "0"), "is not two numbers like 1, -0.5"),
        (("2, 30", "0"), "between -10 and 10"),
        (("2, -3", "7"), "the target must be a class: one of 0, 1, not 7"),
        (("2, -3", "yes"), "'yes' is not a number"),
    ):
        at.text_input(key="opt.bp_point").set_value(bad[0])
        at.text_input(key="opt.bp_target").set_value(bad[1]).run()
        no_exception(at)
        assert len(at.error) == 1 and says in at.error[0].value, [e.value for e in at.error]
    at.text_input(key="opt.bp_point").set_value("2, -3")
    at.text_input(key="opt.bp_target").set_value("0").run()
    before = job.trainers[0].model.output.weight.detach().clone()
    for _ in range(3):
        at.button(key="opt.bp_next").click().run()
    at.button(key="opt.bp_apply").click().run()
    no_exception(at)
    assert not (job.trainers[0].model.output.weight.detach() == before).all()
    done = [s.value for s in at.success if "One SGD step on this example" in s.value]
    assert done, [s.value for s in at.success]
    before_loss, after_loss = (float(v) for v in done[0].split("loss ")[1].rstrip(".").split(" → "))
    assert after_loss < before_loss
