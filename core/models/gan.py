"""GAN networks: build_gan(spec) -> (G, D), MLPs for 2-D targets and images, a small DCGAN for digits.

G maps noise (B, noise_dim) to a sample: (B, 2) for 2-D targets, (B, 1, S, S) in [-1, 1] for images.
D maps a sample to one unbounded score (B, 1): a logit for the cross-entropy losses, a raw value for
least squares, Wasserstein and hinge. D has no batch norm (its buffers would couple real and fake
batches, and the gradient penalty assumes per-sample outputs); dropout is its regulariser.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from core.registry import ACTIVATIONS
from core.shapes import dcgan_channels, sample_shape
from core.spec import Spec, SpecError


class MLPGenerator(nn.Module):
    """noise -> [Linear -> (BatchNorm) -> activation] x L -> Linear (-> tanh for images)."""

    def __init__(self, noise_dim, hidden, activation, batchnorm, out_shape):
        super().__init__()
        widths = [noise_dim, *hidden]
        self.hidden = nn.ModuleList(nn.Linear(widths[i], widths[i + 1]) for i in range(len(hidden)))
        self.norms = nn.ModuleList(nn.BatchNorm1d(h) if batchnorm else nn.Identity() for h in hidden)
        self.acts = nn.ModuleList(ACTIVATIONS[activation].make() for _ in hidden)
        self.output = nn.Linear(widths[-1], math.prod(out_shape))
        self.out_shape = tuple(out_shape)
        self.image = len(out_shape) == 3

    def forward(self, z):  # (B, noise_dim) -> (B, *out_shape)
        h = z
        for lin, norm, act in zip(self.hidden, self.norms, self.acts):
            h = act(norm(lin(h)))
        out = self.output(h)
        if self.image:
            out = torch.tanh(out)
        return out.view(len(z), *self.out_shape)

    def named_layers(self):
        """Weight layers from noise to output."""
        return [(f"layer{i + 1}", m) for i, m in enumerate(self.hidden)] + [("output", self.output)]


class MLPDiscriminator(nn.Module):
    """sample -> flatten -> [Linear -> activation -> (Dropout)] x L -> Linear -> one score."""

    def __init__(self, in_shape, hidden, activation, dropout):
        super().__init__()
        widths = [math.prod(in_shape), *hidden]
        self.hidden = nn.ModuleList(nn.Linear(widths[i], widths[i + 1]) for i in range(len(hidden)))
        self.acts = nn.ModuleList(ACTIVATIONS[activation].make() for _ in hidden)
        self.drops = nn.ModuleList(nn.Dropout(dropout) if dropout > 0 else nn.Identity() for _ in hidden)
        self.output = nn.Linear(widths[-1], 1)

    def forward(self, x):  # (B, ...) -> (B, 1)
        h = x.flatten(1)
        for lin, act, drop in zip(self.hidden, self.acts, self.drops):
            h = drop(act(lin(h)))
        return self.output(h)

    def named_layers(self):
        """Weight layers from input to score."""
        return [(f"layer{i + 1}", m) for i, m in enumerate(self.hidden)] + [("output", self.output)]


class DCGANGenerator(nn.Module):
    """noise -> Linear to (C, 4, 4) -> [ConvTranspose 4x4 stride 2 -> (BN) -> act] x n -> conv 3x3 -> tanh."""

    def __init__(self, noise_dim, base, activation, batchnorm, size):
        super().__init__()
        chans = dcgan_channels(base, size, generator=True)
        self.base = chans[0]
        self.project = nn.Linear(noise_dim, chans[0] * 16)
        self.norm0 = nn.BatchNorm1d(chans[0] * 16) if batchnorm else nn.Identity()
        self.act0 = ACTIVATIONS[activation].make()
        layers = []
        for c_in, c_out in zip(chans, chans[1:]):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),  # doubles height and width
                nn.BatchNorm2d(c_out) if batchnorm else nn.Identity(),
                ACTIVATIONS[activation].make(),
            ]
        self.up = nn.Sequential(*layers)
        self.output = nn.Conv2d(chans[-1], 1, 3, padding=1)

    def forward(self, z):  # (B, noise_dim) -> (B, 1, S, S)
        h = self.act0(self.norm0(self.project(z))).view(len(z), self.base, 4, 4)
        return torch.tanh(self.output(self.up(h)))

    def named_layers(self):
        """Weight layers from noise to image."""
        ups = [m for m in self.up if isinstance(m, nn.ConvTranspose2d)]
        return [("project", self.project)] + [(f"up{i + 1}", m) for i, m in enumerate(ups)] + [("output", self.output)]


class DCGANDiscriminator(nn.Module):
    """image -> conv 3x3 -> act -> [conv 4x4 stride 2 -> act -> (Dropout)] x n -> Linear -> one score."""

    def __init__(self, base, activation, dropout, size):
        super().__init__()
        # Channels double at each halving, ending at `base` on the 4 x 4 map (mirror of the generator).
        chans = dcgan_channels(base, size, generator=False)
        self.input = nn.Conv2d(1, chans[0], 3, padding=1)
        self.act0 = ACTIVATIONS[activation].make()
        layers = []
        for c_in, c_out in zip(chans, chans[1:]):
            layers += [
                nn.Conv2d(c_in, c_out, 4, stride=2, padding=1),  # halves height and width
                ACTIVATIONS[activation].make(),
                nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            ]
        self.down = nn.Sequential(*layers)
        self.output = nn.Linear(chans[-1] * 16, 1)

    def forward(self, x):  # (B, 1, S, S) -> (B, 1)
        return self.output(self.down(self.act0(self.input(x))).flatten(1))

    def named_layers(self):
        """Weight layers from image to score."""
        downs = [m for m in self.down if isinstance(m, nn.Conv2d)]
        return [("input", self.input)] + [(f"down{i + 1}", m) for i, m in enumerate(downs)] + [("output", self.output)]


def build_gan(spec: Spec) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for the spec (seeded by the caller); PyTorch's default initialisation."""
    g = spec.gan
    shape = sample_shape(spec)
    if g.arch == "dcgan":
        if len(shape) != 3:
            raise SpecError("gan.arch", g.arch, "mlp for 2-D targets; dcgan needs an image set (gan_digits)")
        size = shape[-1]
        return (
            DCGANGenerator(g.noise_dim, g.gen_hidden[0], g.gen_activation, g.gen_batchnorm, size),
            DCGANDiscriminator(g.disc_hidden[0], g.disc_activation, g.disc_dropout, size),
        )
    return (
        MLPGenerator(g.noise_dim, g.gen_hidden, g.gen_activation, g.gen_batchnorm, shape),
        MLPDiscriminator(shape, g.disc_hidden, g.disc_activation, g.disc_dropout),
    )


class GanPair(nn.Module):
    """G and D in one module, so probes that read `trainer.model` see both (layers named G.* and D.*)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module):
        super().__init__()
        self.G, self.D = generator, discriminator

    def named_layers(self):
        """G's weight layers (noise to sample), then D's (sample to score)."""
        return [(f"G.{n}", m) for n, m in self.G.named_layers()] + [(f"D.{n}", m) for n, m in self.D.named_layers()]

    def forward(self, z):  # (B, noise_dim) -> (B, 1): D's score of G's samples
        return self.D(self.G(z))
