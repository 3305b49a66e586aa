"""GAN targets: the 2-D distributions a generator learns to imitate, and the digits image set.

Every sampler takes a torch.Generator, so the same seed gives the same real samples. The mixtures
(ring, grid, gaussian) know their components (`mode_centers`, `mode_std`) for the mode-coverage metric.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from core.data.base import Dataset
from core.data.images import digits
from core.spec import Spec

EXTENT = 3.0  # the plane the 2-D charts show: [-3, 3]^2 holds every target
RING_RADIUS, RING_MODES = 2.0, 8
GRID_SIDE = 5  # 5 x 5 components at -2, -1, 0, 1, 2
MIXTURE_STD = 0.1  # std of each ring / grid component: tight blobs, yet learnable in a few minutes on a CPU
GAUSSIAN_MEAN, GAUSSIAN_STD = (0.75, 0.5), 0.4  # off the origin, so G has to move its noise
CURVE_NOISE = 0.05  # std of the noise around the spiral, the moons and the line


def mode_centers(name: str) -> np.ndarray | None:
    """(K, 2) centres of a mixture target (ring, grid, gaussian); None for the others."""
    if name == "ring":
        angles = 2 * math.pi * np.arange(RING_MODES) / RING_MODES
        return np.stack([RING_RADIUS * np.cos(angles), RING_RADIUS * np.sin(angles)], 1).astype(np.float32)
    if name == "grid":
        ticks = np.arange(GRID_SIDE, dtype=np.float32) - (GRID_SIDE - 1) / 2
        gx, gy = np.meshgrid(ticks, ticks)
        return np.stack([gx.ravel(), gy.ravel()], 1)
    if name == "gaussian":
        return np.array([GAUSSIAN_MEAN], np.float32)
    return None


def mode_std(name: str) -> float:
    """Standard deviation of each component of a mixture target."""
    return GAUSSIAN_STD if name == "gaussian" else MIXTURE_STD


def _uniform(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=gen)


def _noise(n: int, std: float, gen: torch.Generator) -> torch.Tensor:
    return std * torch.randn(n, 2, generator=gen)


def sample_target(name: str, n: int, gen: torch.Generator) -> torch.Tensor:
    """n real samples (n, 2) of a 2-D target, drawn with `gen`."""
    centers = mode_centers(name)
    if centers is not None:
        # A mixture with equal weights: pick a component, add its Gaussian noise.
        pick = torch.randint(len(centers), (n,), generator=gen)
        return torch.as_tensor(centers)[pick] + _noise(n, mode_std(name), gen)
    if name == "gan_spiral":
        # One arm, 1.5 turns, radius growing from 0.3 to 2.6.
        t = _uniform(n, gen)
        r, angle = 0.3 + 2.3 * t, 3 * math.pi * t
        pts = torch.stack([r * torch.cos(angle), r * torch.sin(angle)], 1)
        return pts + _noise(n, CURVE_NOISE, gen)
    if name == "gan_moons":
        # sklearn's make_moons, with each point's position drawn at random, scaled 1.5x and centred.
        t = math.pi * _uniform(n, gen)
        upper = torch.rand(n, generator=gen) < 0.5
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = 1.5 * torch.stack([x - 0.5, y - 0.25], 1)
        return pts + _noise(n, CURVE_NOISE, gen)
    if name == "line":
        t = 2 * _uniform(n, gen) - 1  # the segment from (-2, -1) to (2, 1)
        return torch.stack([2 * t, t], 1) + _noise(n, CURVE_NOISE, gen)
    raise KeyError(f"unknown 2-D GAN target {name!r}")


def digit_images(size: int = 8) -> torch.Tensor:
    """sklearn's 1,797 handwritten digits (N, 1, size, size), scaled from 0..16 to [-1, 1]."""
    images = torch.tensor(digits()[0], dtype=torch.float32)  # (N, 8, 8), values 0..16
    x = (images / 8.0 - 1.0).unsqueeze(1)  # (N, 1, 8, 8)
    if size != 8:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(-1, 1)
    return x


def make_gan_dataset(spec: Spec) -> Dataset:
    """Real samples for a GAN: spec.data.gan_samples 2-D points (seeded), or every digit image.

    y is unused (zeros); x_val and x_test are empty (a GAN has no held-out loss).
    """
    name = spec.data.name
    if name == "gan_digits":
        x = digit_images(spec.data.image_size)
        extra = {"kind": "image", "image_size": spec.data.image_size}
        points = None
    else:
        gen = torch.Generator().manual_seed(spec.seed)
        x = sample_target(name, spec.data.gan_samples, gen)
        centers = mode_centers(name)
        extra = {
            "kind": "2d",
            "extent": EXTENT,
            "centers": centers,
            "std": mode_std(name) if centers is not None else None,
        }
        points = x.numpy().copy()
    empty = x[:0]
    zeros = torch.zeros(len(x), 1)
    return Dataset(
        x_train=x,
        y_train=zeros,
        x_val=empty,
        y_val=zeros[:0],
        x_test=empty,
        y_test=zeros[:0],
        task="gan",
        n_classes=0,
        points_train=points,
        points_test=None,
        extra=extra,
    )
