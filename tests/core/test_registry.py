"""Adding a schedule, a loss or a dataset is one registry entry: validation, the engine and the widgets read it."""

from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.dataset import make_dataset
from core.engine import Trainer, schedule_preview
from core.registry import (
    DATASETS,
    GAN_LOSSES,
    LOSSES,
    SCHEDULES,
    DatasetInfo,
    GanLoss,
    Loss,
    Schedule,
    labels,
    losses_for,
)
from core.registry_doc import registry_markdown
from core.spec import Spec, SpecError, validate
from core.trainers import make_trainer

SMALL = Spec().with_(**{"data.n": 40, "data.batch_size": 10, "model.hidden": (3,), "train.epochs": 3})


@pytest.fixture
def halving():
    """A schedule registered for one test: the LR halves after every epoch."""
    SCHEDULES["halve"] = Schedule(
        "Halve every epoch",
        lambda opt, train, spe: torch.optim.lr_scheduler.StepLR(opt, step_size=spe, gamma=0.5),
        "multiply by 0.5 after each epoch",
    )
    yield "halve"
    del SCHEDULES["halve"]


@pytest.fixture
def mae():
    """A loss registered for one test: mean absolute error, for values and for -1/+1 labels."""
    LOSSES["mae"] = Loss("Mean absolute error", torch.nn.functional.l1_loss, ("binary", "regression"), "pm1")
    yield "mae"
    del LOSSES["mae"]


def test_a_new_schedule_is_validated_trained_with_and_offered(halving):
    spec = validate(SMALL.with_(**{"train.schedule": halving, "train.lr": 0.1}))
    t = Trainer(spec)  # 20 training points, batch 10: two steps an epoch
    lrs = [t.run_epoch()["lr"] for _ in range(3)]
    assert lrs == pytest.approx([0.1, 0.05, 0.025])  # the LR each epoch's steps used: 0.1 * 0.5^epoch
    assert t.lr == pytest.approx(0.0125)
    _, ys = schedule_preview(spec.train, 2)
    assert ys == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert labels(SCHEDULES)[halving] == "Halve every epoch"  # the widget's choices


def test_an_unregistered_schedule_is_refused_naming_the_registered_ones(halving):
    with pytest.raises(SpecError) as e:
        validate(SMALL.with_(**{"train.schedule": "halves"}))
    assert e.value.field == "train.schedule" and "halve" in e.value.allowed


def test_a_new_loss_is_validated_trained_with_and_offered(mae):
    spec = validate(SMALL.with_(**{"data.name": "plane", "train.loss": mae}))
    t = Trainer(spec)
    rec = t.run_epoch()
    hand = (t.predict(t.data.x_train) - t.data.y_train).abs().mean()  # mean |out - y| by hand
    assert rec["train_loss"] == pytest.approx(float(hand), rel=1e-6)
    assert list(losses_for("regression")) == ["mse", "half_mse", mae]  # the Playground's loss choices
    assert mae not in losses_for("multiclass")


def test_a_new_loss_on_two_classes_uses_its_label_encoding(mae):
    t = Trainer(validate(SMALL.with_(**{"train.loss": mae})))  # circle: two classes
    assert set(t.data.y_train[:, 0].tolist()) == {-1.0, 1.0}  # "pm1": TF Playground's labels
    rec = t.run_epoch()
    out, y = t.predict(t.data.x_train)[:, 0], t.data.y_train[:, 0]
    assert rec["train_accuracy"] == pytest.approx(float(((out >= 0) == (y > 0)).float().mean()))


def test_a_loss_is_refused_for_a_task_it_does_not_list(mae):
    blobs = SMALL.with_(**{"data.name": "blobs", "data.classes": 3, "train.loss": mae})
    with pytest.raises(SpecError) as e:
        validate(blobs)
    assert e.value.field == "train.loss" and "multiclass" in e.value.allowed and "ce" in e.value.allowed


def test_loss_choices_per_task_start_with_the_auto_choice():
    assert list(losses_for("binary")) == ["bce", "half_mse", "mse", "ce"]
    assert list(losses_for("multiclass")) == ["ce"]
    assert list(losses_for("regression")) == ["mse", "half_mse"]
    for task in ("binary", "multiclass", "regression"):
        assert sum(task in v.default_for for v in LOSSES.values()) == 1  # "auto" has one meaning per task


@pytest.fixture
def stripes():
    """A toy dataset registered for one test: vertical stripes, label by the sign of sin(x1)."""

    def make(n, noise, rng, classes=2):
        pts = rng.uniform(-6, 6, (n, 2))
        return pts, (np.sin(pts[:, 0]) > 0).astype(np.int64)

    DATASETS["stripes"] = DatasetInfo("Stripes", "toy", "binary", make=make)
    yield "stripes"
    del DATASETS["stripes"]


def test_a_new_toy_dataset_is_one_entry(stripes):
    spec = validate(SMALL.with_(**{"data.name": stripes}))
    data = make_dataset(spec)
    x1 = torch.as_tensor(data.points_train[:, 0])
    assert torch.equal(data.y_train[:, 0], (torch.sin(x1) > 0).float())  # BCE's 0/1 targets
    assert Trainer(spec).run_epoch()["loss"] > 0


def test_docs_table_is_generated_from_the_registries():
    """docs/registries.md is `python -m core.registry_doc` output: regenerate it after adding an entry."""
    path = Path(__file__).resolve().parents[2] / "docs" / "registries.md"
    assert path.read_text() == registry_markdown()


def test_docs_table_shows_a_new_schedule(halving):
    assert "| `halve` | Halve every epoch | `StepLR` |" in registry_markdown()


@pytest.fixture
def doubled_lsgan():
    """A GAN loss registered for one test: least squares with both losses doubled."""
    ls = GAN_LOSSES["lsgan"]
    GAN_LOSSES["lsgan2"] = GanLoss("Least squares x2", lambda r, f: 2 * ls.d(r, f), lambda f: 2 * ls.g(f), midpoint=0.5)
    yield "lsgan2"
    del GAN_LOSSES["lsgan2"]


def test_a_new_gan_loss_is_validated_trained_with_and_offered(doubled_lsgan):
    base = {"data.name": "ring", "data.gan_samples": 32, "data.batch_size": 16, "gan.gen_hidden": (4,), "seed": 1}
    base |= {"gan.disc_hidden": (4,), "gan.g_optimizer": "sgd", "gan.d_optimizer": "sgd"}
    plain = make_trainer(validate(Spec().with_(**base | {"gan.loss": "lsgan"})), [])
    doubled = make_trainer(validate(Spec().with_(**base | {"gan.loss": doubled_lsgan})), [])
    a, b = plain.d_step(), doubled.d_step()  # the same batch and weights: the loss doubles
    assert b["d_loss"] == pytest.approx(2 * a["d_loss"], rel=1e-6)
    assert labels(GAN_LOSSES)[doubled_lsgan] == "Least squares x2"
