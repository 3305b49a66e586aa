"""build_model(spec) -> torch.nn.Module, one small module per family (mlp, cnn, gan); sizes in base."""

from __future__ import annotations

from torch import nn

from core import budget
from core.models.base import init_weights, tanh_output
from core.models.cnn import build_cnn
from core.models.mlp import MLP
from core.shapes import input_size
from core.spec import Spec, output_size

__all__ = ["build_model", "count_params", "init_weights", "input_size", "output_size"]


def build_model(spec: Spec) -> nn.Module:
    """Build and initialise the spec's model (seeded by the caller)."""
    m = spec.model
    if m.family in ("cnn", "transfer"):  # a transfer network is a CNN whose body is pretrained
        model = build_cnn(spec)
    else:
        acts = m.activation * len(m.hidden) if len(m.activation) == 1 else m.activation
        model = MLP(
            input_size(spec),
            m.hidden,
            acts,
            output_size(spec),
            batchnorm=m.batchnorm,
            dropout=m.dropout,
            residual=m.residual,
            tanh_out=tanh_output(spec),
        )
    init_weights(model, m.init, m.init_scale, m.init_bias)
    return model


def count_params(spec: Spec) -> int:
    """Trainable parameter count of the spec's model (GAN: generator + discriminator), by arithmetic."""
    return budget.costs(spec, output_size(spec)).params
