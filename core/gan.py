"""GANs on the shared engine: the gradient penalty, mode coverage and the GanTrainer.

One training step = `gan.d_steps` discriminator updates, then one generator update, each with its own
torch.optim optimiser. The losses are GAN_LOSSES entries: pure functions of D's raw outputs.

Probe points: `after_backward` runs once per step, after the generator's backward. Then the G layers'
.grad hold this step's generator gradient and the D layers' .grad still hold the gradient of the last
discriminator update (D's parameters do not take gradients during the G update). `after_step` runs
after the generator's optimiser step. The slow-motion `d_step()` calls no probe.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import numpy as np
import torch

from core.data.dataset import make_dataset
from core.engine import SEED_LOCK, Diverged, StepResult, Trainer, make_optimizer
from core.models.gan import GanPair, build_gan
from core.registry import DATASETS, GAN_LOSSES
from core.spec import Spec, validate

EVAL_SAMPLES = 1000  # fixed-noise samples for the epoch's mode coverage
VIEW_SAMPLES = 400  # fakes drawn on the plane
ARROWS = 40  # fakes that carry a generator-gradient arrow
GRID_N = 80  # the discriminator heatmap is GRID_N x GRID_N
DIGIT_GRID = 36  # digits drawn from fixed noise (6 x 6)
FAIR_SHARE = 0.25  # a mode is covered with at least 1/4 of its uniform share of samples, high-quality ones
HQ_STDS = 3.0  # a sample is high quality within 3 std of its nearest component's centre


# ---------------------------------------------------------------------------- losses
# The D and G losses are GAN_LOSSES entries (core/registry.py).


def gradient_penalty(D, real, fake, eps):
    """E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps real + (1 - eps) fake (Gulrajani et al. 2017)."""
    shape = (len(real),) + (1,) * (real.ndim - 1)
    x_hat = (eps.view(shape) * real + (1 - eps.view(shape)) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def d_output(loss: str, raw: torch.Tensor) -> torch.Tensor:
    """What the charts call D(x): sigmoid(logit) for the cross-entropy losses, the raw score otherwise."""
    return torch.sigmoid(raw) if GAN_LOSSES[loss].sigmoid else raw


# ---------------------------------------------------------------------------- mode coverage


def mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float) -> dict:
    """Modes covered and the high-quality share of (N, 2) samples for a K-component mixture.

    A sample belongs to its nearest centre and is high quality within HQ_STDS std of it. A mode is
    covered when it holds at least FAIR_SHARE * N / K high-quality samples. See docs/metrics.md.
    """
    samples, centers = np.asarray(samples, np.float64), np.asarray(centers, np.float64)
    n, k = len(samples), len(centers)
    if n == 0:
        return {"modes_covered": 0, "modes_total": k, "high_quality": 0.0, "mode_counts": [0] * k}
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)  # (N, K)
    nearest = dist.argmin(1)
    good = dist[np.arange(n), nearest] <= HQ_STDS * std
    counts = np.bincount(nearest[good], minlength=k)
    covered = int((counts >= FAIR_SHARE * n / k).sum())
    return {
        "modes_covered": covered,
        "modes_total": k,
        "high_quality": float(good.mean()),
        "mode_counts": counts.tolist(),
    }


# ---------------------------------------------------------------------------- trainer


@contextlib.contextmanager
def frozen_buffers(module: torch.nn.Module):
    """Run a train-mode forward pass that leaves every buffer (BatchNorm running statistics) unchanged."""
    saved = [b.detach().clone() for b in module.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, s in zip(module.buffers(), saved):
                b.copy_(s)


class GanTrainer(Trainer):
    """Trains a generator G and a discriminator D; `trainer.model` is the pair (layers G.* then D.*)."""

    ACTIONS = ("d_step", "g_step")  # slow motion, run by Job.act while the job is paused

    def _build(self) -> None:
        spec, g = self.spec, self.spec.gan
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            self.data = make_dataset(spec)
            self.G, self.D = build_gan(spec)
        self.model = GanPair(self.G, self.D).to(self.device)
        self.loss_name = g.loss
        self.gan_loss = GAN_LOSSES[g.loss]
        self.d_loss_fn, self.g_loss_fn = self.gan_loss.d, self.gan_loss.g
        self.image = DATASETS[spec.data.name].kind == "gan_image"
        self.n_train = spec.data.gan_samples  # real samples per epoch
        # Each network has its own optimiser and LR; momentum and weight decay come from spec.train.
        self.optimizer = make_optimizer(self.G.parameters(), g.g_optimizer, replace(spec.train, lr=g.g_lr))
        self.d_optimizer = make_optimizer(self.D.parameters(), g.d_optimizer, replace(spec.train, lr=g.d_lr))
        self.scheduler = None
        self.augment = None
        self.data_gen = torch.Generator().manual_seed(spec.seed + 1)  # real batches
        self.noise_gen = torch.Generator().manual_seed(spec.seed + 2)  # noise of the updates
        view_gen = torch.Generator().manual_seed(spec.seed + 3)
        n_fixed = DIGIT_GRID if self.image else max(VIEW_SAMPLES, EVAL_SAMPLES)
        self.fixed_z = self._noise(n_fixed, view_gen).to(self.device)  # the same noise every redraw
        self._real_order, self._real_pos = None, 0
        self.d_updates = self.g_updates = 0
        self._acc: dict[str, list] = {}
        self._d_per_step = g.d_steps
        self._to_device()
        self._init_rng()

    # ------------------------------------------------------------------ pieces
    def _noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        g = self.spec.gan
        if g.noise_type == "uniform":
            return 2 * torch.rand(n, g.noise_dim, generator=gen) - 1
        return torch.randn(n, g.noise_dim, generator=gen)

    def _real_batch(self) -> torch.Tensor:
        """The next real batch: a fresh random order of the real set each time it is used up."""
        x, bs = self.data.x_train, self.spec.data.batch_size
        if self._real_order is None or self._real_pos + bs > len(self._real_order):
            self._real_order, self._real_pos = torch.randperm(len(x), generator=self.data_gen), 0
        idx = self._real_order[self._real_pos : self._real_pos + bs].to(self.device)
        self._real_pos += bs
        return x[idx]

    def _next_batch(self):
        return None, None  # each update draws its own real batch

    def _record(self, **values) -> None:
        for k, v in values.items():
            self._acc.setdefault(k, []).append(v.detach() if isinstance(v, torch.Tensor) else v)

    def _d_update(self) -> float:
        """One discriminator update; G's weights, buffers and gradients are left as they were."""
        real = self._real_batch()
        z = self._noise(len(real), self.noise_gen).to(self.device)
        with torch.no_grad(), frozen_buffers(self.G):
            fake = self.G(z)  # (B, *sample) in train mode, as the G update will see it
        self.d_optimizer.zero_grad(set_to_none=True)
        with self.own_rng():  # D's dropout masks come from this trainer's own seeded stream
            r, f = self.D(real), self.D(fake)
            loss = self.d_loss_fn(r, f)
            if self.gan_loss.gradient_penalty:
                eps = torch.rand(len(real), generator=self.noise_gen).to(self.device)
                gp = gradient_penalty(self.D, real, fake, eps)
                self._record(gp=gp)
                loss = loss + self.spec.gan.gp_weight * gp
        value = self.check_finite(loss)
        loss.backward()
        self.d_optimizer.step()
        self.d_updates += 1
        self._record(d_loss=value, d_real=d_output(self.loss_name, r).mean(), d_fake=d_output(self.loss_name, f).mean())
        return value

    def _g_update(self) -> float:
        """One generator update; D's weights and gradients are left as they were."""
        z = self._noise(self.spec.data.batch_size, self.noise_gen).to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)  # D's .grad keeps the last D update's gradient
        try:
            with self.own_rng():
                loss = self.g_loss_fn(self.D(self.G(z)))
            value = self.check_finite(loss)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        for p in self.probes:
            p.after_backward(self)
        self.optimizer.step()
        self.g_updates += 1
        for p in self.probes:
            p.after_step(self)
        self._record(g_loss=value)
        return value

    def _train_step(self, xb, yb) -> float:
        """d_steps discriminator updates, then one generator update; returns the generator loss."""
        for _ in range(self._d_per_step):
            self._d_update()
        return self._g_update()

    def _evaluate(self) -> dict:
        """Epoch means of the losses and D's outputs, and mode coverage of fixed-noise samples."""
        acc, self._acc = self._acc, {}
        rec = {k: float(torch.stack([torch.as_tensor(x) for x in v]).double().mean()) for k, v in acc.items()}
        if self.gan_loss.gradient_penalty and "d_real" in rec:
            rec["wasserstein"] = rec["d_real"] - rec["d_fake"]  # the critic's estimate of W(real, fake)
        centers = self.data.extra.get("centers")
        if centers is not None:
            fakes = self.generate(self.fixed_z[:EVAL_SAMPLES]).cpu().numpy()
            cov = mode_coverage(fakes, centers, self.data.extra["std"])
            rec |= {k: cov[k] for k in ("modes_covered", "modes_total", "high_quality")}
        return rec

    # ------------------------------------------------------------------ public API
    @property
    def d_lr(self) -> float:
        return self.d_optimizer.param_groups[0]["lr"]

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G's samples for noise z, exactly as a training batch would make them (buffers unchanged)."""
        with torch.no_grad(), frozen_buffers(self.G):
            self.G.train()
            return self.G(z.to(self.device))

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D's raw outputs (N, 1) for samples x in evaluation mode (no dropout), no grad."""
        self.D.eval()
        try:
            with torch.no_grad():
                return torch.cat([self.D(x[i : i + 4096]) for i in range(0, len(x), 4096)])
        finally:
            self.D.train()

    def d_step(self) -> dict:
        """Slow motion: one discriminator update only (no step is counted); returns its values."""
        if self.done:
            return {}
        try:
            loss = self._d_update()
        except Diverged as e:
            self.done, self.status, self.message = True, "diverged", str(e)
            return {}
        return {
            "d_loss": float(loss),
            "d_real": float(self._acc["d_real"][-1]),
            "d_fake": float(self._acc["d_fake"][-1]),
        }

    def g_step(self) -> StepResult:
        """Slow motion: one generator update only; it counts as a training step (closing epochs as usual)."""
        self._d_per_step = 0
        try:
            return self.step()
        finally:
            self._d_per_step = self.spec.gan.d_steps

    def apply_live(self, spec: Spec) -> None:
        """Take the live fields of `spec` (epochs); the GAN's learning rates are fixed at build time."""
        validate(spec)
        self.spec = spec
        if self.done and self.status == "done" and self.epoch < spec.train.epochs:
            self.done, self.status, self.message = False, "ready", ""
