"""The Trainer: builds data and model from a Spec and runs one optimiser step at a time.

One training loop for every family. A family changes what one step does (`_train_step`) and
how it evaluates (`_evaluate`, core.engine.evaluation) by subclassing; batching, probes, schedules,
divergence, early stopping and the history stay here.

Probe points, in the order they run within a step (names follow Lightning's hooks):
  after_backward(trainer)  gradients of this batch are in .grad, not yet clipped
  after_step(trainer)      the optimiser has updated the weights
  on_epoch_end(trainer)    returns metrics merged into the epoch's record

`trainer.measuring` is True on the last step of an epoch whose end is evaluated (every epoch in the runner,
in Step and in slow motion; on the `eval_interval_s` wall-time cadence while a page trains live) and stays
True through that epoch's end: costly probes measure only then, so what they record at epoch e is measured
at epoch e.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn

from core.data.dataset import make_dataset
from core.data.images import make_augmenter
from core.engine.device import resolve_device
from core.engine.evaluation import Evaluation
from core.engine.optim import make_optimizer, make_scheduler
from core.models import build_model
from core.registry import DATASETS
from core.spec import Spec, resolved_loss, to_query, validate

# Model initialisation uses torch's global generator; jobs in other threads must not interleave.
SEED_LOCK = threading.Lock()
NO_RNG = nullcontext()  # own_rng() of a model that draws no random numbers: reusable, holds no state

# Fields a paused run can change without rebuilding the network.
LIVE_FIELDS = (
    "train.lr",
    "train.l1",
    "train.l2",
    "train.clip",
    "train.early_stop",
    "train.epochs",
    "seq.temperature",
)


class Diverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class StepResult:
    step: int
    epoch: int
    loss: float
    lr: float
    metrics: dict = field(default_factory=dict)  # the epoch record when this step closed an epoch


class Probe:
    """Base probe: every hook does nothing; override only what you need."""

    def on_train_start(self, trainer: Trainer) -> None:
        pass

    def after_backward(self, trainer: Trainer) -> None:
        pass

    def after_step(self, trainer: Trainer) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer) -> dict:
        return {}


def needs_rebuild(old: Spec, new: Spec) -> bool:
    """True when going from old to new changes more than the live training fields."""
    a, b = to_query(old), to_query(new)
    changed = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    return bool(changed - set(LIVE_FIELDS))


class Trainer(Evaluation):
    """Data + model + optimiser for one Spec; `step()` runs one optimiser step."""

    def __init__(
        self,
        spec: Spec,
        probes: list[Probe] | None = None,
        device: torch.device | None = None,
    ):
        self.spec = validate(spec)
        self.device = device or resolve_device(spec)
        self.probes = list(probes or [])
        self.step_count = 0
        self.epoch = 0
        self.history: list[dict] = []  # one record per epoch: see docs/metrics.md
        self.done = False
        self.status = "ready"  # ready, done, diverged, early_stopped
        self.message = ""
        self._batch_in_epoch = 0
        self._epoch_losses: list[float] = []
        self._order: torch.Tensor | None = None  # this epoch's permutation of the training set
        self._shuffled: tuple[torch.Tensor, torch.Tensor] | None = None  # the training set in that order
        self.measuring = True  # see the module docstring
        self._best_val = math.inf
        self._best_epoch = 0
        # Full-set evaluation cadence: 0 evaluates every epoch (the runner, tests); a live Job sets ~0.15 s,
        # since on small networks evaluating both sets costs as much as the epoch's training (docs/benchmarks.md).
        self.eval_interval_s = 0.0
        self._last_eval_t = -math.inf
        self._measure_s = 0.0  # what the last measured epoch end cost (evaluation and probes), in seconds
        self._build()
        for p in self.probes:
            p.on_train_start(self)

    # ------------------------------------------------------------------ family hooks
    def _build(self) -> None:
        """Build data, model, optimiser and scheduler (supervised families)."""
        spec = self.spec
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            self.data = make_dataset(spec)
            self.model = self._build_model().to(self.device)
        self.loss_name = resolved_loss(spec)
        self.data_gen = torch.Generator().manual_seed(spec.seed + 1)
        self.n_train = len(self.data.x_train)
        self.optimizer = make_optimizer(self.model.parameters(), spec.train.optimizer, spec.train)
        self.scheduler = make_scheduler(self.optimizer, spec.train, self.steps_per_epoch)
        self.augment = None  # f(batch, generator) -> batch, applied to training batches only
        if spec.data.augment and DATASETS[spec.data.name].kind == "image":
            self.augment = make_augmenter(spec)
            self.aug_gen = torch.Generator().manual_seed(spec.seed + 2)
        self._to_device()
        self._init_rng()

    def objective(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """The data loss of `model` (this network or a copy of it) on a batch: what a step minimises, less penalties.

        The LR finder trains copies with it (core/lr_find.py); a family whose network returns more than its
        prediction, or learns another target, overrides it.
        """
        return self.loss_fn(model(xb), yb)

    def _build_model(self) -> nn.Module:
        """The network for the spec (core.models.build_model); a family with a network of its own overrides this.

        Runs under SEED_LOCK right after the dataset is made, with torch's generator seeded by spec.seed.
        """
        return build_model(self.spec)

    def _init_rng(self) -> None:
        """Give a model that draws random numbers in training (dropout) its own seeded stream.

        Dropout draws from torch's global generator, which every job in the server shares; without
        its own stream, A/B runs and concurrent jobs would change each other's masks.
        """
        modules = [self.model] + [getattr(self, n) for n in ("generator", "discriminator") if hasattr(self, n)]
        uses_rng = any(isinstance(m, nn.Dropout) and m.p > 0 for net in modules for m in net.modules())
        self._rng_state = torch.Generator(self.device).manual_seed(self.spec.seed + 3).get_state() if uses_rng else None

    def own_rng(self):
        """Run the block on this trainer's own random stream (a no-op for models without dropout)."""
        return NO_RNG if self._rng_state is None else self._swapped_rng()

    @contextmanager
    def _swapped_rng(self):
        cuda = self.device.type == "cuda"
        get = (lambda: torch.cuda.get_rng_state(self.device)) if cuda else torch.get_rng_state
        put = (lambda s: torch.cuda.set_rng_state(s, self.device)) if cuda else torch.set_rng_state
        with SEED_LOCK:
            saved = get()
            put(self._rng_state)
            try:
                yield
            finally:
                self._rng_state = get()
                put(saved)

    def _to_device(self) -> None:
        d = self.data
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            setattr(d, name, getattr(d, name).to(self.device))

    def _train_step(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        """Forward, backward, probes, clip, optimiser step; returns the batch's data loss."""
        if not self.model.training:  # evaluation switched it off; module.train() is costly per step
            self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        with self.own_rng():
            out = self.model(xb)
        loss = self.loss_fn(out, yb)
        value = self.check_finite(loss)
        penalty = self.penalty()
        (loss + penalty if isinstance(penalty, torch.Tensor) else loss).backward()
        for p in self.probes:
            p.after_backward(self)
        if self.spec.train.clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.spec.train.clip)
        self.optimizer.step()
        for p in self.probes:
            p.after_step(self)
        return value

    # ------------------------------------------------------------------ shared pieces
    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(self.n_train / self.spec.data.batch_size))

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def check_finite(self, loss: torch.Tensor) -> float:
        """The loss as a float; raises Diverged when it is NaN or infinite."""
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(f"diverged at step {self.step_count + 1}: the loss became {value}")
        return value

    def _next_batch(self):
        if self._shuffled is None:
            if self._order is None:
                self._order = torch.randperm(self.n_train, generator=self.data_gen)
            idx = self._order.to(self.device)
            # One gather an epoch; each batch is then a slice of it (a view), not an indexing op per step.
            self._shuffled = (self.data.x_train[idx], self.data.y_train[idx])
        bs = self.spec.data.batch_size
        start = self._batch_in_epoch * bs
        xb, yb = self._shuffled[0][start : start + bs], self._shuffled[1][start : start + bs]
        if self.augment is not None:
            xb = self.augment(xb, self.aug_gen)
        return xb, yb

    # ------------------------------------------------------------------ public API
    def step(self) -> StepResult:
        """One optimiser step on the next batch; closes the epoch after its last batch."""
        if self.done:
            return StepResult(self.step_count, self.epoch, math.nan, self.lr)
        lr, steps_per_epoch = self.lr, self.steps_per_epoch
        xb, yb = self._next_batch()
        self.measuring = self._batch_in_epoch == steps_per_epoch - 1 and self._eval_due()
        try:
            loss = self._train_step(xb, yb)
        except Diverged as e:
            self.done, self.status, self.message = True, "diverged", str(e)
            partial = self._close_partial_epoch(lr) if self._batch_in_epoch else {}
            return StepResult(self.step_count, self.epoch, math.nan, lr, partial)
        self.step_count += 1
        self._batch_in_epoch += 1
        self._epoch_losses.append(loss)
        if self.scheduler is not None:
            self.scheduler.step()
        result = StepResult(self.step_count, self.epoch, math.nan, lr)
        if self._batch_in_epoch >= steps_per_epoch:
            result.metrics = self._end_epoch(lr)
            result.loss = result.metrics["loss"]
        return result

    def run_epoch(self) -> dict:
        """Steps until the current epoch closes; returns its record (empty if training stopped)."""
        while not self.done:
            r = self.step()
            if r.metrics:
                return r.metrics
        return {}

    def _end_epoch(self, lr: float) -> dict:
        self.epoch += 1
        mean_loss = math.fsum(self._epoch_losses) / len(self._epoch_losses)
        self._epoch_losses, self._batch_in_epoch, self._order, self._shuffled = [], 0, None, None
        rec = {
            "step": self.step_count,
            "epoch": self.epoch,
            "loss": mean_loss,
            "lr": lr,
        }
        t0 = time.perf_counter()
        rec.update(self._evaluate())
        for p in self.probes:
            rec.update(p.on_epoch_end(self))
        if self.measuring:
            self._measure_s = time.perf_counter() - t0
        bad = [k for k in ("loss", "train_loss", "val_loss") if k in rec and not math.isfinite(rec[k])]
        self.history.append(rec)
        if bad:
            self.done, self.status = True, "diverged"
            self.message = f"diverged at step {self.step_count}: {bad[0]} became {rec[bad[0]]}"
        elif self.epoch >= self.spec.train.epochs:
            self.done, self.status, self.message = (
                True,
                "done",
                f"finished {self.epoch} epochs",
            )
        else:
            self._early_stop(rec)
        return rec

    def _close_partial_epoch(self, lr: float) -> dict:
        """Keep what the steps before a divergence measured, as a record at a fractional epoch."""
        finite = [v for v in self._epoch_losses if math.isfinite(v)]
        rec = {
            "step": self.step_count,
            "epoch": self.epoch + self._batch_in_epoch / self.steps_per_epoch,
            "loss": sum(finite) / len(finite) if finite else math.nan,
            "lr": lr,
            "partial": True,
        }
        self.measuring = True  # the last record of a diverged run: measure what there is
        for p in self.probes:
            rec.update(p.on_epoch_end(self))
        self.history.append(rec)
        return rec

    def _early_stop(self, rec: dict) -> None:
        patience = self.spec.train.early_stop
        val = rec.get("val_loss")
        if val is None:
            return
        if val < self._best_val:
            self._best_val, self._best_epoch = val, self.epoch
        elif patience and self.epoch - self._best_epoch >= patience:
            self.done, self.status = True, "early_stopped"
            self.message = (
                f"early stop at epoch {self.epoch}: validation loss has not improved for {patience} epochs "
                f"(best {self._best_val:.4f} at epoch {self._best_epoch})"
            )

    def apply_live(self, spec: Spec) -> None:
        """Take the live fields (LR, L1, L2, clipping, patience, epochs) of `spec`; weights are kept."""
        validate(spec)
        old_lr, self.spec = self.spec.train.lr, spec
        if spec.train.lr != old_lr:
            for g in self.optimizer.param_groups:
                g["lr"] = spec.train.lr
                g["initial_lr"] = spec.train.lr
            if self.scheduler is not None:
                # Rebuild the schedule for the new peak LR and bring it to the current step.
                self.scheduler = make_scheduler(self.optimizer, spec.train, self.steps_per_epoch)
                for _ in range(self.step_count):
                    self.scheduler.step()
        if self.done and self.status == "done" and self.epoch < spec.train.epochs:
            self.done, self.status, self.message = False, "ready", ""
        if self.status == "early_stopped" and (
            not spec.train.early_stop or spec.train.early_stop > self.epoch - self._best_epoch
        ):
            self.done, self.status, self.message = False, "ready", ""
