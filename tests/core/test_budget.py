"""Costs by arithmetic: parameter counts equal the built model's, estimates match measured tensors, budgets refuse."""

import inspect

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from core import budget, shapes
from core.engine import Trainer
from core.gan import EVAL_SAMPLES, GRID_N
from core.models import build_model, count_params
from core.models.gan import build_gan
from core.presets import list_presets
from core.spec import LayerSpec, Spec, SpecError, output_size, validate
from core.views.mlp import decision_grid

C = LayerSpec  # short for the layer lists below


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


MLPS = [
    {},
    {"model.hidden": ()},
    {"model.hidden": (8, 8, 8), "model.batchnorm": True, "model.residual": True},
    {"model.hidden": (3, 7, 7, 2), "model.dropout": 0.3, "data.features": ("x1", "x2", "x1x2", "sin_x1")},
    {"data.name": "blobs", "data.classes": 5, "model.hidden": (16,)},
    {"data.name": "plane", "model.hidden": (5, 5), "train.loss": "half_mse"},
    {"data.name": "digits", "data.image_size": 12, "model.hidden": (32, 32), "model.batchnorm": True},
    {"data.name": "shapes", "data.classes": 4, "model.hidden": (10,)},
]

CNNS = [
    (C("conv", 4, 3, 1, 1), C("act"), C("pool", kernel=2, stride=2, name="max")),
    (C("conv", 8, 5, 2, 2), C("batchnorm"), C("act", name="gelu"), C("conv", 6, 3), C("dense", 20), C("dropout")),
    (C("conv", 3, 3), C("pool", kernel=3, stride=1, padding=1, name="avg"), C("flatten"), C("dense", 7), C("act")),
    (),
    (C("dense", 12), C("batchnorm"), C("dense", 5)),
]


@pytest.mark.parametrize("overrides", MLPS)
def test_mlp_count_equals_the_built_model(overrides):
    spec = validate(Spec().with_(**overrides))
    assert count_params(spec) == n_params(build_model(spec))


@pytest.mark.parametrize("layers", CNNS)
@pytest.mark.parametrize(
    "data",
    [{"data.name": "digits", "data.image_size": 8}, {"data.name": "shapes", "data.image_size": 20, "data.classes": 3}],
)
def test_cnn_count_equals_the_built_model(layers, data):
    spec = validate(Spec().with_(**data, **{"model.family": "cnn", "model.layers": layers}))
    assert count_params(spec) == n_params(build_model(spec))


GANS = [
    {"data.name": "ring"},
    {"data.name": "grid", "gan.gen_hidden": (16, 8, 4), "gan.disc_hidden": (5,), "gan.gen_batchnorm": True, "gan.noise_dim": 7},
    {"data.name": "gan_digits", "data.image_size": 8, "gan.gen_hidden": (32,)},
    {"data.name": "gan_digits", "data.image_size": 16, "gan.arch": "dcgan", "gan.gen_hidden": (64,), "gan.disc_hidden": (32,)},
    {"data.name": "gan_digits", "data.image_size": 32, "gan.arch": "dcgan", "gan.gen_hidden": (12,), "gan.disc_hidden": (100,), "gan.gen_batchnorm": True, "gan.disc_dropout": 0.2},
    {"data.name": "gan_digits", "data.image_size": 8, "gan.arch": "dcgan", "gan.gen_hidden": (3,), "gan.disc_hidden": (3,)},
]  # fmt: skip


@pytest.mark.parametrize("overrides", GANS)
def test_gan_count_equals_the_built_generator_and_discriminator(overrides):
    spec = validate(Spec().with_(**overrides))
    g, d = build_gan(spec)
    assert count_params(spec) == n_params(g) + n_params(d)


def test_dcgan_image_size_must_be_a_power_of_two():
    spec = Spec().with_(**{"data.name": "gan_digits", "data.image_size": 24, "gan.arch": "dcgan"})
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert e.value.field == "data.image_size"


def big_cnn(filters=256, size=64, n=5000, batch=512) -> Spec:
    """The issue's example: three 256-filter convolutions on 64 x 64 images."""
    convs = [C("conv", filters, 3, 1, 1) for _ in range(3)]
    return Spec().with_(
        **{
            "data.name": "shapes",
            "data.image_size": size,
            "data.n": n,
            "data.batch_size": batch,
            "model.family": "cnn",
            "model.layers": (
                convs[0],
                C("act"),
                convs[1],
                C("act"),
                convs[2],
                C("act"),
                C("pool", kernel=8, stride=8, name="max"),
            ),
        }
    )


def test_the_issues_cnn_is_refused_naming_what_to_shrink():
    with pytest.raises(SpecError) as e:
        validate(big_cnn())
    text = str(e.value)
    assert e.value.field == "model (activation memory)"
    assert "MB per training step is over the 400 MB budget" in text and "smaller batch" in text


def test_refusing_a_2m_parameter_cnn_builds_no_module(monkeypatch):
    """Validation is arithmetic: a spec over the parameter cap is refused without constructing any nn.Module."""
    spec = Spec().with_(
        **{
            "data.name": "digits",
            "data.image_size": 32,
            "model.family": "cnn",
            "model.layers": (
                C("conv", 256, 3, 1, 1),
                C("dense", 256),
            ),  # conv 2,560 + dense 262,144 x 256 + 256 + output 2,570
        }
    )

    def refuse(*args, **kwargs):
        raise AssertionError("validate() constructed a torch module")

    monkeypatch.setattr(nn.Module, "__init__", refuse)
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert e.value.field == "model (parameters)" and "67,114,250 parameters" in str(e.value)


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p.name)
def test_every_preset_is_within_the_default_budgets(preset):
    validate(preset.spec)


def test_budgets_come_from_the_environment_at_call_time(monkeypatch):
    spec = Spec().with_(**{"model.hidden": (64, 64)})
    validate(spec)
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "1000")
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert "over the 1,000 budget" in str(e.value)
    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "lots")
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert e.value.field == "PLAYGROUND_MAX_PARAMS"
    monkeypatch.delenv("PLAYGROUND_MAX_PARAMS")
    monkeypatch.setenv("PLAYGROUND_MAX_EVAL_GFLOP", "0.001")
    with pytest.raises(SpecError) as e:
        validate(spec)
    assert e.value.field == "model (compute per evaluation)" and "data.n" in str(e.value)


SMALL_CNN = Spec().with_(
    **{
        "data.name": "digits",
        "data.image_size": 16,
        "data.batch_size": 32,
        "model.family": "cnn",
        "model.layers": (C("conv", 8, 3, 1, 1), C("act"), C("pool", kernel=2, stride=2, name="max"), C("conv", 16, 3), C("act"), C("dense", 32), C("act")),
    }
)  # fmt: skip


def saved_activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd keeps for backward in one forward, weights excluded (each storage once)."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in weights:
            saved[ptr] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum()
    return sum(saved.values())


@pytest.mark.parametrize("spec", [SMALL_CNN, Spec().with_(**{"model.hidden": (32, 32, 16), "data.batch_size": 64})])
def test_activation_estimate_is_within_a_factor_of_two_of_measured_saved_tensors(spec):
    """The estimate never falls short of what autograd keeps, and is at most twice it (measured: 1.6x CNN, 2.0x MLP)."""
    torch.manual_seed(0)
    model = build_model(spec).train()
    net = (
        shapes.cnn_shapes(spec, output_size(spec))
        if spec.model.family == "cnn"
        else shapes.mlp_shapes(spec, output_size(spec))
    )
    b = spec.data.batch_size
    x = torch.randn(b, *net[0].in_shape, requires_grad=False)
    measured = saved_activation_bytes(model, x)
    estimate = b * budget.BYTES * budget._kept(net)
    assert 1.0 <= estimate / measured <= 2.0, (estimate, measured)


def test_compute_estimates_match_pytorchs_flop_counter():
    """Forward FLOPs within 20 % of torch's count (it counts matmuls and convolutions only), a step within 2x."""
    spec = SMALL_CNN
    model = build_model(spec)
    c = budget.costs(spec, output_size(spec))
    b = spec.data.batch_size
    x = torch.randn(b, 1, 16, 16)
    with FlopCounterMode(display=False) as fwd:
        model(x)
    assert 1.0 <= (c.step_flops / 3) / fwd.get_total_flops() <= 1.2
    with FlopCounterMode(display=False) as step:
        nn.functional.cross_entropy(model(x), torch.zeros(b, dtype=torch.long)).backward()
    assert 0.5 <= c.step_flops / step.get_total_flops() <= 2.0
    assert c.eval_flops == c.eval_items * c.step_flops // (3 * b)


def test_evaluation_chunks_fit_the_memory_budget(monkeypatch):
    """predict() evaluates in chunks sized to PLAYGROUND_MAX_MEMORY_MB, with the same outputs as one pass."""
    spec = SMALL_CNN
    per_item = budget.costs(spec, output_size(spec)).eval_item_bytes
    assert budget.eval_chunk(spec, output_size(spec)) == budget.MAX_EVAL_CHUNK
    monkeypatch.setenv("PLAYGROUND_MAX_MEMORY_MB", str(100 * per_item / 1e6))
    assert budget.eval_chunk(spec, output_size(spec)) == 100
    trainer = Trainer(spec)
    x = trainer.data.x_train[:250]
    seen = []
    hook = trainer.model.register_forward_hook(lambda m, i, o: seen.append(len(i[0])))
    out = trainer.predict(x)
    hook.remove()
    assert seen == [100, 100, 50]
    assert torch.allclose(out, trainer.predict(x, batch=250))


def test_evaluation_counts_the_plane_grids_the_pages_draw():
    assert budget.PLANE_GRID == GRID_N**2 == inspect.signature(decision_grid).parameters["n"].default ** 2
    assert budget.GAN_EVAL_SAMPLES == EVAL_SAMPLES
