"""What every model builder shares: input and output sizes from the spec, and weight initialisation."""

from __future__ import annotations

from torch import nn

from core.registry import DATASETS, INITS, LOSSES
from core.spec import Spec, output_size, resolved_loss, task_of  # noqa: F401  (output_size: re-exported)


def tanh_output(spec: Spec) -> bool:
    """True when the loss wants outputs in (-1, 1) (TF Playground's half MSE)."""
    loss = resolved_loss(spec)
    return task_of(spec) != "gan" and loss in LOSSES and LOSSES[loss].tanh_out


def input_size(spec: Spec) -> int:
    """Number of input features of an MLP on the spec's data."""
    if DATASETS[spec.data.name].kind == "toy":
        return len(spec.data.features)
    return spec.data.image_size**2


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
