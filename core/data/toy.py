"""2-D toy datasets: TF Playground's six, with its formulas, plus moons and k-class sets.

Pure NumPy, importing nothing from the project: core/registry.py's DATASETS names each generator.

Each generator takes (n, noise, rng, classes) with noise as a fraction (slider % / 100) and returns
points (n, 2) and labels (n,): class index 0/1 for binary sets (TF Playground's +1 is class 1),
0..k-1 for k-class sets, a value in [-1, 1] for regression.
"""

from __future__ import annotations

import numpy as np

DOMAIN = 6.0  # the input plane shown is [-6, 6]^2, as in TF Playground


def _uniform(rng, a, b, size=None):
    return rng.uniform(a, b, size)


def _square(rng, radius, n):
    """n points uniform in [-radius, radius]^2, as (x, y)."""
    return _uniform(rng, -radius, radius, n), _uniform(rng, -radius, radius, n)


def _noise(rng, radius, n, noise):
    """What TF Playground adds to each point before labelling it: uniform in [-radius, radius]^2 times noise."""
    return _uniform(rng, -radius, radius, n) * noise, _uniform(rng, -radius, radius, n) * noise


def circle(n, noise, rng, classes=2):
    """Positives inside radius 2.5, negatives in the ring 3.5-5; label by the noisy point's radius."""
    radius = 5.0
    half = n // 2
    pts, labels = [], []
    for r_lo, r_hi, count in (
        (0.0, radius * 0.5, half),
        (radius * 0.7, radius, n - half),
    ):
        r = _uniform(rng, r_lo, r_hi, count)
        angle = _uniform(rng, 0, 2 * np.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        nx, ny = _noise(rng, radius, count, noise)
        pts.append(np.stack([x, y], 1))
        labels.append((np.hypot(x + nx, y + ny) < radius * 0.5).astype(np.int64))
    return np.concatenate(pts), np.concatenate(labels)


def xor(n, noise, rng, classes=2):
    """Uniform in [-5, 5]^2 pushed 0.3 away from the axes; label = sign(x*y) of the noisy point."""
    padding = 0.3
    x = _uniform(rng, -5, 5, n)
    x = x + np.where(x > 0, padding, -padding)
    y = _uniform(rng, -5, 5, n)
    y = y + np.where(y > 0, padding, -padding)
    nx, ny = _noise(rng, 5, n, noise)
    label = ((x + nx) * (y + ny) >= 0).astype(np.int64)
    return np.stack([x, y], 1), label


def gauss(n, noise, rng, classes=2):
    """Two Gaussians at (2, 2) and (-2, -2); variance grows linearly from 0.5 (no noise) to 4 (50 %)."""
    variance = 0.5 + noise * (4 - 0.5) / 0.5
    half = n // 2
    std = np.sqrt(variance)
    pos = rng.normal((2, 2), std, (half, 2))
    neg = rng.normal((-2, -2), std, (n - half, 2))
    return np.concatenate([pos, neg]), np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])


def _spiral_arm(count, delta, noise, rng):
    i = np.arange(count)
    r = i / count * 5
    t = 1.75 * i / count * 2 * np.pi + delta
    x = r * np.sin(t) + _uniform(rng, -1, 1, count) * noise
    y = r * np.cos(t) + _uniform(rng, -1, 1, count) * noise
    return np.stack([x, y], 1)


def spiral(n, noise, rng, classes=2):
    """Two interleaved spirals (1.75 turns, radius 5); noise is uniform in +-noise."""
    half = n // 2
    pts = np.concatenate([_spiral_arm(half, 0.0, noise, rng), _spiral_arm(n - half, np.pi, noise, rng)])
    return pts, np.concatenate([np.ones(half, np.int64), np.zeros(n - half, np.int64)])


def spiral_k(n, noise, rng, classes=3):
    """k interleaved spirals, arm j turned by 2*pi*j/k; label j."""
    counts = [n // classes + (1 if j < n % classes else 0) for j in range(classes)]
    arms = [_spiral_arm(c, 2 * np.pi * j / classes, noise, rng) for j, c in enumerate(counts)]
    return np.concatenate(arms), np.concatenate([np.full(c, j, np.int64) for j, c in enumerate(counts)])


def blobs(n, noise, rng, classes=3):
    """k Gaussian blobs with centres on a circle of radius 3.5; std 0.6 + 3 * noise."""
    counts = [n // classes + (1 if j < n % classes else 0) for j in range(classes)]
    pts = []
    for j, c in enumerate(counts):
        angle = 2 * np.pi * j / classes + np.pi / 2
        centre = 3.5 * np.array([np.cos(angle), np.sin(angle)])
        pts.append(rng.normal(centre, 0.6 + 3 * noise, (c, 2)))
    return np.concatenate(pts), np.concatenate([np.full(c, j, np.int64) for j, c in enumerate(counts)])


def moons(n, noise, rng, classes=2):
    """Two interleaving half circles (as scikit-learn's make_moons), scaled by 3 and centred."""
    half = n // 2
    t_out = np.linspace(0, np.pi, n - half)
    t_in = np.linspace(0, np.pi, half)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], 1)
    inner = np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)
    pts = np.concatenate([outer, inner])
    pts = pts + rng.normal(0, noise, pts.shape)
    pts = (pts - np.array([0.5, 0.25])) * 3
    return pts, np.concatenate([np.zeros(n - half, np.int64), np.ones(half, np.int64)])


def plane(n, noise, rng, classes=2):
    """Uniform in [-6, 6]^2; label (x + y) / 10 of the noisy point."""
    x, y = _square(rng, 6.0, n)
    nx, ny = _noise(rng, 6.0, n, noise)
    return np.stack([x, y], 1), ((x + nx) + (y + ny)) / 10.0


_GAUSSIANS = (
    (-4, 2.5, 1),
    (0, 2.5, -1),
    (4, 2.5, 1),
    (-4, -2.5, -1),
    (0, -2.5, 1),
    (4, -2.5, -1),
)


def multigauss_label(x, y):
    """TF Playground's six signed bumps: the bump with the largest |value| wins, value 1 - d/2 clamped."""
    best = np.zeros_like(x, dtype=np.float64)
    for cx, cy, sign in _GAUSSIANS:
        v = sign * np.clip(1 - np.hypot(x - cx, y - cy) / 2, 0, 1)
        best = np.where(np.abs(v) > np.abs(best), v, best)
    return best


def multigauss(n, noise, rng, classes=2):
    """Uniform in [-6, 6]^2; label from six signed bumps at the noisy point."""
    x, y = _square(rng, 6.0, n)
    nx, ny = _noise(rng, 6.0, n, noise)
    return np.stack([x, y], 1), multigauss_label(x + nx, y + ny)
