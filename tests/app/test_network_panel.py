"""AppTest: the Playground's network diagram, a weight edit and the LR finder, through the Job."""

import json
import time

import pytest

from tests.app.conftest import chart_figures, chart_titles, open_page
from tests.core.waiting import wait_until

NETWORK = "Network: each neuron's output over the plane"


def figure(at, title: str) -> dict:
    for fig in chart_figures(at):
        t = fig.get("layout", {}).get("title", {})
        if (t.get("text", "") if isinstance(t, dict) else str(t)) == title:
            return fig
    raise AssertionError(f"no chart {title!r} in {chart_titles(at)}")


def test_diagram_neuron_picker_and_weight_edit(app):
    """The diagram draws every neuron; a neuron shown large replaces the surface; a weight edit changes it."""
    at = open_page(app, "pages/playground.py", preset="tfp-default")
    net = figure(at, NETWORK)
    assert len(net["layout"]["images"]) == 2 + 4 + 2 + 1  # inputs, 4 + 2 hidden neurons, the output
    surface = json.dumps(figure(at, "Decision surface")["data"][0])
    at.selectbox(key="pg.neuron").select("layer 1, neuron 2").run()
    assert "layer 1, neuron 2: its output over the plane" in chart_titles(at)
    at.selectbox(key="pg.neuron").select("output (decision surface)").run()
    at.number_input(key="pg.w_in").set_value(2)
    at.number_input(key="pg.w_out").set_value(3).run()  # the weight box then shows that weight's value
    next(n for n in at.number_input if n.label.startswith("weight (now")).set_value(7.5)
    at.button(key="pg.w_set").click().run()
    assert not at.error, [e.value for e in at.error]
    job = at.session_state["pg._job"]
    from ui.state import manager

    trainer = manager().get(job).trainers[0]
    assert float(trainer.model.blocks[0].linear.weight[2, 1].detach()) == 7.5  # to neuron 3, from input 2
    assert json.dumps(figure(at, "Decision surface")["data"][0]) != surface


def test_a_typed_weight_is_set_even_if_the_network_changed_before_set(app):
    """The weight box keeps what was typed while the page redraws a network whose weight changed (a paused network's
    last snapshot arriving, another tab's edit): Set applies the typed value, and the label names the new weight."""
    from ui.state import manager

    at = open_page(app, "pages/playground.py", preset="tfp-default")
    at.number_input(key="pg.w_in").set_value(2)
    at.number_input(key="pg.w_out").set_value(3).run()
    at.number_input(key="pg.w_value").set_value(7.5).run()  # typed and entered
    job = manager().get(at.session_state["pg._job"])
    assert not job.act("set_weight", 0, 2, 1, -1.25)  # the network changes under the box
    at.run()
    box = at.number_input(key="pg.w_value")
    assert box.label == "weight (now -1.25)" and box.value == 7.5
    at.button(key="pg.w_set").click().run()
    assert float(job.trainers[0].model.blocks[0].linear.weight[2, 1].detach()) == 7.5
    assert at.number_input(key="pg.w_value").label == "weight (now 7.5)"
    at.number_input(key="pg.w_in").set_value(1).run()  # another connection: the box shows its weight
    box = at.number_input(key="pg.w_value")
    assert box.value == pytest.approx(float(box.label.removeprefix("weight (now ").removesuffix(")")), abs=1e-4)


@pytest.mark.parametrize(
    "path, preset, prefix",
    [
        ("pages/playground.py", "tfp-default", "pg"),
        ("pages/cnn.py", "cnn-digits", "cnn"),
        ("pages/sequences.py", "sine-forecast", "seq"),
        ("pages/autoencoders.py", "ae-latent-2d", "ae"),
        ("pages/optimization.py", "opt-backprop", "opt"),  # its backprop view runs an action on every run
    ],
)
def test_lr_finder_runs_on_a_copy_and_offers_its_suggestion(app, path, preset, prefix):
    """The LR finder runs in the background (the script run returns at once, the job counts as running), then draws
    loss vs LR and a button to use the suggestion; the network is unchanged; Use sets the rate."""
    at = open_page(app, path, preset=preset)
    from ui.state import manager

    job = manager().get(at.session_state[f"{prefix}._job"])
    trainer = job.trainers[0]
    before = [p.detach().clone() for p in trainer.model.parameters()]
    at.button(key=f"{prefix}.lr_find").click().run()
    assert job.snapshot()["action"]["name"] == "lr_find"
    assert wait_until(lambda: not job.running, 300)
    at.run()
    assert "Learning-rate finder" in chart_titles(at)
    assert all((a == b).all() for a, b in zip(before, trainer.model.parameters()))
    use = [b for b in at.button if b.label.startswith("Use learning rate")]
    assert use, [b.label for b in at.button]
    use[0].click().run()
    assert at.session_state[f"{prefix}.train.lr"] == float(use[0].label.split()[-1])
    assert "Learning-rate finder" in chart_titles(at)  # the curve stays after the runs that followed


def test_the_finder_shows_its_progress_and_pause_stops_it(app):
    """While the finder trains its copies the page shows a progress bar and stays usable; Pause stops the finder."""
    at = open_page(app, "pages/sequences.py", preset="rnn-vs-lstm-adding")
    from ui.state import manager

    job = manager().get(at.session_state["seq._job"])
    started = time.monotonic()
    at.button(key="seq.lr_find").click().run()
    assert time.monotonic() - started < 30  # the finder itself takes minutes here
    assert wait_until(lambda: job.snapshot()["action"].get("progress", 0) > 0)
    at.run()
    bar = at.get("progress")
    assert bar and "Training copies at 11 rates" in bar[0].proto.text, [b.proto.text for b in bar]
    at.button(key="seq.pause").click().run()
    assert wait_until(lambda: not job.running, 10)
    at.run()
    assert not at.get("progress")
    assert any("stopped before it finished" in c.value for c in at.caption)
