"""A model family added from outside core/ (docs/adding.md): registered here, it runs through validation, the
engine, its view and the runner like a built-in family."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from core.__main__ import main
from core.engine import Trainer
from core.models import count_params, input_size
from core.probes import default_probes
from core.spec import CHOICES, Spec, SpecError, output_size, to_json, validate
from core.trainers import FAMILIES, Family, make_trainer, register_family, unregister_family
from core.views.mlp import decision_grid


class LinearTrainer(Trainer):
    """Logistic regression: one linear layer from the spec's input features to its output, no hidden layer."""

    def _build_model(self) -> nn.Module:
        return nn.Linear(input_size(self.spec), output_size(self.spec))


def linear_views(trainer) -> dict:
    """The weights (outputs x inputs) and the model's prediction over the plane."""
    return {"weights": trainer.model.weight.detach().cpu().numpy(), "grid": decision_grid(trainer, n=20)}


LINEAR = Family("linear", LinearTrainer, default_probes, linear_views)
# The circle is not linearly separable in (x1, x2) but is with the squares: x1^2 + x2^2 < r^2 inside.
SPEC = Spec().with_(
    **{
        "model.family": "linear",
        "model.hidden": (),
        "data.features": ("x1", "x2", "x1sq", "x2sq"),
        "data.n": 200,
        "data.batch_size": 20,
        "train.optimizer": "adam",
        "train.lr": 0.1,
        "train.epochs": 30,
        "seed": 1,
    }
)


@pytest.fixture
def linear():
    register_family(LINEAR, "Linear (logistic regression)")
    yield LINEAR
    unregister_family("linear")


def test_validation_knows_a_family_only_once_it_is_registered(linear):
    assert "linear" in CHOICES["model.family"]  # the widget's list and validate() read this table
    assert validate(SPEC) is SPEC
    unregister_family("linear")
    with pytest.raises(SpecError) as e:
        validate(SPEC)
    assert e.value.field == "model.family" and "linear" not in str(e.value.allowed)
    register_family(LINEAR, "Linear (logistic regression)")  # for the fixture's clean-up


def test_a_taken_name_is_refused(linear):
    with pytest.raises(ValueError, match="already registered"):
        register_family(Family("mlp", LinearTrainer, default_probes, linear_views), "Another MLP")
    with pytest.raises(ValueError, match="already registered"):
        register_family(LINEAR, "Twice")
    assert FAMILIES["mlp"].trainer is not LinearTrainer


def test_the_engine_trains_the_family_and_its_loss_falls(linear):
    trainer = make_trainer(SPEC)
    assert type(trainer) is LinearTrainer and isinstance(trainer.model, nn.Linear)
    # The budget counts parameters by arithmetic; for this family it must count the network built.
    assert count_params(SPEC) == sum(p.numel() for p in trainer.model.parameters()) == 4 + 1
    while not trainer.done:
        trainer.step()
    losses = [r["loss"] for r in trainer.history]
    assert trainer.status == "done" and len(losses) == 30
    assert losses[-1] < 0.5 * losses[0]
    assert trainer.history[-1]["val_accuracy"] > 0.9
    (norm,) = trainer.history[-1]["grad_norm"].values()  # the family's probes see its one weight layer
    assert norm > 0


def test_the_view_is_the_networks_own_prediction(linear):
    trainer = make_trainer(SPEC)
    trainer.run_epoch()
    views = FAMILIES["linear"].views(trainer)
    w, grid = views["weights"], views["grid"]
    assert w.shape == (1, 4) and grid["value"].shape == (20, 20) and grid["xs"].shape == (20,)
    # The oracle: P(class 1) = sigmoid(w . (x1, x2, x1^2, x2^2) + b) at every grid point, by hand.
    gx, gy = np.meshgrid(grid["xs"], grid["ys"])
    feats = np.stack([gx, gy, gx**2, gy**2], -1).astype(np.float64)
    b = trainer.model.bias.detach().numpy().astype(np.float64)
    by_hand = 1 / (1 + np.exp(-(feats @ w[0].astype(np.float64) + b[0])))
    np.testing.assert_allclose(grid["value"], by_hand, atol=1e-5)
    assert torch.isfinite(torch.as_tensor(grid["value"])).all()


def test_the_runner_runs_the_family(linear, capsys, tmp_path):
    path, out = tmp_path / "linear.json", tmp_path / "metrics.jsonl"
    path.write_text(to_json(SPEC))
    code = main(["run", str(path), "--quiet", "--out", str(out)])
    summary = json.loads(capsys.readouterr().out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0 and summary["status"] == "done" and summary["epochs"] == 30
    assert summary["loss"] == records[-1]["loss"] < 0.5 * records[0]["loss"]
    # The same spec trained in-process gives the same losses: the runner built this family's trainer.
    trainer = make_trainer(SPEC)
    while not trainer.done:
        trainer.step()
    assert [r["loss"] for r in trainer.history] == [r["loss"] for r in records]


def test_the_runner_refuses_the_family_once_it_is_gone(capsys, tmp_path):
    path = tmp_path / "linear.json"
    path.write_text(to_json(SPEC))
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.family" in err and "linear" in err
