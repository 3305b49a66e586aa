"""What the Gradient lab draws beyond the history: per-step gradient norms and activation histograms."""

from __future__ import annotations

from core.gradlab import ActivationStatsProbe
from core.probes import GradNormProbe


def gradients_views(trainer) -> dict:
    """What the Gradient lab draws beyond the history: per-step gradient norms, latest histograms."""
    view = {"hist": {}, "steps": None}
    for p in trainer.probes:
        if isinstance(p, ActivationStatsProbe):
            view["hist"] = p.latest_hist
        if isinstance(p, GradNormProbe) and p.keep_steps:
            view["steps"] = p.steps_view()
    return view
