"""Transfer learning on the shared engine: pretrain a CNN on a source task, reuse its body on a target task.

The network is `core.models.cnn`'s CNN built from `model.layers`: its `body` (every layer but the last)
is what transfers, its `output` layer is new for each task. Three modes train on the same target
examples, batches and seed (the same initial head, too):
  frozen    the pretrained body's parameters have requires_grad off and are not in the optimiser; the
            body also stays in evaluation mode, so its batch-norm statistics do not move either
  finetune  the pretrained body and the new head train together; the body's parameter group has
            LR train.lr * transfer.body_lr_factor
  scratch   the same network from its random initial weights, every layer at train.lr
Pretrained weights are kept once per source spec (a hash of it) as safetensors bytes in the run store
(every replica finds them), with the source spec in the metadata; `pretrain` mode writes them at the end of its last epoch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import torch
from safetensors.torch import load, save

from core.data.transfer import source_dataset, target_classes, target_dataset
from core.engine import SEED_LOCK, Diverged, Trainer, make_optimizer, make_scheduler
from core.export.files import weights_metadata
from core.models import init_weights
from core.models.cnn import CNN, plan
from core.spec import DataSpec, ModelSpec, Spec, SpecError, TrainSpec, TransferSpec, to_dict, to_json
from core.store import data_folder, shared_store

MODES = ("frozen", "finetune", "scratch")  # the three target-task modes, in the order pages draw them
PRETRAIN_TRAIN = TrainSpec(
    optimizer="adam", lr=0.003
)  # fixed, so a class pretrains once whatever LR it fine-tunes with
PRETRAIN_BATCH = 32


# ---------------------------------------------------------------------------- pretrained weights


def source_spec(spec: Spec) -> Spec:
    """The pretraining run of `spec`: only what changes the pretrained weights (device aside)."""
    d, m, t = spec.data, spec.model, spec.transfer
    return Spec(
        data=DataSpec(name="digits", n=0, image_size=d.image_size, batch_size=PRETRAIN_BATCH, train_frac=0.5),
        model=ModelSpec(
            family="transfer", layers=m.layers, init=m.init, init_scale=m.init_scale, init_bias=m.init_bias
        ),
        train=replace(PRETRAIN_TRAIN, epochs=t.pretrain_epochs, device=spec.train.device),
        transfer=TransferSpec(source=t.source, pretrain_epochs=t.pretrain_epochs, mode="pretrain"),
        seed=spec.seed,
    )


def weights_key(spec: Spec) -> str:
    """A short hash of the source spec (its device left out): the name of the stored weights."""
    src = to_dict(source_spec(spec))
    src["train"]["device"] = "auto"
    return hashlib.sha256(json.dumps(src, sort_keys=True).encode()).hexdigest()[:16]


def has_pretrained(spec: Spec) -> bool:
    """True when the weights `spec` fine-tunes from are stored."""
    return _stored_weights(spec) is not None


def save_pretrained(model: torch.nn.Module, spec: Spec, info: dict) -> str:
    """Store the model's state (body and source head) with the source spec and `info` in the metadata; returns
    its key. The first copy stays when two runs pretrain at once (the same source spec, the same weights)."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"spec": to_json(source_spec(spec)), "key": weights_key(spec)} | {k: str(v) for k, v in info.items()}
    shared_store().save_blob("pretrained", weights_key(spec), save(tensors, metadata=meta))
    return weights_key(spec)


def load_pretrained(spec: Spec) -> tuple[dict[str, torch.Tensor], dict[str, str]] | None:
    """(state dict, metadata) of the stored weights for `spec`, or None when there are none."""
    raw = _stored_weights(spec)
    return None if raw is None else (load(raw), weights_metadata(raw))


def _stored_weights(spec: Spec) -> bytes | None:
    """The stored safetensors bytes; weights pretrained before the store kept them (in
    $PLAYGROUND_DATA/pretrained/) move into the store on first use."""
    key, store = weights_key(spec), shared_store()
    raw = store.load_blob("pretrained", key)
    legacy = data_folder() / "pretrained" / f"{key}.safetensors"
    if raw is None and legacy.is_file():
        raw = legacy.read_bytes()
        store.save_blob("pretrained", key, raw)
    return raw


def load_or_pretrain(spec: Spec, device=None) -> dict[str, torch.Tensor]:
    """The stored pretrained state for `spec`, pretraining (and storing) it first when it is missing."""
    found = load_pretrained(spec)
    if found is None:
        pre = TransferTrainer(source_spec(spec), device=device)
        while not pre.done:
            pre.run_epoch()
        if pre.status != "done":
            raise SpecError("transfer.pretrain_epochs", spec.transfer.pretrain_epochs, f"pretraining {pre.message}")
        found = load_pretrained(spec)
    return found[0]


# ---------------------------------------------------------------------------- trainers


def with_mode(spec: Spec, mode: str, **transfer) -> Spec:
    """The spec with transfer.mode (and other transfer fields) replaced."""
    return replace(spec, transfer=replace(spec.transfer, mode=mode, **transfer))


def build_transfer_cnn(spec: Spec, classes: int) -> CNN:
    """The CNN of model.layers with an output layer of `classes` logits, initialised as the spec says."""
    steps = plan(replace(spec, model=replace(spec.model, family="cnn")))
    last = steps[-1]
    d = last.in_shape[0]
    steps[-1] = replace(last, out_shape=(classes,), params=d * classes + classes, text=f"output: dense {classes}")
    model = CNN(steps)
    m = spec.model
    init_weights(model, m.init, m.init_scale, m.init_bias)
    return model


class TransferTrainer(Trainer):
    """The transfer family's trainer: `TransferTrainer(spec)` builds the run that `spec.transfer.mode` names.

    One network (`TransferRun`: pretrain, frozen, finetune, scratch), the three modes in lockstep
    (`TransferCompare`: compare) or a sweep (`TransferSweep`), so the family table holds one class.
    """

    def __new__(cls, spec: Spec, *args, **kwargs):
        if cls is TransferTrainer:
            cls = {"compare": TransferCompare, "sweep": TransferSweep}.get(spec.transfer.mode, TransferRun)
        return super().__new__(cls)


class TransferRun(TransferTrainer):
    """One transfer run: `pretrain` on the source task, or the target task as frozen, finetune or scratch."""

    def _build(self) -> None:
        spec, t = self.spec, self.spec.transfer
        self.mode = t.mode
        pretrained = load_or_pretrain(spec, self.device) if t.mode in ("frozen", "finetune") else None
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            self.data = source_dataset(spec) if t.mode == "pretrain" else target_dataset(spec)
            self.model = build_transfer_cnn(spec, self.data.n_classes)
        if pretrained is not None:
            self.model.body.load_state_dict({k[5:]: v for k, v in pretrained.items() if k.startswith("body.")})
        self.model.to(self.device)
        self.loss_name = "ce"
        self.data_gen = torch.Generator().manual_seed(spec.seed + 1)
        self.n_train = len(self.data.x_train)
        self.augment = None
        body, head = list(self.model.body.parameters()), list(self.model.output.parameters())
        if self.mode == "frozen":
            self.model.body.requires_grad_(False)
            groups = [{"params": head}]  # the optimiser never sees the frozen body
        elif self.mode == "finetune":
            groups = [{"params": body, "lr": spec.train.lr * t.body_lr_factor}, {"params": head}]
        else:
            groups = [{"params": body + head}]
        self.optimizer = make_optimizer(groups, spec.train.optimizer, spec.train)
        self._schedule()
        self.start_body = [p.detach().clone() for p in body]  # for the drift view
        self._to_device()
        self._init_rng()

    def _schedule(self) -> None:
        """The spec's LR schedule; one-cycle gives every group one max_lr, so the body's is scaled after."""
        spec = self.spec
        self.scheduler = make_scheduler(self.optimizer, spec.train, self.steps_per_epoch)
        if self.mode == "finetune" and spec.train.schedule == "onecycle":
            group = self.optimizer.param_groups[0]
            for k in ("initial_lr", "max_lr", "min_lr", "lr"):
                group[k] *= spec.transfer.body_lr_factor

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[-1]["lr"]  # the head's (the body's is lower when fine-tuning)

    def _train_step(self, xb, yb) -> float:
        if self.mode == "frozen" and (not self.model.training or self.model.body.training):
            self.model.train()
            self.model.body.eval()  # a frozen body keeps its batch-norm statistics and drops no units
        return super()._train_step(xb, yb)

    def _eval_due(self) -> bool:
        # The test-accuracy curves are this page's lesson and its runs are short (tens of epochs of a few
        # ms): evaluate every epoch, not on the live cadence that keeps long Playground runs fast.
        return True

    def _evaluate(self) -> dict:
        rec = super()._evaluate()
        if "val_accuracy" in rec:  # an epoch off the live evaluation cadence has none
            rec["test_accuracy"] = rec["val_accuracy"]  # the validation set is the test set here
        return rec

    def _end_epoch(self, lr: float) -> dict:
        rec = super()._end_epoch(lr)
        if self.mode == "pretrain" and self.status == "done":
            save_pretrained(self.model, self.spec, {"source_test_accuracy": rec["test_accuracy"], "epochs": self.epoch})
        return rec

    def apply_live(self, spec: Spec) -> None:
        """As the engine's, keeping the fine-tuned body's LR at its share of the new LR."""
        old_lr = self.spec.train.lr
        super().apply_live(spec)
        if self.mode == "finetune" and spec.train.lr != old_lr:
            body, head = self.optimizer.param_groups  # back to the start of the schedule, then forward again
            body["lr"] = body["initial_lr"] = spec.train.lr * spec.transfer.body_lr_factor
            head["lr"] = head["initial_lr"] = spec.train.lr
            if self.scheduler is not None:
                self._schedule()
                for _ in range(self.step_count):
                    self.scheduler.step()


class TransferCompare(TransferTrainer):
    """Frozen, fine-tune and scratch in lockstep on the same batches; each record carries all three.

    Metrics are the modes' own, prefixed: `frozen_test_accuracy`, `finetune_train_loss`, ... This is
    the runner's view of what the page trains as three runs of one job.
    """

    def _build(self) -> None:
        self.runs = {m: TransferTrainer(with_mode(self.spec, m), device=self.device) for m in MODES}
        first = self.runs["scratch"]
        self.data, self.n_train, self.model = first.data, first.n_train, self.runs["finetune"].model
        self.loss_name, self.augment, self.scheduler, self._rng_state = "ce", None, None, None
        self.optimizer = first.optimizer
        self.data_gen = torch.Generator().manual_seed(self.spec.seed + 1)  # the batches each run would draw
        self._losses: dict[str, list[float]] = {m: [] for m in MODES}

    def _train_step(self, xb, yb) -> float:
        for mode, run in self.runs.items():
            self._losses[mode].append(run._train_step(xb, yb))
            run.step_count += 1
            if run.scheduler is not None:
                run.scheduler.step()
        return sum(v[-1] for v in self._losses.values()) / len(MODES)

    def _evaluate(self) -> dict:
        rec = {}
        for mode, run in self.runs.items():
            losses, self._losses[mode] = self._losses[mode], []
            rec[f"{mode}_loss"] = sum(losses) / max(1, len(losses))
            rec |= {f"{mode}_{k}": v for k, v in run._evaluate().items()}
        return rec


class TransferSweep(TransferTrainer):
    """Accuracy against labels per class: each epoch trains the three modes to the end for one value of
    transfer.sweep and records their final test accuracies."""

    def _build(self) -> None:
        spec = self.spec
        load_or_pretrain(spec, self.device)  # once, before the first point
        self.points = list(spec.transfer.sweep)
        self.n_train = len(self.points)
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            self.model = build_transfer_cnn(spec, target_classes(spec)).to(self.device)
        self.optimizer = make_optimizer(self.model.parameters(), spec.train.optimizer, spec.train)
        self.loss_name, self.augment, self.scheduler, self._rng_state = "ce", None, None, None
        self.data = target_dataset(spec)
        self._point: dict = {}

    @property
    def steps_per_epoch(self) -> int:
        return 1

    def _next_batch(self):
        return None, None

    def _train_step(self, xb, yb) -> float:
        k = self.points[self.epoch]
        run = TransferCompare(with_mode(self.spec, "compare", labels_per_class=k), device=self.device)
        while not run.done:
            run.run_epoch()
        if run.status == "diverged":
            raise Diverged(f"{run.message} (labels per class {k or 'all'})")
        last = run.history[-1]
        self._point = {
            "labels_per_class": k,
            "n_train": run.n_train,
            "per_class": run.n_train / target_classes(self.spec),
        }
        self._point |= {k2: v for k2, v in last.items() if k2.endswith("_accuracy")}
        return sum(last[f"{m}_loss"] for m in MODES) / len(MODES)

    def _evaluate(self) -> dict:
        return dict(self._point)

    def _end_epoch(self, lr: float) -> dict:
        rec = super()._end_epoch(lr)
        if self.status != "diverged":  # the sweep ends with its points, not after train.epochs
            finished = self.epoch >= len(self.points)
            self.done, self.status = finished, "done" if finished else "ready"
            self.message = f"swept {self.epoch} label counts" if finished else ""
        return rec
