"""What a Trainer measures: the data loss and penalties, predictions in chunks, classes, and when a whole-set
evaluation is due (the `measuring` cadence: at most MEASURE_SHARE of the time while a page trains live).

`Evaluation` is mixed into core.engine.trainer.Trainer; it reads the trainer's spec, model, data, loss_name,
measuring and eval_interval_s. A family overrides `_evaluate` (what it reports), `loss_fn` or `predict`.
"""

from __future__ import annotations

import time

import torch

from core.budget import eval_chunk
from core.registry import LOSSES
from core.spec import output_size

# While a page trains live, measuring (whole-set evaluation, costly probes) takes at most this share of the time.
MEASURE_SHARE = 0.1


class Evaluation:
    """The Trainer's measurements (a mixin: every attribute it reads is set by Trainer.__init__ and _build)."""

    def _eval_due(self) -> bool:
        """Whether the epoch now closing is evaluated: always the first and the last, else on the cadence.

        Asked on the epoch's last step, before it runs (`measuring`), so probes know in time.
        """
        closing = self.epoch + 1
        if self.eval_interval_s <= 0 or closing <= 1 or closing >= self.spec.train.epochs:
            return True
        # A large network's measurement may cost more than the cadence allows: then at most MEASURE_SHARE of the time.
        wait = max(self.eval_interval_s, self._measure_s / MEASURE_SHARE)
        return time.perf_counter() - self._last_eval_t >= wait

    def _evaluate(self) -> dict:
        """Full-set loss (and accuracy for classifiers) on the training and validation sets.

        Epochs off the evaluation cadence get no train_/val_ metrics: their records say so by omission.
        """
        if not self.measuring:
            return {}
        self._last_eval_t = time.perf_counter()
        rec = {}
        self.model.eval()
        with torch.no_grad():
            for split, x, y in (
                ("train", self.data.x_train, self.data.y_train),
                ("val", self.data.x_val, self.data.y_val),
            ):
                if len(x) == 0:
                    continue
                out = self.predict(x)
                rec[f"{split}_loss"] = float(self.loss_fn(out, y))
                if self.data.task != "regression":
                    rec[f"{split}_accuracy"] = float((self.classify(out) == self.class_of(y)).float().mean())
        return rec  # the next training step switches back to training mode

    def loss_fn(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The spec's data loss (LOSSES' entry; mean over the batch)."""
        return LOSSES[self.loss_name].fn(out, y)

    def penalty(self) -> torch.Tensor | float:
        """L1 and L2 penalties on the weights (not biases): l1 * sum|w| + l2 * 0.5 * sum w^2."""
        t = self.spec.train
        if t.l1 == 0 and t.l2 == 0:
            return 0.0
        total = 0.0
        for name, p in self.model.named_parameters():
            if p.ndim < 2:
                continue  # biases and norm scales are not regularised
            if t.l1:
                total = total + t.l1 * p.abs().sum()
            if t.l2:
                total = total + t.l2 * 0.5 * (p * p).sum()
        return total

    def predict(self, x: torch.Tensor, batch: int | None = None) -> torch.Tensor:
        """Model outputs for x in eval mode, in chunks (no grad) that fit the server's memory budget."""
        batch = batch or eval_chunk(self.spec, output_size(self.spec))
        was_training = self.model.training
        if was_training:  # module.train()/eval() walk every submodule: only switch when needed
            self.model.eval()
        with torch.no_grad():
            out = torch.cat([self.model(x[i : i + batch]) for i in range(0, len(x), batch)]) if len(x) else x
        if was_training:
            self.model.train()
        return out

    def classify(self, out: torch.Tensor) -> torch.Tensor:
        """Outputs -> predicted class index: argmax of per-class logits, else the one output's sign."""
        if LOSSES[self.loss_name].target == "index":
            return out.argmax(1)
        return (out[:, 0] >= 0.0).long()  # logit 0 for BCE, output 0 for +-1 targets

    def class_of(self, y: torch.Tensor) -> torch.Tensor:
        """Targets -> class index."""
        if y.ndim == 1:
            return y
        return (y[:, 0] > (0.5 if LOSSES[self.loss_name].target == "01" else 0.0)).long()
