"""What the CNN page shows, measured from the real network: feature maps, filters, probabilities,
the confusion matrix and misclassified test images. Every function returns NumPy arrays.

Feature maps are the activations of the chosen image, read with forward hooks during one forward
pass in evaluation mode (batch norm uses its running statistics, dropout is off), as at test time.
"""

from __future__ import annotations

import copy
import io

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn

from core.registry import ACTIVATIONS

MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_SIDE = 4096
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


def open_upload(raw: bytes) -> Image.Image:
    """Decode an uploaded PNG/JPEG; ValueError with a readable message when it is too big or not an image."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file has {len(raw) / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB, please")
    try:
        img = Image.open(io.BytesIO(raw))
    except Exception:
        raise ValueError("this file is not an image PIL can read (use PNG or JPEG)") from None
    if img.format not in ("PNG", "JPEG"):
        raise ValueError(f"the image is {img.format}; use PNG or JPEG")
    if max(img.size) > MAX_UPLOAD_SIDE:
        raise ValueError(f"the image is {img.size[0]}x{img.size[1]} pixels; at most {MAX_UPLOAD_SIDE} per side")
    try:
        img.load()
    except Exception as e:
        raise ValueError(f"the image could not be decoded ({e})") from None
    return img


def image_to_input(img: Image.Image, size: int, mean: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """A picture -> the model's input format: (1, 1, size, size) normalised, and the (size, size) [0, 1] image.

    Like the training images: grey, bright ink on a dark background (a light picture is inverted),
    cropped to the ink with a small margin, made square, resized, stretched so the brightest pixel is 1,
    then normalised with the training mean and std.
    """
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, img)
    img.thumbnail((512, 512))
    a = np.asarray(img.convert("L"), np.float32) / 255.0
    if a.mean() > 0.5:
        a = 1.0 - a  # dark ink on light paper -> bright ink on dark, as in the datasets
    ink = np.argwhere(a > 0.25)
    if len(ink):
        (r0, c0), (r1, c1) = ink.min(0), ink.max(0) + 1
        a = a[r0:r1, c0:c1]
    side = int(max(a.shape) * 1.15) + 1
    square = np.zeros((side, side), np.float32)
    r, c = (side - a.shape[0]) // 2, (side - a.shape[1]) // 2
    square[r : r + a.shape[0], c : c + a.shape[1]] = a
    small = Image.fromarray((square * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    shown = np.asarray(small, np.float32) / 255.0
    if shown.max() > 0:
        shown = shown / shown.max()  # the training images' brightest ink is 1; thin strokes shrink to grey
    return ((shown - mean) / std)[None, None].astype(np.float32), shown
