"""The family table: a spec gets its family's trainer, probes and views; pages ask for probe sets by name."""

import importlib
from pathlib import Path

import pytest

from core.gan import GanTrainer
from core.gradlab import ActivationStatsProbe, UpdateRatioProbe
from core.mlp import MlpTrainer
from core.probes import GradNormProbe
from core.spec import LayerSpec, Spec
from core.trainers import FAMILIES, PROBE_SETS, CnnTrainer, family_of, make_trainer, probes_for

MLP = Spec().with_(**{"data.n": 40, "model.hidden": (3,), "train.epochs": 2})
CNN = Spec().with_(
    **{
        "data.name": "shapes",
        "data.n": 60,
        "data.classes": 2,
        "model.family": "cnn",
        "model.layers": (LayerSpec("conv", 2), LayerSpec("flatten"), LayerSpec("dense", 2)),
        "train.epochs": 1,
    }
)
GAN = Spec().with_(**{"data.name": "ring", "data.gan_samples": 32, "gan.gen_hidden": (4,), "gan.disc_hidden": (4,)})


@pytest.mark.parametrize(
    ("spec", "family", "cls"), [(MLP, "mlp", MlpTrainer), (CNN, "cnn", CnnTrainer), (GAN, "gan", GanTrainer)]
)
def test_each_family_gets_its_trainer_probes_and_views(spec, family, cls):
    assert family_of(spec) == family
    t = make_trainer(spec)
    assert type(t) is cls
    assert [type(p) for p in t.probes] == [type(p) for p in FAMILIES[family].probes()]
    t.run_epoch()
    assert isinstance(FAMILIES[family].views(t), dict)


def test_explicit_probes_replace_the_familys():
    assert make_trainer(MLP, []).probes == []


def test_probe_sets_by_page_name():
    assert [type(p) for p in probes_for(MLP, "gradients")] == [GradNormProbe, ActivationStatsProbe, UpdateRatioProbe]
    assert [type(p) for p in probes_for(MLP, "playground")] == [GradNormProbe]  # no set of its own: the family's
    assert set(PROBE_SETS) >= {"default", "gradients"}


def test_views_follow_one_naming_scheme():
    """core/views/<name>.py defines <name>_views; every family's views come from its own module."""
    for path in (Path(__file__).resolve().parents[2] / "core" / "views").glob("*.py"):
        if path.stem != "__init__":
            assert hasattr(importlib.import_module(f"core.views.{path.stem}"), f"{path.stem}_views"), path
    for name, family in FAMILIES.items():
        assert family.name == name
        assert (family.views.__module__, family.views.__name__) == (f"core.views.{name}", f"{name}_views")
