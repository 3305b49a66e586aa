"""Loss landscape: computed on a copy, its centre is the trained network's loss, the path is projected right."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.landscape import PathRecorder, filter_normalized, landscape, slice_measures
from core.presets import load_preset
from core.trainers import make_trainer


@pytest.fixture(scope="module")
def trained():
    t = make_trainer(load_preset("tfp-default").spec.with_(**{"train.epochs": 8}), [PathRecorder()])
    while not t.done:
        t.run_epoch()
    return t


@pytest.mark.parametrize("directions", ["random", "pca"])
def test_centre_is_the_trained_loss_and_the_model_is_untouched(trained, directions):
    before = [p.detach().clone() for p in trained.model.parameters()]
    r = landscape(trained, grid=7, directions=directions)
    assert all(torch.equal(a, b) for a, b in zip(before, trained.model.parameters()))
    assert r["centre_loss"] == pytest.approx(trained.history[-1]["train_loss"], rel=1e-6)
    assert r["line"]["train"][np.argmin(np.abs(r["line"]["alphas"] - 1.0))] == pytest.approx(r["centre_loss"], rel=1e-5)
    # a = 0 is the seed's initial network: a fresh trainer's loss before any step
    fresh = make_trainer(trained.spec)
    with torch.no_grad():
        start = float(fresh.loss_fn(fresh.predict(fresh.data.x_train), fresh.data.y_train))
    assert np.interp(0.0, r["line"]["alphas"], r["line"]["train"]) == pytest.approx(start, rel=1e-3)
    assert r["path"]["epochs"][0] == 0 and r["path"]["epochs"][-1] == trained.epoch
    if directions == "pca":  # the plane is spanned by the path's main directions: the last point is the centre
        assert r["path"]["x"][-1] == pytest.approx(0.0, abs=1e-9) and sum(r["variance_share"]) > 0.9


def test_random_directions_are_filter_normalised(trained):
    d = filter_normalized(trained.model, torch.Generator().manual_seed(0))
    offset = 0
    for p in trained.model.parameters():
        part = d[offset : offset + p.numel()].reshape(p.shape)
        offset += p.numel()
        if p.ndim < 2:
            assert torch.all(part == 0)
        else:
            assert torch.allclose(part.norm(dim=1), p.detach().norm(dim=1), rtol=1e-5)


def test_slice_measures_read_a_bowl_and_a_bumpy_line():
    """On 1 + a^2 + b^2 the loss reaches 2 (twice the centre's 1) at radius 1; a bump adds local minima."""
    xs = ys = np.linspace(-2, 2, 41)  # steps of 0.1
    a, b = np.meshgrid(xs, ys)
    bowl = 1 + a**2 + b**2
    m = slice_measures(xs, ys, bowl)
    assert m["basin_radius"] == pytest.approx(1.0)
    assert m["below_share"] == pytest.approx(np.mean(a**2 + b**2 < 1))
    assert m["local_minima"] == 2  # one at the centre on each axis
    bumpy = bowl + 0.5 * np.cos(8 * a)  # along the a axis: the centre and the bumps' valleys
    valleys = np.sum(np.diff(np.sign(np.diff(bumpy[20]))) > 0)
    assert valleys > 1 and slice_measures(xs, ys, bumpy)["local_minima"] == valleys + 1


def test_landscape_cli_prints_the_grid():
    cmd = [sys.executable, "-m", "core", "landscape", "tfp-default", "--steps", "50", "--grid", "5"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert np.asarray(line["plane"]["z"]).shape == (5, 5) and line["centre_loss"] == line["plane"]["z"][2][2]
    bad = subprocess.run(cmd[:-1] + ["4"], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
