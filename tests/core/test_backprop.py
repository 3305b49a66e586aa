"""Backpropagation by hand: every z, a, delta and dL/dw equals autograd's, for every activation and loss."""

import numpy as np
import pytest
import torch

from core.backprop import backprop, finite_difference
from core.presets import load_preset
from core.registry import ACTIVATIONS
from core.trainers import make_trainer


def _trainer(**overrides):
    spec = load_preset("tfp-default").spec.with_(**overrides)
    return make_trainer(spec)


def _autograd(t, i):
    """The oracle: PyTorch's forward hooks and .grad for example i."""
    model = t.model.double().eval()
    outs = {}
    hooks = [
        b.linear.register_forward_hook(lambda m, a, o, k=k: outs.__setitem__(k, o)) for k, b in enumerate(model.blocks)
    ]
    x = t.data.x_train[i : i + 1].double()
    y = t.data.y_train[i : i + 1]
    y = y if y.dtype == torch.long else y.double()
    model.zero_grad()
    for z in outs.values():
        z.retain_grad()
    out = model(x)
    for z in outs.values():
        z.retain_grad()
    loss = t.loss_fn(out, y)
    loss.backward()
    for h in hooks:
        h.remove()
    return model, outs, float(loss.detach())


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize(
    "overrides",
    [
        {},  # half MSE through a tanh output
        {"train.loss": "bce"},
        {"train.loss": "mse", "model.residual": True, "model.hidden": [3, 3]},
        {"data.name": "blobs", "data.classes": 3, "train.loss": "ce", "model.hidden": [3]},
    ],
)
def test_every_number_equals_autograds(activation, overrides):
    t = _trainer(**{"model.activation": [activation], "model.init": "normal", "model.init_scale": 1.0} | overrides)
    for i in (0, 7):
        got = backprop(t.model, t.data.x_train[i], t.data.y_train[i], t.loss_name)
        model, zs, loss = _autograd(t, i)
        assert got["loss"] == pytest.approx(loss, rel=1e-9)
        linears = [b.linear for b in model.blocks] + [model.output]
        for k, (layer, lin) in enumerate(zip(got["layers"], linears)):
            assert np.allclose(layer["grad_w"], lin.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
            assert np.allclose(layer["grad_b"], lin.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
            if k in zs:  # hidden layer: z from the forward hook, delta = dL/dz from autograd
                assert np.allclose(layer["z"], zs[k][0].detach().numpy())
                assert np.allclose(layer["delta"], zs[k].grad[0].numpy(), rtol=1e-9, atol=1e-12)
        t.model.float().train()


def test_finite_difference_agrees_and_batch_norm_is_refused():
    t = _trainer(**{"model.activation": ["sigmoid"]})
    got = backprop(t.model, t.data.x_train[3], t.data.y_train[3], t.loss_name)
    for layer, out, inp in ((0, 1, 0), (1, 0, 3), (2, 0, 1)):
        fd = finite_difference(t.model, t.data.x_train[3], t.data.y_train[3], t.loss_fn, layer, out, inp)
        assert fd == pytest.approx(got["layers"][layer]["grad_w"][out][inp], rel=1e-5, abs=1e-9)
    with pytest.raises(ValueError, match="batch norm"):
        backprop(_trainer(**{"model.batchnorm": True}).model, t.data.x_train[0], t.data.y_train[0], "half_mse")


@pytest.mark.parametrize(
    "overrides",
    [
        {"data.features": ("x1", "x2", "x1sq", "sin_x1")},  # the typed point is expanded as the data is
        {"data.name": "blobs", "data.classes": 3, "train.loss": "ce", "model.hidden": [3]},
        {"data.name": "plane", "train.loss": "mse"},
    ],
)
def test_a_typed_example_is_followed_like_the_same_point_from_the_data(overrides):
    """Typing a training point's coordinates and label gives exactly that example's numbers; the SGD step on a
    typed example lowers its loss."""
    t = _trainer(**overrides)
    i = 5
    label = t.data.extra["labels_train"][i]
    typed = {"point": [float(v) for v in t.data.points_train[i]], "label": float(label)}
    mine, theirs = t.backprop(typed), t.backprop(i)
    assert mine["input"] == pytest.approx(theirs["input"]) and mine["target"] == theirs["target"]
    assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-6)
    for a, b in zip(mine["layers"], theirs["layers"]):
        assert np.allclose(a["grad_w"], b["grad_w"], atol=1e-6)
    step = t.backprop_step(typed, 0.1)
    assert step["loss_after"] < step["loss_before"]


def test_a_bad_typed_example_is_refused_with_what_is_wrong():
    """Each bad typed example is a ValueError that names the field and what is allowed."""
    t = _trainer()
    for example, why in (
        ({"point": [1.0], "label": 1}, "two numbers x1, x2"),
        ({"point": [1.0, float("nan")], "label": 1}, "between -10 and 10"),
        ({"point": [0.0, 50.0], "label": 1}, "between -10 and 10"),
        ({"point": ["a", 1.0], "label": 1}, "two numbers"),
        ({"point": [0.0, 1.0], "label": 2}, "one of 0, 1, not 2"),
        ({"point": [0.0, 1.0], "label": 0.5}, "one of 0, 1, not 0.5"),
        ({"point": [0.0, 1.0], "label": "x"}, "must be a number"),
    ):
        with pytest.raises(ValueError, match=why):
            t.backprop(example)
    with pytest.raises(ValueError, match="between -100 and 100"):
        _trainer(**{"data.name": "plane", "train.loss": "mse"}).backprop({"point": [0, 0], "label": 1e6})
