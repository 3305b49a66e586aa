"""The Runs page's arithmetic, weights saved by jobs, and runs continued from saved weights."""

import math

import pytest
import torch

from core import runs
from core.export import read_weights
from core.jobs import Job
from core.presets import load_preset
from core.spec import Spec, to_dict
from core.trainers import make_trainer
from tests.core.waiting import manager_fixture, wait_until

SPEC = Spec().with_(**{"data.n": 100, "train.epochs": 10_000})


def first_epoch_loss(trainer) -> float:
    """The mean training loss of the trainer's next epoch (the engine reports losses per epoch)."""
    while True:
        r = trainer.step()
        if r.metrics:
            return r.metrics["loss"]


manager = manager_fixture(max_running=2)


def test_differing_settings_lists_only_what_differs():
    a = to_dict(SPEC)
    b = to_dict(SPEC.with_(**{"train.lr": 0.3, "model.hidden": (8, 8)}))
    diff = runs.differing_settings([a, b, a])
    assert set(diff) == {"train.lr", "model.hidden"}
    assert diff["train.lr"] == [str(SPEC.train.lr), "0.3", str(SPEC.train.lr)]
    assert diff["model.hidden"][1] == "8, 8"
    assert runs.differing_settings([a, a]) == {}


def test_shared_metrics_are_those_every_run_records():
    h1 = [{"epoch": 1, "loss": 1.0, "val_loss": 2.0, "val_accuracy": 0.5}]
    h2 = [{"epoch": 1, "loss": 1.0, "val_loss": 1.5, "grad_norm": {"l1": 1.0}}]
    assert runs.shared_metrics([h1, h2]) == ["loss", "val_loss"]


def test_series_smoothing_matches_a_hand_computed_debiased_average():
    hist = [{"epoch": e, "loss": v} for e, v in enumerate([4.0, 2.0, float("nan"), 1.0], 1)]
    xs, ys = runs.series(hist, "loss", 0.5)
    assert xs == [1, 2, 4]  # the NaN is skipped
    # EMA 0.5: 2, 2 (after 2), 1.5 (after 1); bias corrections 1-0.5, 1-0.25, 1-0.125
    assert ys == pytest.approx([2 / 0.5, 2.0 / 0.75, 1.5 / 0.875])
    assert runs.series(hist, "loss", 0.0)[1] == [4.0, 2.0, 1.0]


def test_best_is_lowest_loss_and_highest_accuracy():
    hist = [{"epoch": 1, "loss": 0.9, "val_accuracy": 0.6}, {"epoch": 2, "loss": 0.4, "val_accuracy": 0.8}]
    assert runs.best(hist, "loss") == 0.4 and runs.best(hist, "val_accuracy") == 0.8
    assert runs.best([], "loss") is None


def test_page_of_prefers_the_page_that_made_the_run():
    run = {"spec": to_dict(SPEC), "source": "gradients"}
    assert runs.page_of(run) == "gradients"
    assert runs.page_of(run | {"source": "runner"}) == "playground"  # from its spec
    cnn = {"spec": to_dict(Spec().with_(**{"data.name": "digits", "model.family": "cnn"})), "source": "app"}
    assert runs.page_of(cnn) == "cnn"


def test_a_paused_job_saves_its_weights_in_the_store(manager, tmp_store):
    job = manager.create(SPEC, source="playground")
    assert job.step(2) == ""
    assert wait_until(lambda: not job.running)
    run_id = job.snapshot()["runs"][0]["run_id"]
    assert tmp_store.get_run(run_id)["source"] == "playground"
    assert wait_until(lambda: tmp_store.load_weights(run_id) is not None)
    tensors, spec = read_weights(tmp_store.load_weights(run_id))
    assert spec == SPEC
    for name, value in job.trainers[0].model.state_dict().items():
        assert torch.equal(tensors[name], value), name


def test_a_continued_run_starts_from_the_saved_network(manager, tmp_store):
    job = manager.create(SPEC)
    job.step(3)
    assert wait_until(lambda: not job.running)
    raw = tmp_store.load_weights(job.snapshot()["runs"][0]["run_id"])
    saved = job.trainers[0].model

    # Oracle: a fresh trainer given the saved network's state by PyTorch's own load_state_dict.
    oracle = make_trainer(SPEC)
    oracle.model.load_state_dict(saved.state_dict())
    expected = first_epoch_loss(oracle)

    continued = Job(SPEC, weights=[raw])
    first = first_epoch_loss(continued.trainers[0])
    assert math.isclose(first, expected, rel_tol=1e-6)
    assert not math.isclose(first, first_epoch_loss(make_trainer(SPEC)), rel_tol=1e-3)  # not a fresh network


def test_weights_for_another_network_are_refused():
    raw = Job(SPEC.with_(**{"model.hidden": (3,)})).weights()
    with pytest.raises(Exception, match="weights"):
        Job(SPEC, weights=[raw])


def test_the_sides_of_a_comparison_are_named_by_their_own_settings():
    """rnn-vs-lstm-adding's two runs: one name each, with the side's letter and its cell."""
    preset = load_preset("rnn-vs-lstm-adding")
    a, b = runs.side_titles(preset.name, [to_dict(preset.compare_spec()), to_dict(preset.spec)])
    assert a == "rnn-vs-lstm-adding · A: RNN (tanh)"
    assert b == "rnn-vs-lstm-adding · B: LSTM"
    assert runs.side_titles("tfp-default", [to_dict(SPEC)]) == ["tfp-default"]  # one run: its title alone


def test_a_side_by_side_job_stores_each_run_under_its_side_name(manager, tmp_store):
    b_spec = SPEC.with_(**{"train.lr": 0.1})
    job = manager.create([SPEC, b_spec], title="lr-race", source="playground")
    assert job.step(1) == ""
    assert wait_until(lambda: not job.running and all(r["run_id"] for r in job.snapshot()["runs"]))
    titles = [tmp_store.get_run(r["run_id"])["title"] for r in job.snapshot()["runs"]]
    assert titles == [f"lr-race · A: lr {SPEC.train.lr:g}", "lr-race · B: lr 0.1"]
