"""AppTest: the Sequences page through the app's router (side by side, presets, controls, bad settings)."""

import time

from tests.app.conftest import APP, chart_titles, choose_lesson, no_exception, open_page
from ui.state import manager


def open_seq(at, **query):
    """Open the Sequences page with a link's query."""
    return open_page(at, "pages/sequences.py", **query)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def train_one_epoch(at) -> None:
    """Press Step and rerun until every run shows epoch 1 and holds its record (the job trains in its own thread;
    an epoch's number can come a moment before its record)."""
    at.button(key="seq.step").click().run()
    for _ in range(200):
        time.sleep(0.1)
        at.run()
        epochs = [m.value for m in at.metric if m.label.endswith(": epoch")]
        job = manager().jobs.get(at.session_state["seq._job"])
        recorded = job is not None and all(r["history"] for r in job.snapshot()["runs"])
        if epochs and all(e == "1" for e in epochs) and recorded:
            at.run()  # drawn with the record
            return
    raise AssertionError(f"no epoch trained: {epochs}")


def test_opens_on_the_side_by_side_lesson(app):
    """By default the page shows the RNN vs LSTM lesson: two runs, the loss and gradient-through-time charts."""
    at = open_seq(app)
    assert at.title[0].value == "Sequences"
    assert at.multiselect(key="seq.cells").value == ["rnn_tanh", "lstm"]
    titles = chart_titles(at)
    assert "Validation loss" in titles and "Gradient through time" in titles
    assert "A: RNN (tanh): gradient through time" in titles and "B: LSTM: gradient through time" in titles


def test_step_trains_both_sides_in_lockstep(app):
    """One Step: A and B each train one epoch; the loss is compared with the baseline."""
    at = open_seq(app, preset="rnn-vs-lstm-adding")
    at.number_input(key="seq.seq.length").set_value(20).run()
    train_one_epoch(at)
    no_exception(at)
    assert metric(at, "A: epoch") == metric(at, "B: epoch") == "1"
    assert metric(at, "A: of baseline").endswith("%")


def test_inside_view_shows_hidden_states_and_gates(app):
    """Inside the network: a hidden-state heatmap per run, and the gates for the LSTM only."""
    at = open_seq(app)
    at.segmented_control(key="seq.show").set_value("Inside the network").run()
    no_exception(at)
    titles = chart_titles(at)
    assert "A: RNN (tanh): hidden state" in titles and "B: LSTM: hidden state" in titles
    assert "B: LSTM: gates, recomputed from the weights" in titles
    assert not any(t.startswith("A:") and "gates" in t for t in titles)


def test_gru_as_a_third_side(app):
    """Adding the GRU trains a third network, C, next to A and B."""
    at = open_seq(app)
    at.multiselect(key="seq.cells").select("gru").run()
    no_exception(at)
    assert "C: GRU: gradient through time" in chart_titles(at)


def test_a_shared_link_brings_back_all_three_sides(app):
    """A link copied with the GRU as C opens A, B and C again, each with its own settings."""
    at = open_seq(app)
    at.multiselect(key="seq.cells").select("gru").run()
    at.number_input(key="seq.seq.hidden").set_value(12).run()
    link = dict(at.query_params)
    assert any(k.startswith("c.") for k in link)
    fresh = type(at).from_file(APP, default_timeout=120)  # another browser: a session of its own
    other = open_seq(fresh, **{k: v for k, v in link.items() if k != "run"})
    no_exception(other)
    assert other.session_state["seq.cells"] == ["rnn_tanh", "lstm", "gru"]
    titles = chart_titles(other)
    assert "C: GRU: gradient through time" in titles and "A: RNN (tanh): gradient through time" in titles
    assert other.session_state["seq.seq.hidden"] == 12


def test_every_preset_and_task_opens(app):
    """Each preset loads with its lesson; every view of every task draws without an exception."""
    from core.presets import list_presets

    at = open_seq(app)
    for p in list_presets("sequences"):
        choose_lesson(at, "seq", p.name)
        at.number_input(key="seq.seq.length").set_value(12).run()
        at.number_input(key="seq.seq.hidden").set_value(8).run()
        for view in ("Gradient through time", "Inside the network", "Predictions", "Weight gradients"):
            at.segmented_control(key="seq.show").set_value(view).run()
            no_exception(at)


def test_text_preset_shows_a_sample(app):
    """char-lstm: the Predictions view prints a generated sample after one epoch."""
    at = open_seq(app, preset="char-lstm")
    at.number_input(key="seq.seq.length").set_value(16).run()
    at.number_input(key="seq.data.n").set_value(100).run()
    train_one_epoch(at)
    at.segmented_control(key="seq.show").set_value("Predictions").run()
    no_exception(at)
    assert any(c.value.startswith("The ") for c in at.code)


def test_bad_settings_are_messages_not_tracebacks(app):
    """A copy task too short for its message is refused with the field named, not a traceback."""
    at = open_seq(app, preset="lstm-copy")
    at.number_input(key="seq.seq.length").set_value(5).run()
    no_exception(at)
    assert any("seq.length" in e.value for e in at.error)


def test_bad_link_is_a_warning(app):
    """A link with an unknown cell is reported; the page opens on the link's task with the default cell."""
    at = open_seq(app, **{"seq.cell": "bogus", "data.name": "sines"})
    assert any("Ignored a bad setting" in w.value for w in at.warning)
    assert at.selectbox(key="seq.data.name").value == "sines" and at.multiselect(key="seq.cells").value == ["lstm"]


def test_export_box_offers_the_script_and_notebook(app):
    """The export box of a sequence run offers a PyTorch script and a notebook (enabled), beside spec and metrics."""
    at = open_seq(app, preset="char-lstm")
    at.number_input(key="seq.seq.length").set_value(16).run()
    at.number_input(key="seq.data.n").set_value(100).run()
    train_one_epoch(at)
    no_exception(at)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert not buttons["PyTorch script"].proto.disabled and not buttons["Notebook"].proto.disabled
    assert not buttons["Metrics (CSV)"].proto.disabled
