"""AppTest: the Runs page lists, filters, compares, renames, deletes (after a confirmation) and refuses bad imports."""

import time
import uuid

import pytest

from core.jobs import Job
from core.spec import Spec
from tests.app.conftest import chart_figures, no_exception

SPEC = Spec().with_(**{"data.n": 100, "train.epochs": 1000})


def trained_run(store, title: str, lr: float) -> str:
    """A real run of two epochs, paused, with its metrics and weights in the app's store."""
    job = Job(SPEC.with_(**{"train.lr": lr}), store=store, source="playground", title=title)
    job.step(2)
    end = time.time() + 30
    while (job.running or not job.run_ids[0]) and time.time() < end:
        time.sleep(0.05)
    job.stop()
    return job.run_ids[0]


@pytest.fixture
def two_runs():
    from ui.state import store

    tag = uuid.uuid4().hex[:6]
    return trained_run(store(), f"slow-{tag}", 0.01), trained_run(store(), f"fast-{tag}", 0.3)


def open_runs(app):
    at = app.run()
    at.switch_page("pages/runs.py").run()
    no_exception(at)
    return at


def test_list_and_filter(app, two_runs):
    from ui.state import store

    a, b = two_runs
    at = open_runs(app)
    table = at.dataframe[0].value
    assert {a, b} <= set(table["id"])
    assert table["id"].tolist().index(b) < table["id"].tolist().index(a)  # newest first
    assert at.dataframe[0].proto.placeholder == "-"  # a run with no validation yet shows "-", not "None"
    store().finish_run(a, "done", {})
    at.run()
    at.multiselect(key="runs.status").set_value(["done"]).run()
    table = at.dataframe[0].value
    assert a in set(table["id"]) and b not in set(table["id"]) and set(table["status"]) == {"done"}


def test_compare_two_runs_overlays_both_curves_and_lists_only_differences(app, two_runs):
    a, b = two_runs
    at = open_runs(app)
    at.multiselect(key="runs.compare").set_value([a, b]).run()
    no_exception(at)
    fig = chart_figures(at)[0]
    lines = [t for t in fig["data"] if t.get("x")]
    assert len(lines) == 2 and all(len(t["x"]) == 2 for t in lines)  # two runs, two epochs each
    assert fig["layout"]["xaxis"]["title"]["text"] == "epoch"
    diff = at.dataframe[1].value
    assert diff["setting"].tolist() == ["train.lr"]


def test_picked_runs_stay_picked_when_a_filter_hides_them_or_newer_runs_push_them_off_the_list(
    app, two_runs, monkeypatch
):
    """A class server makes runs all the time: a run picked for comparison stays picked (and is named when the
    filters hide it) instead of vanishing from the box when it leaves the newest runs listed."""
    from ui.state import store

    a, b = two_runs
    at = open_runs(app)
    at.multiselect(key="runs.compare").set_value([a, b]).run()
    at.selectbox(key="runs.one").set_value(a).run()
    store().finish_run(a, "diverged", {})
    store().finish_run(b, "done", {})
    at.multiselect(key="runs.status").set_value(["done"]).run()  # hides a
    no_exception(at)
    assert at.multiselect(key="runs.compare").value == [a, b]
    shown = set(at.dataframe[0].value["id"])
    assert b in shown and a not in shown
    assert any("filters hide them" in c.value and a[:6] in c.value for c in at.caption)
    assert at.selectbox(key="runs.one").value == a
    monkeypatch.setattr(type(store()), "list_runs", lambda self, limit=50, status=None: [])  # both pushed off
    at.multiselect(key="runs.status").set_value([]).run()
    no_exception(at)
    assert at.multiselect(key="runs.compare").value == [a, b]
    assert len([t for t in chart_figures(at)[0]["data"] if t.get("x")]) == 2


def test_rename_and_delete_with_confirmation(app, two_runs):
    from ui.state import store

    a, b = two_runs
    at = open_runs(app)
    at.selectbox(key="runs.one").set_value(a).run()
    at.text_input(key=f"runs.title.{a}").input("my best run").run()
    at.button(key="runs.rename").click().run()
    no_exception(at)
    assert store().get_run(a)["title"] == "my best run"

    at.selectbox(key="runs.one").set_value(b).run()
    at.button(key="runs.delete").click().run()
    assert store().get_run(b) is not None  # the first click only asks
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="runs.delete_yes").click().run()
    no_exception(at)
    assert store().get_run(b) is None and b not in set(at.dataframe[0].value["id"])


@pytest.mark.parametrize(
    "name,content",
    [
        ("spec.json", b'{"train": {"lr": "fast"}}'),
        ("spec.json", b"\xff\xfe not text"),
        ("w.safetensors", b"this is not a safetensors file"),
    ],
)
def test_a_bad_import_says_why_and_changes_nothing(app, two_runs, name, content):
    from ui.state import store

    at = open_runs(app)
    before = {r["id"] for r in store().list_runs(limit=10_000)}
    at.file_uploader[0].set_value((name, content, "application/octet-stream")).run()
    no_exception(at)
    assert any(e.value.startswith("Nothing was imported") for e in at.error)
    new = [r for r in store().list_runs(limit=10_000) if r["id"] not in before]  # the other test process's too
    assert not [r for r in new if r["title"] == f"imported {name}"]


def test_importing_saved_weights_adds_a_run_that_can_continue(app, two_runs):
    from ui.state import store

    raw = store().load_weights(two_runs[0])
    at = open_runs(app)
    before = {r["id"] for r in store().list_runs(limit=10_000)}
    at.file_uploader[0].set_value(("w.safetensors", raw, "application/octet-stream")).run()
    no_exception(at)
    assert any("Weights imported" in s.value for s in at.success)
    new = [r["id"] for r in store().list_runs(limit=10_000) if r["id"] not in before]  # the other test process's too
    imported = [i for i in new if store().load_weights(i) == raw]
    assert len(imported) == 1, imported


def test_the_playground_export_box_offers_the_trained_network(app):
    """After a Step, the Playground's export box holds the spec, weights, a script, a notebook and the metrics."""
    from core.export import read_weights
    from ui.state import manager

    at = app.run()
    at.switch_page("pages/playground.py").run()
    at.button(key="pg.step").click().run()
    job = manager().get(at.session_state["pg._job"])
    end = time.time() + 30
    while job.running and time.time() < end:
        time.sleep(0.05)
    at.run()
    no_exception(at)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert {"Spec (JSON)", "Weights", "PyTorch script", "Notebook", "Metrics (CSV)"} <= set(buttons)
    assert not buttons["Weights"].proto.disabled and not buttons["Metrics (CSV)"].proto.disabled
    assert not buttons["Notebook"].proto.disabled and not buttons["PyTorch script"].proto.disabled
    tensors, spec = read_weights(job.weights())
    assert spec == job.snapshot()["runs"][0]["spec"]
    assert all((tensors[k] == v).all() for k, v in job.trainers[0].model.state_dict().items())


def test_a_continued_run_opens_on_its_page_with_the_pages_views(app, two_runs):
    """Continue makes the job on the Runs page (without the page's views); its page attaches to it and draws it."""
    from ui.state import manager

    at = open_runs(app)
    at.selectbox(key="runs.one").set_value(two_runs[0]).run()
    at.button(key="runs.continue").click().run()
    no_exception(at)
    continued = at.query_params["run"]
    continued = continued[0] if isinstance(continued, list) else continued
    assert at.session_state["pg._job"] == continued  # the continued run's own job, not a new network
    assert "network" in manager().get(continued).snapshot()["runs"][0]["views"]
