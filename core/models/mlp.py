"""Multi-layer perceptron with per-layer activation, batch norm, dropout and residual links."""

from __future__ import annotations

import torch
from torch import nn

from core.registry import ACTIVATIONS


class Block(nn.Module):
    """One hidden layer: Linear -> [BatchNorm] -> activation -> [Dropout], plus x when residual."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str,
        batchnorm: bool,
        dropout: float,
        residual: bool,
    ):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.norm = nn.BatchNorm1d(n_out) if batchnorm else nn.Identity()
        self.act = ACTIVATIONS[activation].make()
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        # A skip connection only makes sense where the shapes agree.
        self.residual = residual and n_in == n_out

    def forward(self, x):  # (B, n_in) -> (B, n_out)
        h = self.drop(self.act(self.norm(self.linear(x))))
        return x + h if self.residual else h


class MLP(nn.Module):
    """Hidden blocks, then a linear output layer (tanh on top for TF Playground's half-MSE)."""

    def __init__(
        self,
        n_in,
        hidden,
        activations,
        n_out,
        batchnorm=False,
        dropout=0.0,
        residual=False,
        tanh_out=False,
    ):
        super().__init__()
        widths = [n_in, *hidden]
        self.blocks = nn.ModuleList(
            Block(widths[i], widths[i + 1], activations[i], batchnorm, dropout, residual) for i in range(len(hidden))
        )
        self.output = nn.Linear(widths[-1], n_out)
        self.tanh_out = tanh_out

    def forward(self, x):  # (B, F) or images (B, C, H, W) -> (B, n_out)
        x = x.flatten(1)
        for block in self.blocks:
            x = block(x)
        out = self.output(x)
        return torch.tanh(out) if self.tanh_out else out

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        """Weight layers from input to output, with the names the charts and metrics use."""
        return [(f"layer{i + 1}", b.linear) for i, b in enumerate(self.blocks)] + [("output", self.output)]

    def activation_modules(self) -> list[tuple[str, nn.Module]]:
        """The activation module of each hidden layer, for forward hooks."""
        return [(f"layer{i + 1}", b.act) for i, b in enumerate(self.blocks)]
