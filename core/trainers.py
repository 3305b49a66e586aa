"""The table from a spec to its family: trainer class, live probes and look-inside views.

Nothing below this module imports it; jobs, the runner and the pages read it. A new family is one
`Family` entry (its Trainer subclass in core/<family>.py, its views in core/views/<family>.py); a family
chosen by `model.family` is also a name in the spec's choices: `register_family` adds both (docs/adding.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.autoencoder import AeTrainer
from core.engine import Probe, Trainer
from core.gan import GanTrainer
from core.gradlab import gradlab_probes
from core.lr_find import LrFinderAction
from core.mlp import MlpTrainer
from core.probes import default_probes
from core.registry import DATASETS, Choice
from core.seq import SeqTrainer
from core.spec import MODEL_FAMILIES, Spec
from core.transfer import TransferTrainer
from core.views.ae import ae_views
from core.views.cnn import cnn_views
from core.views.gan import gan_views
from core.views.mlp import mlp_views
from core.views.seq import seq_views
from core.views.transfer import transfer_views


class CnnTrainer(LrFinderAction, Trainer):
    """The supervised Trainer on images, with the LR finder as an action."""


@dataclass(frozen=True)
class Family:
    name: str  # "mlp", "cnn", "gan", ...
    trainer: type  # core.engine.Trainer or a subclass
    probes: Callable[[], list]  # the live probes this family's page draws
    views: Callable | None  # trainer -> dict of floats / arrays (core/views/<family>.py)


FAMILIES: dict[str, Family] = {
    "mlp": Family("mlp", MlpTrainer, default_probes, mlp_views),
    "cnn": Family("cnn", CnnTrainer, default_probes, cnn_views),
    "gan": Family("gan", GanTrainer, default_probes, gan_views),
    "seq": Family("seq", SeqTrainer, default_probes, seq_views),
    "ae": Family("ae", AeTrainer, default_probes, ae_views),
    "transfer": Family("transfer", TransferTrainer, default_probes, transfer_views),
}

# Probe sets a page asks for by name (a preset's `page`); any other page gets its family's probes.
PROBE_SETS: dict[str, Callable[[], list[Probe]]] = {
    "default": default_probes,
    "gradients": gradlab_probes,
}


def register_family(family: Family, label: str) -> None:
    """Make `family` a choice of model.family: its entry here, its name and label in the spec's choices.

    Validation, the widgets and the runner read both tables, so nothing else needs editing for a family whose
    network has the size core.budget computes for an MLP (or CNN) of the spec; docs/adding.md says the rest.
    """
    if family.name in FAMILIES or family.name in MODEL_FAMILIES:
        raise ValueError(f"a family named {family.name!r} is already registered")
    FAMILIES[family.name] = family
    MODEL_FAMILIES[family.name] = Choice(label)


def unregister_family(name: str) -> None:
    """Remove a family added with `register_family` (a test's clean-up)."""
    FAMILIES.pop(name)
    MODEL_FAMILIES.pop(name)


def family_of(spec: Spec) -> str:
    """The spec's family: "gan" for GAN targets, "seq" for sequence tasks, else its model family ("mlp", "cnn", "ae", "transfer")."""
    kind = DATASETS[spec.data.name].kind
    if kind in ("gan", "gan_image"):
        return "gan"
    if kind == "seq":
        return "seq"
    return spec.model.family


def probes_for(spec: Spec, page: str | None = None) -> list[Probe]:
    """Fresh probes for a run: the page's named probe set where it has one, else the family's."""
    make = PROBE_SETS.get(page or "") or FAMILIES[family_of(spec)].probes
    return make()


def make_trainer(spec: Spec, probes: list[Probe] | None = None, device=None) -> Trainer:
    """The Trainer for the spec's family, with `probes` (None: the family's own probes)."""
    family = FAMILIES[family_of(spec)]
    return family.trainer(spec, family.probes() if probes is None else probes, device)
