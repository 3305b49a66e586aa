"""The engine: one training loop for every family (`Trainer`), its probe hooks, optimisers and schedules.

  trainer     Trainer (steps, epochs, early stopping, live changes), Probe, StepResult, Diverged
  evaluation  what a Trainer measures and when (loss, penalties, predictions, classes, MEASURE_SHARE)
  optim       optimisers and LR schedules from the registry; schedule_preview
  device      the CPU threads torch uses (share_cpu) and the device a spec asks for (resolve_device)
Import from `core.engine`, not from these modules: the package's names are its interface.
"""

from core.engine.device import resolve_device, share_cpu
from core.engine.evaluation import MEASURE_SHARE, Evaluation
from core.engine.optim import make_optimizer, make_scheduler, schedule_preview
from core.engine.trainer import (
    LIVE_FIELDS,
    NO_RNG,
    SEED_LOCK,
    Diverged,
    Probe,
    StepResult,
    Trainer,
    needs_rebuild,
)

__all__ = [
    "LIVE_FIELDS",
    "MEASURE_SHARE",
    "NO_RNG",
    "SEED_LOCK",
    "Diverged",
    "Evaluation",
    "Probe",
    "StepResult",
    "Trainer",
    "make_optimizer",
    "make_scheduler",
    "needs_rebuild",
    "resolve_device",
    "schedule_preview",
    "share_cpu",
]
