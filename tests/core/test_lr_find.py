"""LR range test: real steps on a copy, the network untouched, a suggestion where the loss falls fastest."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.lr_find import lr_range_test, suggest
from core.presets import load_preset
from core.trainers import make_trainer


def _state(trainer):
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_the_trainers_network_optimiser_and_streams_are_untouched():
    spec = load_preset("tfp-default").spec.with_(**{"model.dropout": 0.2})
    t = make_trainer(spec)
    for _ in range(30):
        t.step()
    before, opt_before = _state(t), json.dumps(t.optimizer.state_dict()["param_groups"])
    rng_before = t._rng_state.clone()
    result = lr_range_test(t, steps=60)
    assert len(result["lrs"]) > 10
    assert all(torch.equal(before[k], v) for k, v in t.model.state_dict().items())
    assert json.dumps(t.optimizer.state_dict()["param_groups"]) == opt_before
    assert torch.equal(t._rng_state, rng_before)
    # the trainer goes on exactly as a twin that never ran the test
    twin = make_trainer(spec)
    for _ in range(30):
        twin.step()
    for _ in range(30):
        t.step(), twin.step()
    assert all(torch.equal(a, b) for a, b in zip(t.model.parameters(), twin.model.parameters()))


def test_the_curve_comes_from_real_steps_at_growing_rates():
    t = make_trainer(load_preset("tfp-default").spec)
    r = lr_range_test(t, steps=50, lr_min=1e-4, lr_max=1.0)
    lrs = np.array(r["lrs"])
    assert lrs[0] == pytest.approx(1e-4) and np.all(np.diff(np.log(lrs)) == pytest.approx(np.log(1e4) / 49))
    assert len(set(np.round(r["losses"], 8))) > 10  # a real, changing loss, one value per step
    # the first step's loss is the copy's loss on its first batch before any update
    gen = torch.Generator().manual_seed(t.spec.seed + 7)
    idx = torch.randperm(len(t.data.x_train), generator=gen)[: t.spec.data.batch_size]
    with torch.no_grad():
        first = float(t.loss_fn(t.model(t.data.x_train[idx]), t.data.y_train[idx]))
    assert r["losses"][0] == pytest.approx(first, rel=1e-6)


def test_suggestion_is_the_steepest_fall_before_the_minimum():
    lrs = list(np.logspace(-5, 1, 200))
    x = np.log10(lrs)
    loss = 1.0 - 0.5 * np.tanh(2 * (x + 2)) + np.where(x > 0, 5 * x**2, 0)  # steepest at lr = 1e-2
    assert suggest(lrs, list(loss)) == pytest.approx(1e-2, rel=0.1)
    assert suggest(lrs[:10], list(loss[:10])) is None


def test_lr_find_cli_prints_one_json_line():
    out = subprocess.run(
        [sys.executable, "-m", "core", "lr-find", "tfp-default", "--steps", "40"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert len(line["lrs"]) == len(line["losses"]) > 10 and "suggested_lr" in line
    bad = subprocess.run(
        [sys.executable, "-m", "core", "lr-find", "tfp-default", "--steps", "3"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
