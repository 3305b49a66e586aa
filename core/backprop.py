"""Backpropagation written out for one example through an MLP: every z, a, delta and dL/dw by hand.

The forward pass and the chain rule are spelled out layer by layer with tensor arithmetic (no
autograd), so a page can show each number; the tests check every one against autograd. Batch norm
is refused (its statistics need a batch); dropout is off, as in evaluation.

Notation for hidden layer l: z = W a_prev + b, a = phi(z) (+ a_prev with a residual link).
delta = dL/dz = dL/da * phi'(z); dL/dW = delta a_prev^T; dL/db = delta; dL/da_prev = W^T delta
(+ dL/da through the residual link).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from core.registry import LOSSES

SIGMOID_MAX_SLOPE = 0.25


def _derivative(name: str, z: torch.Tensor) -> torch.Tensor:
    """phi'(z) of a registry activation, by its formula (PyTorch's choice at the kink: ReLU'(0) = 0)."""
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "leaky_relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, 0.01))
    if name == "gelu":
        cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
        return cdf + z * torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if name == "elu":
        return torch.where(z > 0, torch.ones_like(z), torch.exp(z))
    if name == "linear":
        return torch.ones_like(z)
    raise ValueError(f"no derivative written for activation {name!r}")


FORMULAS = {  # what the page writes beside each neuron's delta
    "sigmoid": "σ'(z) = σ(z)(1 − σ(z)) ≤ 0.25",
    "tanh": "1 − tanh²(z)",
    "relu": "ReLU'(z): 1 if z > 0, else 0",
    "leaky_relu": "1 if z > 0, else 0.01",
    "gelu": "Φ(z) + z·φ(z)",
    "elu": "1 if z > 0, else eˣ",
    "linear": "1",
}


def _activation(module: nn.Module) -> str:
    for name, cls in (
        ("sigmoid", nn.Sigmoid),
        ("tanh", nn.Tanh),
        ("leaky_relu", nn.LeakyReLU),
        ("relu", nn.ReLU),
        ("gelu", nn.GELU),
        ("elu", nn.ELU),
        ("linear", nn.Identity),
    ):
        if isinstance(module, cls):
            return name
    raise ValueError(f"no derivative written for {type(module).__name__}")


def _output_grad(loss_name: str, z: torch.Tensor, y: torch.Tensor, tanh_out: bool) -> tuple[torch.Tensor, str]:
    """dL/dz of the output layer's pre-activation for one example, and the formula used."""
    if loss_name == "bce":
        return torch.sigmoid(z) - y, "σ(z) − y"
    if loss_name == "ce":
        onehot = torch.zeros_like(z)
        onehot[int(y)] = 1.0
        return torch.softmax(z, 0) - onehot, "softmax(z) − onehot(y)"
    out = torch.tanh(z) if tanh_out else z
    scale = 1.0 if loss_name == "half_mse" else 2.0 / z.numel()
    grad = scale * (out - y)
    if tanh_out:
        return grad * (1 - out**2), "(a − y)(1 − a²)"
    return grad, "(a − y)" if loss_name == "half_mse" else "2(a − y)/n"


def backprop(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_name: str) -> dict:
    """Forward and backward for one example x (F,) with target y; plain floats and lists, layer by layer.

    Returns {"input", "loss", "output_formula", "layers": [...]}: for each weight layer from input to
    output its activation, formula, z, a, phi'(z), delta, dL/dW (out, in) and dL/db, as lists.
    """
    if any(not isinstance(b.norm, nn.Identity) for b in model.blocks):
        raise ValueError("batch norm needs a batch: turn it off to follow one example by hand")
    x = x.detach().to(torch.float64).flatten()
    y = y.detach().to(torch.float64).flatten()
    steps = []  # (W, b, act name or None for the output, residual, a_prev, z, a)
    a = x
    for block in model.blocks:
        w, b = block.linear.weight.detach().double(), block.linear.bias.detach().double()
        name = _activation(block.act)
        z = w @ a + b
        h = block.act(z)
        steps.append((w, b, name, block.residual, a, z, a + h if block.residual else h))
        a = steps[-1][-1]
    w, b = model.output.weight.detach().double(), model.output.bias.detach().double()
    z = w @ a + b
    tanh_out = bool(getattr(model, "tanh_out", False))
    out = torch.tanh(z) if tanh_out else z
    steps.append((w, b, "tanh" if tanh_out else "linear", False, a, z, out))
    target = y.long() if loss_name == "ce" else y
    loss = LOSSES[loss_name].fn(out.unsqueeze(0), target.reshape(1) if loss_name == "ce" else target.unsqueeze(0))
    delta, formula = _output_grad(loss_name, z, y, tanh_out)
    layers = []
    grad_a = None
    for i, (w, b, name, residual, a_prev, z, a) in reversed(list(enumerate(steps))):
        last = i == len(steps) - 1
        slope = _derivative(name, z)
        if not last:
            delta = grad_a * slope
        grad_prev = w.T @ delta + (grad_a if residual else 0.0)
        layers.append(
            {
                "name": "output" if last else f"layer {i + 1}",
                "activation": name,
                "formula": FORMULAS[name],
                "residual": residual,
                "weight": w.tolist(),
                "bias": b.tolist(),
                "z": z.tolist(),
                "a": a.tolist(),
                "slope": slope.tolist(),
                "delta": delta.tolist(),
                "grad_w": torch.outer(delta, a_prev).tolist(),
                "grad_b": delta.tolist(),
            }
        )
        grad_a = grad_prev
    return {
        "input": x.tolist(),
        "target": y.tolist(),
        "loss": float(loss),
        "output_formula": formula,
        "layers": layers[::-1],
    }


def finite_difference(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, layer: int, out: int, inp: int, eps: float = 1e-4
) -> float:
    """(L(w + eps) - L(w - eps)) / 2 eps for one weight, in float64 on a copy of the model."""
    probe = copy.deepcopy(model).double().eval()
    linears = [b.linear for b in probe.blocks] + [probe.output]
    w = linears[layer].weight
    xb = x.detach().double().reshape(1, -1)
    yb = y.detach().reshape(1) if y.dtype == torch.long else y.detach().double().reshape(1, -1)
    values = []
    with torch.no_grad():
        old = float(w[out, inp])
        for shift in (eps, -eps):
            w[out, inp] = old + shift
            values.append(float(loss_fn(probe(xb), yb)))
        w[out, inp] = old
    return (values[0] - values[1]) / (2 * eps)
