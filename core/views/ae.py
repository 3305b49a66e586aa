"""What the Autoencoders page draws, as floats and NumPy arrays: reconstructions of fixed examples, the
latent map, interpolations, the VAE's latent sweep and the anomaly scores with their ROC curve."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import torch

from core.anomaly import roc_auc, roc_curve
from core.autoencoder import AeTrainer

LATENT_POINTS = 1000  # held-out images drawn on the latent map
STEPS = 8  # images along an interpolation, both ends included
SWEEP = 9  # the VAE's latent sweep is SWEEP x SWEEP images
SWEEP_Q = (0.05, 0.95)  # ... at these quantiles of N(0, 1) along z1 and z2


def pca_2d(codes: np.ndarray) -> tuple[np.ndarray, float]:
    """(N, Z) -> the (N, 2) projection on the first two principal components and the share of variance
    they explain. Signs are fixed (each component's largest loading is positive) so redraws do not flip."""
    centred = codes - codes.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    comps = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(1)])[:, None]
    var = s**2
    return (centred @ comps.T).astype(np.float32), float(var[:2].sum() / var.sum()) if var.sum() > 0 else 1.0


def examples(trainer: AeTrainer) -> tuple[torch.Tensor, list[int]]:
    """The first held-out test image of each class (the fixed examples and the interpolation ends)."""
    labels = trainer.data.extra["labels_test"]
    classes = [c for c in range(trainer.data.n_classes) if (labels == c).any()]
    idx = [int(np.argmax(labels == c)) for c in classes]
    return trainer.data.x_test[idx], classes


def latent_map(trainer: AeTrainer) -> dict:
    """Codes (the VAE's means) of held-out images: points (N, 2), labels (N,), and whether it is a PCA."""
    x = trainer.data.x_test[:LATENT_POINTS]
    codes = trainer.reconstruct(x)[2].cpu().numpy().astype(np.float64)
    out = {"labels": trainer.data.extra["labels_test"][: len(x)], "dim": codes.shape[1], "pca": codes.shape[1] > 2}
    if out["pca"]:
        out["points"], out["explained"] = pca_2d(codes)
    else:
        out["points"], out["explained"] = codes.astype(np.float32), 1.0
    return out


def interpolations(trainer: AeTrainer, x: torch.Tensor) -> dict:
    """For every pair i < j of the examples, STEPS images decoded along the straight line from code i to code j."""
    mu = trainer.reconstruct(x)[2]  # (K, Z)
    pairs = [(i, j) for i in range(len(x)) for j in range(i + 1, len(x))]
    t = torch.linspace(0, 1, STEPS, device=mu.device)[None, :, None]  # (1, STEPS, 1)
    a, b = mu[[i for i, _ in pairs]][:, None], mu[[j for _, j in pairs]][:, None]  # (P, 1, Z)
    z = ((1 - t) * a + t * b).reshape(-1, mu.shape[1])  # (P * STEPS, Z)
    imgs = trainer.decode(z).cpu().numpy()[:, 0].reshape(len(pairs), STEPS, *x.shape[-2:])
    return {"pairs": np.array(pairs, np.int64).reshape(-1, 2), "images": imgs.astype(np.float32)}


def latent_sweep(trainer: AeTrainer) -> dict:
    """VAE: images decoded on a SWEEP x SWEEP grid of (z1, z2) at N(0, 1) quantiles, other code units 0.

    Row 0 is the highest z2, so the grid reads like a plot (z1 to the right, z2 up).
    """
    values = np.array([NormalDist().inv_cdf(q) for q in np.linspace(*SWEEP_Q, SWEEP)], np.float32)
    z = torch.zeros(SWEEP * SWEEP, trainer.spec.ae.bottleneck)
    z1, z2 = np.meshgrid(values, values[::-1])
    z[:, 0], z[:, 1] = torch.from_numpy(z1.ravel()), torch.from_numpy(z2.ravel())
    return {"images": trainer.decode(z).cpu().numpy()[:, 0].astype(np.float32), "values": values}


def ae_views(trainer: AeTrainer) -> dict:
    """Everything the page draws from the model as it is now."""
    x, classes = examples(trainer)
    gen = torch.Generator().manual_seed(trainer.spec.seed + 6)  # the same noisy inputs at every redraw
    std = trainer.spec.ae.noise
    inp = (x + std * torch.randn(x.shape, generator=gen).to(x)).clamp(0, 1) if std > 0 else x
    recon = trainer.reconstruct(inp)[0]
    rows = [x, inp, recon] if std > 0 else [x, recon]
    view = {
        "examples": torch.stack(rows).cpu().numpy()[:, :, 0].astype(np.float32),  # (rows, K, S, S)
        "example_classes": np.array(classes),
        "latent": latent_map(trainer),
        "interp": interpolations(trainer, x),
    }
    if trainer.model.variational:
        view["sweep"] = latent_sweep(trainer)
    scores = trainer.anomaly_scores()
    view["scores"] = scores
    if len(scores["normal"]) and len(scores["anomalous"]):
        fpr, tpr, _ = roc_curve(scores["normal"], scores["anomalous"])
        view["roc"] = {"fpr": fpr, "tpr": tpr, "auc": roc_auc(scores["normal"], scores["anomalous"])}
    return view
