"""Loss functions that PyTorch does not name: the GAN losses and TF Playground's half MSE.

Pure functions of tensors; core/registry.py names them. GAN losses take D's raw outputs (B, 1) on
real (r) and fake (f) samples and return a scalar to minimise.
"""

from __future__ import annotations

import torch.nn.functional as F


def half_mse(out, y):
    """0.5 (out - y)^2, batch mean (TF Playground's loss)."""
    return 0.5 * F.mse_loss(out, y)


def minimax_d(r, f):
    """-[log D(x) + log(1 - D(G(z)))], with D = sigmoid(logit)."""
    return F.softplus(-r).mean() + F.softplus(f).mean()


def minimax_g(f):
    """log(1 - D(G(z))): the original minimax generator loss (saturates when D rejects fakes)."""
    return -F.softplus(f).mean()


def nonsaturating_g(f):
    """-log D(G(z)): the same fixed point, strong gradients while D rejects the fakes."""
    return F.softplus(-f).mean()


def lsgan_d(r, f):
    """Least squares: 0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2."""
    return 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f**2).mean()


def lsgan_g(f):
    """Least squares: 0.5 (D(G(z)) - 1)^2."""
    return 0.5 * ((f - 1) ** 2).mean()


def wasserstein_d(r, f):
    """Critic loss E[D(G(z))] - E[D(x)] (the gradient penalty is added separately)."""
    return f.mean() - r.mean()


def wasserstein_g(f):
    """-E[D(G(z))]."""
    return -f.mean()


def hinge_d(r, f):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - r).mean() + F.relu(1 + f).mean()
