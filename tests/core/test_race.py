"""Optimiser race: each racer is torch.optim on a 2-parameter tensor; steps to tolerance are counted right."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from core.race import race, run_racer
from core.surfaces import SURFACES


def test_sgd_path_is_the_hand_computed_gradient_descent():
    r = run_racer("ravine", "sgd", 0.02, 50)
    p = np.array(SURFACES["ravine"].start)
    for k in range(50):
        assert r["path"][k] == pytest.approx(p)
        p = p - 0.02 * np.array([p[0], 50 * p[1]])  # grad of 0.5 (x^2 + 50 y^2)
    assert r["losses"][10] == pytest.approx(0.5 * (r["path"][10][0] ** 2 + 50 * r["path"][10][1] ** 2))


def test_steps_to_tolerance_is_the_first_step_within_it_and_divergence_stops_a_racer():
    r = race("ravine", {"momentum": 0.02, "sgd": 0.045}, 200)
    gaps = r["momentum"]["losses"] - SURFACES["ravine"].f_min
    k = r["momentum"]["steps_to_tol"]
    assert gaps[k] <= 1e-3 and np.all(gaps[:k] > 1e-3)
    assert r["sgd"]["diverged"] and r["sgd"]["steps_to_tol"] is None  # above 2/50, SGD overshoots the walls
    adam = run_racer("rosenbrock", "adam", 0.1, 20)
    p = torch.tensor(SURFACES["rosenbrock"].start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1)
    for _ in range(20):
        opt.zero_grad()
        SURFACES["rosenbrock"].f(p).backward()
        opt.step()
    assert adam["path"][-1] == pytest.approx(p.detach().numpy())


def test_every_surfaces_minimum_has_its_value():
    for s in SURFACES.values():
        for m in s.minima:
            assert float(s.f(torch.tensor(m, dtype=torch.float64))) == pytest.approx(s.f_min, abs=1e-6)


def test_race_cli_prints_one_json_line_and_refuses_bad_input():
    out = subprocess.run([sys.executable, "-m", "core", "race", "opt-race-ravine"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert line["optimizers"]["momentum"]["steps_to_tol"] < 200 and line["optimizers"]["sgd"]["steps_to_tol"] is None
    for bad in (["nope"], ["ravine", "--set", "foo.lr=1"], ["ravine", "--steps", "0"]):
        out = subprocess.run([sys.executable, "-m", "core", "race", *bad], capture_output=True, text=True)
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
