"""AppTest: the transfer-learning page (pretraining through a job, the three modes, the sweep, presets)."""

import time

from tests.app.conftest import no_exception, open_page
from tests.app.test_gan_page import chart_titles


def open_transfer(at, preset: str | None = None):
    """Run the app and switch to the transfer page (optionally with ?preset=)."""
    return open_page(at, "pages/transfer.py", preset=preset)


def wait_job(at, key: str, timeout: float = 120.0):
    """Wait until the page's job under `key` stops running, then rerun the page."""
    from ui.state import manager

    job = manager().get(at.session_state[key])
    end = time.time() + timeout
    while job.running and time.time() < end:
        time.sleep(0.1)
    at.run()
    no_exception(at)
    return job


def metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def pretrain(at, epochs: int = 2):
    """Ask for a short pretraining, press Pretrain and wait for it."""
    at.number_input(key="tl.transfer.pretrain_epochs").set_value(epochs).run()
    assert any(b.label == "Pretrain" for b in at.button)
    at.button(key="tl.pretrain").click().run()
    no_exception(at)
    return wait_job(at, "tl.pre._job")


def test_pretrain_then_step_trains_three_modes(app):
    """Pretrain (a job), then Step: the three test accuracies and both charts appear, no exception."""
    at = open_transfer(app)
    assert at.title[0].value == "Transfer learning"
    pre = pretrain(at)
    assert pre.trainers[0].status == "done"
    assert not any(b.label == "Pretrain" for b in at.button)  # the stored weights are found
    assert any("source test accuracy" in c.value for c in at.caption)
    at.button(key="tl.step").click().run()
    wait_job(at, "tl._job")
    assert metric(at, "Epoch") == "1"
    for label in ("frozen body", "fine-tune", "from scratch"):
        assert metric(at, f"{label}: test accuracy").endswith("%")
    titles = chart_titles(at)
    assert "Test accuracy on the target task" in titles and "The network in each mode" in titles


def test_sweep_runs_through_a_job(app):
    """Run sweep with two label counts: both points are drawn for the three modes."""
    at = open_transfer(app)
    pretrain(at, 1)
    at.number_input(key="tl.train.epochs").set_value(2).run()
    at.multiselect(key="tl.transfer.sweep").set_value([1, 2]).run()
    at.button(key="tl.run_sweep").click().run()
    job = wait_job(at, "tl.sw._job")
    assert [r["labels_per_class"] for r in job.trainers[0].history] == [1, 2]
    assert "Accuracy against labelled examples" in chart_titles(at)


def test_bad_link_is_a_warning_not_a_traceback(app):
    """A link with a negative labels-per-class is reported as a warning; the default 10 labels stay."""
    app = open_page(app, "pages/transfer.py", **{"transfer.labels_per_class": "-3", "data.name": "digits"})
    assert any("Ignored a bad setting" in w.value for w in app.warning)
    assert app.number_input(key="tl.transfer.labels_per_class").value == 10


def test_link_with_an_unlisted_sweep_value_opens(app):
    """A shared link may carry sweep values the multiselect does not offer by default: they are added."""
    app = open_page(
        app, "pages/transfer.py", **{"transfer.sweep": "7,0", "data.name": "digits", "model.family": "transfer"}
    )
    assert app.multiselect(key="tl.transfer.sweep").value == [7, 0]


def test_the_address_keeps_the_settings_before_pretraining(app):
    """Before any weights are stored the page stops at Pretrain; a changed setting is in the address already,
    so a refresh or a shared link opens the same task (no run id: there is no job yet)."""
    at = open_transfer(app)
    assert any(b.label == "Pretrain" for b in at.button)
    at.number_input(key="tl.transfer.labels_per_class").set_value(7).run()
    no_exception(at)
    query = at.query_params
    assert query.get("transfer.labels_per_class") in ("7", ["7"])
    assert "run" not in query
