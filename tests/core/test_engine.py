"""The Trainer trains exactly as a hand-written PyTorch loop would, and stops on divergence."""

import math

import pytest
import torch
import torch.nn.functional as F

from core.engine import Trainer, needs_rebuild, schedule_preview
from core.models import build_model, count_params
from core.probes import default_probes
from core.registry import OPTIMIZERS, SCHEDULES
from core.spec import Spec
from tests.core.bare import bare_loop

SMALL = Spec().with_(**{"data.n": 120, "data.batch_size": 10, "model.hidden": (6, 4), "train.epochs": 50})


def bare_loop_losses(spec: Spec, epochs: int) -> list[float]:
    """The oracle's mean loss per epoch."""
    epoch = bare_loop(spec, F.binary_cross_entropy_with_logits)
    return [sum(x.item() for x in losses) / len(losses) for losses in (epoch() for _ in range(epochs))]


def test_epoch_losses_equal_a_bare_pytorch_loop():
    t = Trainer(SMALL, default_probes())
    for _ in range(5):
        t.run_epoch()
    ours = [r["loss"] for r in t.history]
    assert ours == pytest.approx(bare_loop_losses(SMALL, 5), rel=1e-5)
    assert [r["epoch"] for r in t.history] == [1, 2, 3, 4, 5]
    assert t.history[-1]["step"] == 5 * 6  # 60 training points / batch 10


def test_validation_metrics_are_full_set_evaluations():
    t = Trainer(SMALL)
    rec = t.run_epoch()
    with torch.no_grad():
        t.model.eval()
        out = t.model(t.data.x_val)
        val = F.binary_cross_entropy_with_logits(out, t.data.y_val).item()
        acc = ((out[:, 0] >= 0).long() == t.data.y_val[:, 0].long()).float().mean().item()
    assert rec["val_loss"] == pytest.approx(val, rel=1e-6)
    assert rec["val_accuracy"] == pytest.approx(acc)


def lrs_per_step(spec: Spec, steps: int) -> list[float]:
    t = Trainer(spec)
    out = []
    for _ in range(steps):
        out.append(t.lr)
        t.step()
    return out


def test_cosine_schedule_matches_its_formula():
    spec = SMALL.with_(**{"train.schedule": "cosine", "train.epochs": 4, "train.lr": 0.1})
    total = 4 * 6
    expected = [0.1 * (1 + math.cos(math.pi * s / total)) / 2 for s in range(total)]
    assert lrs_per_step(spec, total) == pytest.approx(expected, rel=1e-6)


def test_step_and_exponential_schedules_decay_per_epoch():
    spec = SMALL.with_(**{"train.schedule": "step", "train.step_size": 2, "train.gamma": 0.5, "train.lr": 0.1})
    lrs = lrs_per_step(spec, 30)
    assert lrs == pytest.approx([0.1 * 0.5 ** (s // 12) for s in range(30)])
    spec = SMALL.with_(**{"train.schedule": "exponential", "train.gamma": 0.9, "train.lr": 0.1})
    lrs = lrs_per_step(spec, 13)
    assert lrs[6] == pytest.approx(0.09) and lrs[12] == pytest.approx(0.081)


@pytest.mark.parametrize("name", ["warmup_cosine", "onecycle", "cosine", "step"])
def test_schedule_preview_is_what_training_uses(name):
    spec = SMALL.with_(**{"train.schedule": name, "train.epochs": 5, "train.warmup": 2, "train.step_size": 2})
    xs, ys = schedule_preview(spec.train, 6)
    assert len(xs) == 30 and xs[6] == 1.0
    assert ys == pytest.approx(lrs_per_step(spec, 30), rel=1e-6)


def test_warmup_rises_then_decays():
    spec = SMALL.with_(**{"train.schedule": "warmup_cosine", "train.epochs": 10, "train.warmup": 3, "train.lr": 0.1})
    _, ys = schedule_preview(spec.train, 6)
    peak = ys.index(max(ys))
    assert peak == 18 and ys[0] == pytest.approx(0.001) and max(ys) == pytest.approx(0.1) and ys[-1] < 0.01


def test_divergence_stops_with_the_step_and_keeps_history():
    t = Trainer(Spec().with_(**{"data.name": "plane", "model.hidden": (), "train.lr": 0.5, "data.n": 300}))
    while not t.done:
        t.step()
    assert t.status == "diverged"
    assert t.message.startswith("diverged at step ")
    step = int(t.message.split()[3].rstrip(":"))
    assert step == t.step_count + 1
    assert t.history and all(math.isfinite(r["epoch"]) for r in t.history)


def test_early_stopping_waits_for_patience():
    spec = SMALL.with_(**{"train.early_stop": 3, "train.lr": 3.0, "train.optimizer": "sgd", "data.noise": 50.0})
    t = Trainer(spec)
    while not t.done:
        t.run_epoch()
    assert t.status == "early_stopped" and t.epoch < 50
    vals = [r["val_loss"] for r in t.history]
    best = vals.index(min(vals))
    assert len(vals) - 1 - best == 3
    assert f"best {min(vals):.4f} at epoch {best + 1}" in t.message


def test_finishes_after_the_spec_epochs():
    t = Trainer(SMALL.with_(**{"train.epochs": 3}))
    while not t.done:
        t.step()
    assert t.status == "done" and t.epoch == 3


def test_live_lr_change_keeps_weights():
    t = Trainer(SMALL)
    t.run_epoch()
    before = [p.detach().clone() for p in t.model.parameters()]
    new = SMALL.with_(**{"train.lr": 0.5})
    assert not needs_rebuild(SMALL, new)
    t.apply_live(new)
    assert t.lr == 0.5
    assert all(torch.equal(a, b) for a, b in zip(before, t.model.parameters()))
    assert needs_rebuild(SMALL, SMALL.with_(**{"model.hidden": (3,)}))


def test_l2_penalty_adds_half_sum_of_squares():
    spec = SMALL.with_(**{"train.l2": 0.1, "train.l1": 0.01})
    t = Trainer(spec)
    w = [p for p in t.model.parameters() if p.ndim == 2]
    expected = sum(0.01 * p.abs().sum() + 0.05 * (p * p).sum() for p in w)
    assert float(t.penalty().detach()) == pytest.approx(float(expected.detach()), rel=1e-6)


def test_param_count_and_tfp_default_init():
    from core.presets import load_preset

    spec = load_preset("tfp-default").spec
    assert count_params(spec) == (2 * 4 + 4) + (4 * 2 + 2) + (2 + 1)
    torch.manual_seed(0)
    model = build_model(spec)
    for _, layer in model.named_layers():
        assert layer.weight.abs().max() <= 0.5 and torch.all(layer.bias == 0.1)


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"])
def test_every_optimizer_lowers_the_loss(opt):
    spec = SMALL.with_(**{"train.optimizer": opt, "train.lr": 0.01 if opt != "sgd" else 0.1, "data.name": "gauss"})
    t = Trainer(spec)
    for _ in range(15):
        t.run_epoch()
    assert t.history[-1]["train_loss"] < t.history[0]["train_loss"]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_trains_with_every_schedule(optimizer):
    """One cycle cycles the momentum only of an optimiser that has one (Adagrad has neither momentum nor betas)."""
    for schedule in SCHEDULES:
        t = Trainer(SMALL.with_(**{"train.optimizer": optimizer, "train.schedule": schedule, "train.epochs": 2}))
        while not t.done:
            t.step()
        assert t.history, (optimizer, schedule)
