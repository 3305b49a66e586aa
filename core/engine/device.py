"""Where a model trains: the CPU threads torch may use and the device a spec asks for."""

from __future__ import annotations

import os

import torch

from core.registry import DATASETS
from core.spec import Spec, SpecError


def share_cpu() -> int:
    """Set torch's intra-op threads to half the cores (at least 1) and return it.

    Small models step faster on one thread than on two that wait for each other, and a busy 2-core
    machine slowed a tiny MLP ~80x with two threads; half the cores leaves room for the server.
    """
    n = max(1, (os.cpu_count() or 2) // 2)
    torch.set_num_threads(n)
    return n


def resolve_device(spec: Spec) -> torch.device:
    """'auto' picks CUDA for convolutional, image and recurrent models when present, else the CPU.

    Small MLPs step faster on a CPU than on a GPU (kernel launches dominate), see DESIGN.md.
    """
    want = spec.train.device
    if want == "cuda":
        if not torch.cuda.is_available():
            raise SpecError(
                "train.device",
                want,
                "CUDA is not available on this machine; use auto or cpu",
            )
        return torch.device("cuda")
    if want == "auto" and torch.cuda.is_available():
        kind = DATASETS[spec.data.name].kind
        image = spec.model.family in ("cnn", "transfer") or kind in ("gan_image", "seq")
        if image or (spec.model.family == "ae" and spec.ae.arch == "conv"):
            return torch.device("cuda")
    return torch.device("cpu")
