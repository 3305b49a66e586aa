"""Anomaly detection by reconstruction error: the anomalous test images, the ROC curve, its AUC, and
precision and recall at a threshold. Scores are plain NumPy arrays; higher means "more anomalous".
"""

from __future__ import annotations

import numpy as np
import torch

PATCH_SHARE = 0.4  # a corrupted image gets a bright square 40 % of the image side wide


def noise_images(n: int, side: int, generator: torch.Generator) -> torch.Tensor:
    """n images (n, 1, side, side) whose pixels are uniform random in [0, 1]."""
    return torch.rand(n, 1, side, side, generator=generator)


def corrupt_images(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Copies of (N, 1, S, S) images in [0, 1], each with a full-brightness square pasted at a random place."""
    out = images.clone()
    n, side = len(images), images.shape[-1]
    w = max(1, round(PATCH_SHARE * side))
    corners = torch.randint(0, side - w + 1, (n, 2), generator=generator)
    for img, (r, c) in zip(out, corners.tolist()):
        img[:, r : r + w, c : c + w] = 1.0
    return out


def roc_curve(normal: np.ndarray, anomalous: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false-positive rate, true-positive rate, thresholds) when "score >= threshold" flags an anomaly.

    One point per distinct score, from the highest threshold down, starting at (0, 0); tied scores
    move both rates together (a diagonal step), as scikit-learn's roc_curve does.
    """
    scores = np.concatenate([normal, anomalous]).astype(np.float64)
    is_anom = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalous))])
    order = np.argsort(-scores, kind="mergesort")
    scores, is_anom = scores[order], is_anom[order]
    last_of_tie = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]  # index where each distinct score ends
    tp = np.cumsum(is_anom)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    tpr = np.r_[0.0, tp / max(1, len(anomalous))]
    fpr = np.r_[0.0, fp / max(1, len(normal))]
    return fpr, tpr, np.r_[np.inf, scores[last_of_tie]]


def roc_auc(normal: np.ndarray, anomalous: np.ndarray) -> float:
    """Area under the ROC curve (trapezoids): the chance that a random anomalous image scores higher than a
    random normal one, ties counting one half. NaN when either set is empty."""
    if len(normal) == 0 or len(anomalous) == 0:
        return float("nan")
    fpr, tpr, _ = roc_curve(normal, anomalous)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def precision_recall(normal: np.ndarray, anomalous: np.ndarray, threshold: float) -> dict:
    """Flag images whose score is >= threshold: precision, recall, false-alarm rate and the counts.

    Precision is NaN when nothing is flagged.
    """
    tp = int(np.sum(np.asarray(anomalous) >= threshold))
    fp = int(np.sum(np.asarray(normal) >= threshold))
    return {
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / len(anomalous) if len(anomalous) else float("nan"),
        "false_alarms": fp / len(normal) if len(normal) else float("nan"),
        "flagged": tp + fp,
        "caught": tp,
    }
