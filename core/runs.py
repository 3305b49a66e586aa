"""The Runs page's arithmetic: table rows, the settings that differ between runs, shared metrics and
smoothed curves. Plain dicts in and out (runs as the store returns them); no Streamlit, no torch."""

from __future__ import annotations

import math
import time

from core.registry import DATASETS
from core.spec import CHOICES

PAGE_OF_KIND = {"toy": "playground", "image": "cnn", "gan": "gan", "gan_image": "gan", "seq": "sequences"}


def flat_settings(spec: dict, prefix: str = "") -> dict:
    """A spec dict as dotted keys -> values (lists become tuples, so they compare and hash)."""
    out = {}
    for k, v in spec.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= flat_settings(v, key + ".")
        else:
            out[key] = tuple(map(_freeze, v)) if isinstance(v, list) else v
    return out


def _freeze(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    return tuple(map(_freeze, v)) if isinstance(v, list) else v


def differing_settings(specs: list[dict]) -> dict[str, list]:
    """Only the dotted settings whose values are not the same in every spec: {key: [value per spec]}."""
    flats = [flat_settings(s) for s in specs]
    keys = sorted({k for f in flats for k in f})
    out = {}
    for k in keys:
        values = [f.get(k) for f in flats]
        if any(v != values[0] for v in values[1:]):
            out[k] = [_show(v) for v in values]
    return out


def side_titles(title: str, specs: list[dict], most: int = 3) -> list[str]:
    """One run name per side of a comparison: the title, the side's letter and its own settings (those that
    differ between the sides, at most `most`), e.g. "rnn-vs-lstm-adding · A: RNN (tanh)". One spec: the title."""
    if len(specs) < 2:
        return [title] * len(specs)
    diff = list(differing_settings(specs).items())[:most]
    own = [", ".join(_setting_name(k, v[i]) for k, v in diff) for i in range(len(specs))]
    return [f"{title} · {chr(ord('A') + i)}" + (f": {o}" if o else "") for i, o in enumerate(own)]


def _setting_name(key: str, value: str) -> str:
    """A setting as a student reads it: a registry name by its label ("RNN (tanh)"), else "field value"."""
    choices = CHOICES.get(key)
    if choices and value in choices:
        return choices[value].label
    return f"{key.rsplit('.', 1)[-1]} {value or 'none'}"


def _show(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return ", ".join(_show(x) for x in v)
    return str(v)


def page_of(run: dict) -> str:
    """The page that opens a run: the page that made it (its `source`), else one read from its spec.

    Jobs record their page's url path as the source; the runner writes "runner" and older rows "app".
    """
    source = run.get("source") or ""
    if source and source not in ("app", "runner"):
        return source
    spec = run["spec"]
    name = spec.get("data", {}).get("name", "circle")
    kind = DATASETS[name].kind if name in DATASETS else "toy"
    family = spec.get("model", {}).get("family", "mlp")
    if family == "transfer":
        return "transfer"
    for section, page in (("seq", "sequences"), ("ae", "autoencoders"), ("transfer", "transfer")):
        if spec.get(section, {}).get("enabled"):
            return page
    if kind == "toy":
        deep = len(spec.get("model", {}).get("hidden", [])) > 10
        return "gradients" if deep else "playground"
    return "cnn" if family == "cnn" and kind == "image" else PAGE_OF_KIND.get(kind, "playground")


def scalar_metrics(history: list[dict]) -> list[str]:
    """Numeric metric keys of a run's records (not step/epoch), in first-seen order."""
    keys: list[str] = []
    for rec in history:
        for k, v in rec.items():
            if k not in ("step", "epoch", "partial") and isinstance(v, (int, float)) and not isinstance(v, bool):
                if k not in keys:
                    keys.append(k)
    return keys


def shared_metrics(histories: list[list[dict]]) -> list[str]:
    """Metric keys every run records, in the first run's order."""
    if not histories:
        return []
    sets = [set(scalar_metrics(h)) for h in histories]
    return [k for k in scalar_metrics(histories[0]) if all(k in s for s in sets)]


def series(history: list[dict], key: str, smoothing: float = 0.0) -> tuple[list[float], list[float]]:
    """(epochs, values) of one metric, finite values only, exponentially smoothed (0 = raw, < 1).

    The average is bias-corrected as Adam corrects its moments, so the first points are not pulled
    towards zero.
    """
    xs, ys, avg, n = [], [], 0.0, 0
    for rec in history:
        v = rec.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            continue
        n += 1
        avg = smoothing * avg + (1 - smoothing) * v
        xs.append(rec.get("epoch", n))
        ys.append(avg / (1 - smoothing**n) if smoothing else v)
    return xs, ys


def best(history: list[dict], key: str) -> float | None:
    """The best value of a metric over the run: lowest for losses, highest for accuracies and AUC."""
    values = [v for _, v in zip(*series(history, key))]
    if not values:
        return None
    return max(values) if ("accuracy" in key or key == "auc") else min(values)


def run_row(run: dict) -> dict:
    """One line of the runs table."""
    summary = run.get("summary") or {}
    return {
        "id": run["id"],
        "name": run.get("title") or run.get("source", ""),
        "page": page_of(run),
        "status": run["status"],
        "epochs": run.get("epochs") or summary.get("epoch", 0),
        "loss": summary.get("loss"),
        "val_loss": summary.get("val_loss"),
        "val_accuracy": summary.get("val_accuracy"),
        "tags": ", ".join(run.get("tags") or []),
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(run["created"])),
    }
