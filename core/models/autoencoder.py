"""Autoencoders: dense or convolutional, with a plain or a variational (VAE) bottleneck.

The encoder maps an image (B, 1, S, S) with pixels in [0, 1] to a code z of `ae.bottleneck` numbers;
the decoder maps z back to pixel logits (B, 1, S, S) (the reconstruction is their sigmoid). A VAE's
encoder gives a mean and a log-variance per code unit and z = mean + std * eps (the
reparameterisation trick), so gradients flow through the sampling.

core/shapes.py's `ae_shapes(spec)` lists the same modules by arithmetic (validation never builds a model);
the tests check its parameter count against PyTorch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core.registry import ACTIVATIONS
from core.spec import Spec

KERNEL = 3  # every conv is 3x3, stride 2, padding 1: each one halves the side (rounding up)


def conv_sides(size: int, layers: int) -> list[int]:
    """Image side before the first conv and after each one: [S, ceil(S/2), ...]."""
    sides = [size]
    for _ in range(layers):
        sides.append(math.ceil(sides[-1] / 2))
    return sides


class Autoencoder(nn.Module):
    """Encoder -> code z -> decoder. `forward` returns (logits, z, mu, logvar); mu, logvar are None unless variational."""

    def __init__(self, spec: Spec):
        super().__init__()
        a, s = spec.ae, spec.data.image_size
        act = ACTIVATIONS[a.activation].make
        self.side, self.variational, self.arch = s, a.variational, a.arch
        enc, dec = [], []
        if a.arch == "conv":
            chans = [1, *a.channels]
            sides = conv_sides(s, len(a.channels))
            for i in range(len(a.channels)):
                enc += [nn.Conv2d(chans[i], chans[i + 1], KERNEL, stride=2, padding=1), act()]
            enc.append(nn.Flatten())
            flat = a.channels[-1] * sides[-1] ** 2
            dec += [nn.Linear(a.bottleneck, flat), act(), nn.Unflatten(1, (a.channels[-1], sides[-1], sides[-1]))]
            for i in reversed(range(len(a.channels))):
                # (n - 1) * 2 - 2 + 3 + extra = 2n - 1 + extra: extra 0 or 1 gives back the exact side before the conv.
                extra = sides[i] - (2 * sides[i + 1] - 1)
                c_out = chans[i] if i > 0 else 1
                dec.append(nn.ConvTranspose2d(chans[i + 1], c_out, KERNEL, stride=2, padding=1, output_padding=extra))
                if i > 0:
                    dec.append(act())
        else:
            widths = [s * s, *a.hidden]
            enc.append(nn.Flatten())
            for i in range(len(a.hidden)):
                enc += [nn.Linear(widths[i], widths[i + 1]), act()]
            flat = widths[-1]
            dec.append(nn.Linear(a.bottleneck, widths[-1]))
            for i in reversed(range(len(a.hidden))):
                dec += [act(), nn.Linear(widths[i + 1], widths[i])]
            dec.append(nn.Unflatten(1, (1, s, s)))
        self.encoder = nn.Sequential(*enc)
        self.mu = nn.Linear(flat, a.bottleneck)  # the code (a VAE's mean)
        self.logvar = nn.Linear(flat, a.bottleneck) if a.variational else None
        self.decoder = nn.Sequential(*dec)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(B, 1, S, S) -> code mean (B, Z) and log-variance (B, Z) (None unless variational)."""
        h = self.encoder(x)  # (B, flat)
        return self.mu(h), (self.logvar(h) if self.logvar is not None else None)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, Z) -> pixel logits (B, 1, S, S)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None):
        """Logits, z, mu, logvar. A VAE samples z = mu + exp(logvar / 2) * eps when eps (B, Z) is given, else z = mu."""
        mu, logvar = self.encode(x)
        z = mu
        if logvar is not None and eps is not None:
            z = mu + torch.exp(0.5 * logvar) * eps  # reparameterisation: the noise is an input, not a node
        return self.decode(z), z, mu, logvar

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        """Weight layers from input to output: enc1.., code (and logvar for a VAE), dec1.., output."""
        weights = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
        enc = [m for m in self.encoder if isinstance(m, weights)]
        dec = [m for m in self.decoder if isinstance(m, weights)]
        out = [(f"enc{i + 1}", m) for i, m in enumerate(enc)] + [("code", self.mu)]
        if self.logvar is not None:
            out.append(("logvar", self.logvar))
        return out + [(f"dec{i + 1}", m) for i, m in enumerate(dec[:-1])] + [("output", dec[-1])]


def build_autoencoder(spec: Spec) -> Autoencoder:
    """The spec's autoencoder with PyTorch's default initialisation (seeded by the caller)."""
    return Autoencoder(spec)
