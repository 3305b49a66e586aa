"""build_model(spec) -> torch.nn.Module, one small module per family."""

from __future__ import annotations

from torch import nn

from core.registry import INITS
from core.spec import Spec, n_classes, resolved_loss, task_of


def output_size(spec: Spec) -> int:
    """Units of the output layer: K logits for cross-entropy, else one."""
    return n_classes(spec) if resolved_loss(spec) == "ce" else 1


def input_size(spec: Spec) -> int:
    """Number of input features of an MLP on the spec's data."""
    from core.registry import DATASETS

    info = DATASETS[spec.data.name]
    if info.kind == "toy":
        return len(spec.data.features)
    return spec.data.image_size**2


def build_model(spec: Spec) -> nn.Module:
    """Build and initialise the spec's model (seeded by the caller)."""
    m = spec.model
    if m.family in ("cnn", "transfer"):  # a transfer network is a CNN whose body is pretrained
        from core.models.cnn import build_cnn

        model = build_cnn(spec)
    else:
        from core.models.mlp import MLP

        acts = m.activation * len(m.hidden) if len(m.activation) == 1 else m.activation
        model = MLP(
            input_size(spec),
            m.hidden,
            acts,
            output_size(spec),
            batchnorm=m.batchnorm,
            dropout=m.dropout,
            residual=m.residual,
            tanh_out=resolved_loss(spec) == "half_mse" and task_of(spec) != "gan",
        )
    init_weights(model, m.init, m.init_scale, m.init_bias)
    return model


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


def count_params(spec: Spec) -> int:
    """Trainable parameter count of the spec's model (GAN: generator + discriminator)."""
    from core.registry import DATASETS

    if DATASETS[spec.data.name].kind in ("gan", "gan_image"):
        from core.models.gan import build_gan

        g, d = build_gan(spec)
        return sum(p.numel() for p in g.parameters()) + sum(p.numel() for p in d.parameters())
    model = build_model(spec)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
