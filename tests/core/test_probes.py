"""Probes report exactly what PyTorch computes, and never change training."""

import time

import numpy as np
import pytest
import torch

from core.engine import MEASURE_SHARE, Probe, Trainer
from core.gradlab import (
    ActivationStatsProbe,
    UpdateRatioProbe,
    activation_stats,
    first_last_ratio,
    gradlab_probes,
)
from core.jobs import Job
from core.probes import GradNormProbe, default_probes
from core.spec import Spec
from core.views.mlp import decision_grid
from tests.core.waiting import wait_until

DEEP = Spec().with_(
    **{
        "data.n": 200,
        "data.batch_size": 20,
        "model.hidden": (8,) * 6,
        "model.activation": ("sigmoid",),
        "train.lr": 0.1,
    }
)


def test_grad_norm_equals_weight_grad_norm():
    probe = GradNormProbe()
    t = Trainer(DEEP, [probe])
    t.step()  # the gradients stay in .grad until the next step zeroes them
    direct = {name: float(m.weight.grad.norm()) for name, m in t.model.named_layers()}
    assert list(probe.last_values) == [f"layer{i}" for i in range(1, 7)] + ["output"]
    assert probe.last_values == pytest.approx(direct, rel=1e-6)


def test_grad_norm_is_read_before_clipping():
    probe = GradNormProbe()
    t = Trainer(DEEP.with_(**{"train.clip": 1e-4}), [probe])
    t.step()
    clipped = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in t.model.parameters()]))
    assert clipped == pytest.approx(1e-4, rel=1e-3)
    assert max(probe.last_values.values()) > 1e-3  # the probe saw the unclipped gradient


def test_epoch_record_is_the_mean_of_its_steps():
    probe = GradNormProbe(keep_steps=True)
    t = Trainer(DEEP, [probe])
    rec = t.run_epoch()
    view = probe.steps_view()
    assert view["norms"].shape == (5, 7) and list(view["steps"]) == [1, 2, 3, 4, 5]
    assert list(rec["grad_norm"].values()) == pytest.approx(view["norms"].mean(0).tolist(), rel=1e-5)


def test_sigmoid_stack_shows_vanishing_and_relu_he_does_not():
    sig = Trainer(DEEP.with_(**{"model.hidden": (16,) * 10}), default_probes())
    relu = Trainer(
        DEEP.with_(**{"model.hidden": (16,) * 10, "model.activation": ("relu",), "model.init": "he"}), default_probes()
    )
    r_sig = first_last_ratio(sig.run_epoch())
    r_relu = first_last_ratio(relu.run_epoch())
    assert r_sig < 1e-4  # sigmoid' <= 0.25: ten layers shrink it by orders of magnitude
    assert 0.05 < r_relu < 20


def test_probes_do_not_change_training():
    spec = DEEP.with_(**{"model.batchnorm": True, "model.dropout": 0.2})
    plain = Trainer(spec, [])
    probed = Trainer(spec, gradlab_probes())
    for _ in range(3):
        plain.run_epoch()
        probed.run_epoch()
    assert [r["loss"] for r in plain.history] == [r["loss"] for r in probed.history]
    assert [r["val_loss"] for r in plain.history] == [r["val_loss"] for r in probed.history]


def test_activation_stats_equal_a_direct_forward():
    probe = ActivationStatsProbe()
    t = Trainer(DEEP, [probe])
    rec = t.run_epoch()
    x = t.data.x_train[:256]
    t.model.eval()
    with torch.no_grad():
        h = x
        for i, block in enumerate(t.model.blocks):
            h = block(h)
            s = rec["activation"][f"layer{i + 1}"]
            assert s["mean"] == pytest.approx(float(h.mean()), rel=1e-5)
            assert s["std"] == pytest.approx(float(h.std()), rel=1e-5)
            assert s["q50"] == pytest.approx(float(np.percentile(h.numpy(), 50)), rel=1e-5)
            sat = float(((h * (1 - h)) / 0.25 < 0.08).float().mean())
            assert s["saturated"] == pytest.approx(sat)


def test_saturation_and_dead_units_on_known_values():
    a = torch.tensor([[0.001, 0.5], [0.999, 0.5]])
    assert activation_stats(a, "sigmoid")["saturated"] == 0.5
    r = torch.tensor([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])  # unit 0 never fires
    assert activation_stats(r, "relu")["dead"] == pytest.approx(1 / 3)
    assert activation_stats(torch.tensor([[float("inf"), 1.0]]), "relu")["mean"] == 1.0


def test_update_ratio_is_the_last_steps_relative_change():
    probe = UpdateRatioProbe()
    t = Trainer(DEEP, [probe])
    for _ in range(4):
        t.step()
    before = {n: m.weight.detach().clone() for n, m in t.model.named_layers()}
    rec = t.step().metrics  # the fifth step closes the epoch
    for name, m in t.model.named_layers():
        expected = float((m.weight.detach() - before[name]).norm() / before[name].norm())
        assert rec["update_ratio"][name] == pytest.approx(expected, rel=1e-4)


def test_decision_grid_is_the_model_on_the_plane():
    t = Trainer(Spec().with_(**{"data.n": 100}))
    g = decision_grid(t, n=5)
    x = torch.tensor([[g["xs"][3], g["ys"][1]]])
    with torch.no_grad():
        p = torch.sigmoid(t.model.eval()(x))[0, 0].item()
    assert g["value"][1, 3] == pytest.approx(p, rel=1e-5)
    assert g["range"] == (0.0, 1.0)


def test_ab_job_feeds_identical_batches():
    a = DEEP.with_(**{"data.n": 100})
    b = a.with_(**{"model.activation": ("relu",), "model.init": "he"})
    job = Job([a, b])
    seen = [[], []]
    for i, t in enumerate(job.trainers):
        t.model.blocks[0].linear.register_forward_pre_hook(
            lambda mod, inp, i=i: seen[i].append(inp[0].clone()) if mod.training else None
        )
    try:
        job.step(2)
        for _ in range(200):
            if not job.running:
                break
            import time

            time.sleep(0.05)
    finally:
        job.stop()
    assert len(seen[0]) == len(seen[1]) == 6  # 50 training points, batch 20: 3 steps an epoch
    assert all(torch.equal(x, y) for x, y in zip(*seen))
    assert not torch.equal(seen[0][0], seen[0][1])


def test_histograms_cover_sigmoid_range():
    probe = ActivationStatsProbe()
    t = Trainer(DEEP, [probe])
    t.run_epoch()
    h = probe.latest_hist["layer3"]
    assert h["edges"][0] == 0 and h["edges"][-1] == 1
    assert np.sum(h["share"]) == pytest.approx(1.0, rel=1e-5)


def test_costly_probes_follow_the_evaluation_cadence_and_measure_their_own_epoch():
    act, upd = ActivationStatsProbe(), UpdateRatioProbe()
    t = Trainer(DEEP.with_(**{"train.epochs": 8}), [GradNormProbe(), act, upd])
    t.eval_interval_s = 3600.0  # live, as a Job runs it: after the first epoch nothing is due for an hour
    for _ in range(3):
        t.run_epoch()
    seen = [("train_loss" in r, "activation" in r, "update_ratio" in r) for r in t.history]
    assert seen == [(True, True, True), (False, False, False), (False, False, False)]
    assert all("grad_norm" in r for r in t.history)  # the gradient norm is measured on every step

    t.eval_interval_s = 0.0  # Step, slow motion and the runner: every epoch is measured
    for _ in range(t.steps_per_epoch - 1):
        t.step()
    before = {n: m.weight.detach().clone() for n, m in t.model.named_layers()}
    rec = t.step().metrics  # closes epoch 4
    assert rec["epoch"] == 4 and "train_loss" in rec
    for name, m in t.model.named_layers():  # the ratio of epoch 4's own last step
        expected = float((m.weight.detach() - before[name]).norm() / before[name].norm())
        assert rec["update_ratio"][name] == pytest.approx(expected, rel=1e-4)
    t.model.eval()
    with torch.no_grad():  # the statistics of the network as it stands at the end of epoch 4
        h = t.data.x_train[:256]
        for i, block in enumerate(t.model.blocks):
            h = block(h)
            assert rec["activation"][f"layer{i + 1}"]["mean"] == pytest.approx(float(h.mean()), rel=1e-5)
    assert act.latest_hist["layer1"]["share"].sum() == pytest.approx(1.0, rel=1e-5)

    t.eval_interval_s = 3600.0
    while not t.done:
        t.run_epoch()
    seen = [("train_loss" in r, "activation" in r, "update_ratio" in r) for r in t.history[4:]]
    assert seen == [(False, False, False)] * 3 + [(True, True, True)]  # the last epoch is always measured


def test_kept_steps_are_thinned_but_stay_the_norms_of_their_steps():
    kept, every = GradNormProbe(keep_steps=True), GradNormProbe(keep_steps=True)
    kept.MAX_KEPT_STEPS = 8  # thinned after 8 kept steps, then again: at most 8 rows
    t = Trainer(DEEP, [kept, every])
    for _ in range(21):
        t.step()
    small, full = kept.steps_view(), every.steps_view()
    assert len(full["steps"]) == 21 and len(small["steps"]) < 8
    assert list(small["steps"]) == list(range(4, 22, 4))  # every fourth step after two thinnings
    assert np.array_equal(small["norms"], full["norms"][small["steps"] - 1])


def test_a_stepped_job_measures_every_epoch_and_a_playing_one_with_its_evaluations():
    job = Job(DEEP.with_(**{"data.n": 100, "train.epochs": 10_000}), probes=gradlab_probes)
    try:
        job.play()
        assert wait_until(lambda: job.trainers[0].epoch >= 30)
        job.pause()
        assert wait_until(lambda: not job.running)
        job.step(3)
        assert wait_until(lambda: not job.running)
    finally:
        job.stop()
    hist = job.snapshot()["runs"][0]["history"]
    # while playing, the activation statistics and update ratios come with the whole-set evaluation, never alone
    assert all(("train_loss" in r) == ("activation" in r) == ("update_ratio" in r) for r in hist)
    assert all("activation" in r and "update_ratio" in r for r in hist[-3:])  # each stepped epoch is measured


def test_the_runners_trainer_measures_every_epoch():
    t = Trainer(DEEP, gradlab_probes())  # as the runner and the tests build it: no live cadence
    for _ in range(3):
        t.run_epoch()
    assert all("activation" in r and "update_ratio" in r and "train_loss" in r for r in t.history)


class SlowMeasurement(Probe):
    """A probe whose measurement costs 30 ms (as a whole-set evaluation of a large network might)."""

    def on_epoch_end(self, trainer: Trainer) -> dict:
        if not trainer.measuring:
            return {}
        time.sleep(0.03)
        return {"slow": 1.0}


def test_a_costly_measurement_is_spaced_out_to_a_tenth_of_the_time():
    """Live, an epoch end that costs 30 ms is measured at most every 0.3 s, not on the 0.1 s cadence;
    the runner (cadence 0) still measures every epoch."""
    spec = Spec().with_(**{"train.epochs": 10_000})
    live = Trainer(spec, probes=[SlowMeasurement()])
    live.eval_interval_s = 0.001
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.5:
        live.run_epoch()
    measured = [r for r in live.history if "slow" in r]
    assert len(measured) <= 1.5 / (0.03 / MEASURE_SHARE) + 2
    assert all("train_loss" in r for r in measured) and not any(
        "train_loss" in r for r in live.history if "slow" not in r
    )
    runner = Trainer(spec.with_(**{"train.epochs": 5}), probes=[SlowMeasurement()])
    while not runner.done:
        runner.run_epoch()
    assert [r.get("slow") for r in runner.history] == [1.0] * 5
