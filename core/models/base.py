"""What every model builder shares: input and output sizes from the spec, and weight initialisation."""

from __future__ import annotations

from torch import nn

from core.registry import INITS, LOSSES
from core.spec import Spec, resolved_loss, task_of


def tanh_output(spec: Spec) -> bool:
    """True when the loss wants outputs in (-1, 1) (TF Playground's half MSE)."""
    loss = resolved_loss(spec)
    return task_of(spec) != "gan" and loss in LOSSES and LOSSES[loss].tanh_out


def init_weights(model: nn.Module, init: str, scale: float, bias: float) -> None:
    """Apply a registry initialiser to every Linear/Conv weight; biases get the constant `bias`."""
    fn = INITS[init].make
    if fn is None:
        return  # keep PyTorch's default initialisation
    for mod in model.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            fn(mod.weight, scale)
            if mod.bias is not None:
                nn.init.constant_(mod.bias, bias)
