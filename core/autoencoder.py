"""Autoencoders on the shared engine: reconstruction loss, the VAE's KL term, denoising, anomaly scores.

The data are the image sets of core/data/images.py with pixels in [0, 1]. With `ae.normal_classes`
set, the training and validation sets keep only those classes (the anomalous classes are never
trained on); the anomaly test set is the held-out test images: normal ones (the normal classes)
against anomalous ones (the other classes, noise images, corrupted normal images, per `ae.anomalies`).

Loss per batch: recon + kl_weight * KL / pixels, where recon is the per-pixel mean of the spec's loss
(bce or mse) and KL = sum over code units of KL(N(mu, sigma^2) || N(0, 1)), averaged over the batch.
With kl_weight 1 and bce this is the VAE's negative ELBO per pixel.

Probe points: `after_backward` sees this batch's gradients of that total loss; `after_step` the
updated weights.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.anomaly import corrupt_images, noise_images, roc_auc
from core.data.dataset import make_dataset
from core.engine import SEED_LOCK, Trainer, make_optimizer, make_scheduler
from core.lr_find import LrFinderAction
from core.models.autoencoder import build_autoencoder
from core.registry import AE_LOSSES
from core.spec import SpecError

NOISE_IMAGES = 200  # uniform-noise anomalies scored each epoch
CORRUPT_IMAGES = 200  # corrupted copies of held-out normal images (at most as many as there are)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over code units, averaged over the batch (closed form)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()


def recon_loss(name: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-pixel mean of the AE_LOSSES entry `name` (bce on the logits, mse on sigmoid(logits)), pixels in [0, 1]."""
    return AE_LOSSES[name].make(logits, target)


def pixel_errors(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Anomaly score of each image: the mean squared difference of its pixels and their reconstruction (N,)."""
    return (recon - x).pow(2).flatten(1).mean(1)


def keep_classes(x: torch.Tensor, y: torch.Tensor, labels: np.ndarray, classes) -> tuple:
    """The images, targets and labels whose label is one of `classes`."""
    mask = np.isin(labels, list(classes))
    idx = torch.as_tensor(np.nonzero(mask)[0], dtype=torch.long)
    return x[idx], y[idx], labels[mask]


class AeTrainer(LrFinderAction, Trainer):
    """Trains an autoencoder (dense or conv, plain or variational) to reconstruct its input."""

    def _build(self) -> None:
        """Images, the autoencoder, its optimiser and schedule, the seeded noise streams and the anomaly set."""
        spec, a = self.spec, self.spec.ae
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            data = make_dataset(spec)
            self.model = build_autoencoder(spec)
        self.model.to(self.device)
        ex = data.extra
        self.normal = sorted(a.normal_classes) or list(range(data.n_classes))
        if a.normal_classes:  # anomaly mode: the other classes never reach training or validation
            data.x_train, data.y_train, ex["labels_train"] = keep_classes(
                data.x_train, data.y_train, ex["labels_train"], self.normal
            )
            data.x_val, data.y_val, ex["labels_val"] = keep_classes(
                data.x_val, data.y_val, ex["labels_val"], self.normal
            )
        self.data = data
        self.loss_name = a.loss
        self.pixels = spec.data.image_size**2
        self.n_train = len(data.x_train)
        if self.n_train == 0:
            raise SpecError("ae.normal_classes", a.normal_classes, "classes with training images")
        self.data_gen = torch.Generator().manual_seed(spec.seed + 1)
        self.noise_gen = torch.Generator().manual_seed(spec.seed + 4)  # denoising noise and VAE samples
        self.optimizer = make_optimizer(self.model.parameters(), spec.train.optimizer, spec.train)
        self.scheduler = make_scheduler(self.optimizer, spec.train, self.steps_per_epoch)
        self.augment = None
        self._acc: dict[str, list[float]] = {}
        self.anomaly = self._anomaly_set()
        self._scores: tuple[int, dict] | None = None
        self._to_device()
        # Evaluation sees the same noise every epoch, so its curve shows learning, not noise draws.
        eval_gen = torch.Generator().manual_seed(spec.seed + 7)
        self._eval_noise = {
            split: torch.randn(x.shape, generator=eval_gen).to(self.device)
            for split, x in (("train", data.x_train), ("val", data.x_val))
        }
        self._init_rng()

    def _anomaly_set(self) -> dict:
        """Held-out normal images and the anomalous ones with their kind, drawn once from the seed."""
        d, kinds = self.data, self.spec.ae.anomalies
        labels = d.extra["labels_test"]
        is_normal = np.isin(labels, self.normal)
        normal = d.x_test[torch.as_tensor(np.nonzero(is_normal)[0], dtype=torch.long)]
        gen = torch.Generator().manual_seed(self.spec.seed + 5)
        parts, kind = [], []
        if "other" in kinds and not is_normal.all():
            parts.append(d.x_test[torch.as_tensor(np.nonzero(~is_normal)[0], dtype=torch.long)])
            kind += ["other"] * len(parts[-1])
        if "noise" in kinds:
            parts.append(noise_images(NOISE_IMAGES, d.x_test.shape[-1], gen))
            kind += ["noise"] * NOISE_IMAGES
        if "corrupt" in kinds and len(normal):
            parts.append(corrupt_images(normal[:CORRUPT_IMAGES], gen))
            kind += ["corrupt"] * len(parts[-1])
        anomalous = torch.cat(parts) if parts else normal[:0]
        return {"normal": normal.to(self.device), "anomalous": anomalous.to(self.device), "kind": np.array(kind)}

    # ------------------------------------------------------------------ pieces
    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The network's input: the clean images, or for a denoising autoencoder a noisy copy in [0, 1]."""
        std = self.spec.ae.noise
        if std <= 0:
            return x
        noise = torch.randn(x.shape, generator=self.noise_gen).to(x)
        return (x + std * noise).clamp(0.0, 1.0)

    def losses(self, logits, target, mu, logvar) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(total, recon, kl): the training objective and its two parts (kl None for a plain autoencoder)."""
        recon = recon_loss(self.loss_name, logits, target)
        if logvar is None:
            return recon, recon, None
        kl = kl_divergence(mu, logvar)
        return recon + self.spec.ae.kl_weight * kl / self.pixels, recon, kl

    def objective(self, model, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """The total loss of reconstructing the clean batch from itself, with z = mu (no noise drawn)."""
        logits, _, mu, logvar = model(xb)
        return self.losses(logits, xb, mu, logvar)[0]

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        """Reconstruct the clean batch from its (possibly noisy) input; returns the batch's total loss."""
        if not self.model.training:
            self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        inp = self._inputs(xb)
        eps = None
        if self.model.variational:
            eps = torch.randn(len(xb), self.spec.ae.bottleneck, generator=self.noise_gen).to(xb)
        logits, _, mu, logvar = self.model(inp, eps)
        loss, recon, kl = self.losses(logits, xb, mu, logvar)
        value = self.check_finite(loss)
        self._acc.setdefault("recon_loss", []).append(float(recon.detach()))
        if kl is not None:
            self._acc.setdefault("kl", []).append(float(kl.detach()))
        penalty = self.penalty()
        (loss + penalty if isinstance(penalty, torch.Tensor) else loss).backward()
        for p in self.probes:
            p.after_backward(self)
        if self.spec.train.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.spec.train.clip)
        self.optimizer.step()
        for p in self.probes:
            p.after_step(self)
        return value

    def evaluate_set(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> dict:
        """Total, recon and KL loss of a whole set in evaluation mode, with z = mu (no sampling).

        A denoising autoencoder is evaluated on noisy inputs (x + std * noise, clipped) against the clean
        x, and the result also carries the mean squared error of the noisy and of the denoised images.
        """
        if len(x) == 0:
            return {}
        std = self.spec.ae.noise
        inp = (x + std * noise).clamp(0.0, 1.0) if std > 0 and noise is not None else x
        logits, _, mu, logvar = self.reconstruct(inp, logits=True)
        total, recon, kl = self.losses(logits, x, mu, logvar)
        out = {"loss": float(total), "recon": float(recon)} | ({"kl": float(kl)} if kl is not None else {})
        if inp is not x:
            out["noisy_mse"] = float(pixel_errors(inp, x).mean())
            out["denoised_mse"] = float(pixel_errors(torch.sigmoid(logits), x).mean())
        return out

    def _evaluate(self) -> dict:
        """Epoch means of recon and KL; whole-set losses; the anomaly AUC (all kinds and per kind)."""
        acc, self._acc = self._acc, {}
        rec = {k: math.fsum(v) / len(v) for k, v in acc.items() if v}
        for split, x in (("train", self.data.x_train), ("val", self.data.x_val)):
            ev = self.evaluate_set(x, self._eval_noise[split])
            rec |= {f"{split}_{k}": v for k, v in ev.items() if k != "kl"}
        scores = self.anomaly_scores()
        if len(scores["normal"]) and len(scores["anomalous"]):
            rec["auc"] = roc_auc(scores["normal"], scores["anomalous"])
            for kind in dict.fromkeys(scores["kind"]):
                rec[f"auc_{kind}"] = roc_auc(scores["normal"], scores["anomalous"][scores["kind"] == kind])
        return rec

    # ------------------------------------------------------------------ public API
    def reconstruct(self, x: torch.Tensor, logits: bool = False, batch: int = 2048):
        """(reconstruction or logits, z, mu, logvar) for images x in evaluation mode, z = mu, no grad."""
        was = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                parts = [self.model(x[i : i + batch].to(self.device)) for i in range(0, len(x), batch)]
        finally:
            if was:
                self.model.train()
        out, z, mu = (torch.cat([p[k] for p in parts]) for k in range(3))
        logvar = torch.cat([p[3] for p in parts]) if parts[0][3] is not None else None
        return (out if logits else torch.sigmoid(out)), z, mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, S, S) in [0, 1] decoded from codes z (N, Z), no grad."""
        with torch.no_grad():
            return torch.sigmoid(self.model.decode(z.to(self.device)))

    def anomaly_scores(self) -> dict:
        """Reconstruction errors of the held-out normal and anomalous images (NumPy), and each anomaly's kind."""
        if self._scores is not None and self._scores[0] == self.step_count:
            return self._scores[1]  # the weights have not changed since they were scored
        out = {"kind": self.anomaly["kind"]}
        for part in ("normal", "anomalous"):
            x = self.anomaly[part]
            errors = pixel_errors(self.reconstruct(x)[0], x) if len(x) else torch.zeros(0)
            out[part] = errors.cpu().numpy().astype(np.float64)
        self._scores = (self.step_count, out)
        return out
