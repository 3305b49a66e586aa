"""What the CNN page shows, measured from the real network: feature maps, filters, probabilities,
the confusion matrix and misclassified test images. Every function returns NumPy arrays.
Uploaded pictures become model inputs in core/data/upload.py.

Feature maps are the activations of the chosen image, read with forward hooks during one forward
pass in evaluation mode (batch norm uses its running statistics, dropout is off), as at test time.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from core.registry import ACTIVATIONS

MAX_WRONG = 16  # misclassified test images kept for the gallery


def feature_layers(model) -> list[tuple[str, int]]:
    """(title, body index) of each conv layer's feature maps: after the conv and the batch norm /
    activation layers that directly follow it (the maps the next layer sees)."""
    out, n = [], 0
    steps = model.steps[:-1]
    for i, step in enumerate(steps):
        if step.kind != "conv":
            continue
        n += 1
        j, parts = i, [f"conv {n}"]
        while j + 1 < len(steps) and steps[j + 1].kind in ("batchnorm", "act"):
            j += 1
            nxt = steps[j]
            parts.append("batch norm" if nxt.kind == "batchnorm" else ACTIVATIONS[nxt.layer.name].label)
        out.append((" → ".join(parts), j))
    return out


def frozen_copy(model: nn.Module) -> nn.Module:
    """A copy of the model in evaluation mode, safe to run while the original keeps training."""
    return copy.deepcopy(model).eval()


def probabilities(logits: torch.Tensor) -> np.ndarray:
    """(B, K) logits -> (B, K) class probabilities; one BCE logit gives [P(class 0), P(class 1)]."""
    if logits.shape[1] == 1:
        p1 = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p1, p1], 1).float().cpu().numpy()
    return torch.softmax(logits, 1).float().cpu().numpy()


def input_view(trainer, x) -> dict:
    """`image_view` of the trainer's network as it is now (a copy: the original keeps training)."""
    return image_view(frozen_copy(trainer.model), x)


def image_view(model: nn.Module, x) -> dict:
    """Feature maps of every conv layer, and class probabilities, for one input (1, 1, H, W).

    Returns {"maps": [{"title", "maps": (C, H, W)}], "probs": (K,)}. The model is put in eval mode:
    pass a `frozen_copy` when the original is training in another thread.
    """
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(x, np.float32)).to(device)
    layers = feature_layers(model)
    found: dict[int, torch.Tensor] = {}
    hooks = [
        model.body[j].register_forward_hook(lambda mod, inp, out, j=j: found.__setitem__(j, out.detach()))
        for _, j in layers
    ]
    try:
        model.eval()
        with torch.no_grad():
            logits = model(x)
    finally:
        for h in hooks:
            h.remove()
    maps = [{"title": title, "maps": found[j][0].float().cpu().numpy()} for title, j in layers]
    return {"maps": maps, "probs": probabilities(logits)[0]}


def first_filters(model: nn.Module) -> np.ndarray | None:
    """Weights of the first conv layer as (filters, k, k) (its input is the one grey channel), or None."""
    for mod in model.body:
        if isinstance(mod, nn.Conv2d):
            return mod.weight.detach()[:, 0].float().cpu().numpy()
    return None


def cnn_views(trainer) -> dict:
    """Test-set accuracy, confusion matrix (true x predicted counts), misclassified images, first-layer filters.

    Runs in the job's thread (as a Job's `views`), between training epochs.
    """
    data = trainer.data
    k = max(2, data.n_classes)
    out = trainer.predict(data.x_test)
    pred = trainer.classify(out).cpu()
    true = trainer.class_of(data.y_test).cpu()
    confusion = torch.bincount(true * k + pred, minlength=k * k).reshape(k, k).numpy()
    wrong = torch.nonzero(pred != true).flatten()[:MAX_WRONG]
    probs = probabilities(out[wrong]) if len(wrong) else np.zeros((0, k), np.float32)
    return {
        "test_accuracy": float((pred == true).float().mean()) if len(true) else float("nan"),
        "confusion": confusion,
        "wrong": {
            "images": data.x_test[wrong, 0].float().cpu().numpy(),
            "true": true[wrong].numpy(),
            "pred": pred[wrong].numpy(),
            "confidence": probs.max(1) if len(wrong) else np.zeros(0, np.float32),
            "index": wrong.numpy(),
        },
        "filters": first_filters(trainer.model),
    }
