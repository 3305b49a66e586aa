"""An uploaded table as a Dataset: the prepared numbers stored under their hash, split, standardised, and placed
on a plane for the charts (the two columns themselves, or the first two principal components of more).

The spec names the table by its hash (`data.table`) and states its rows, feature columns, task, target column and
classes, so validation and the budgets work by arithmetic; building checks the stored table agrees.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.data.base import Dataset, targets_for
from core.data.tabular import (
    Prepared,
    TableError,
    check_key,
    pack_prepared,
    pca_2d,
    split,
    standardize,
    unpack_prepared,
)
from core.errors import SpecError
from core.spec import Spec, n_classes, task_of
from core.store import data_folder, shared_store


def table_fields(key: str, prepared: Prepared) -> dict:
    """The spec fields (dotted) that describe a stored table: what a page or the runner sets to train on it."""
    out = {
        "data.name": "table",
        "data.table": key,
        "data.target": prepared.target,
        "data.task": prepared.task,
        "data.columns": len(prepared.features),
        "data.n": len(prepared.y),
    }
    if prepared.task == "classification":
        out["data.classes"] = len(prepared.classes)
    return out


def store_table(prepared: Prepared) -> dict:
    """Keep prepared data in the run store (every replica sees it); returns its spec fields (`table_fields`)."""
    key, raw = pack_prepared(prepared)
    shared_store().save_blob("uploaded_tables", key, raw)
    return table_fields(key, prepared)


def stored_table(key: str) -> Prepared:
    """The prepared data stored under `key`; TableError when there is none (or it does not hash to `key`).

    A table uploaded before the store kept tables is still in $PLAYGROUND_DATA/tables/: it moves into the store.
    """
    check_key(key)
    store = shared_store()
    raw = store.load_blob("uploaded_tables", key)
    if raw is None:
        legacy = data_folder() / "tables" / f"{key}.npz"
        if not legacy.is_file():
            raise TableError(f"no uploaded table '{key}' on this server; upload the CSV again")
        raw = legacy.read_bytes()
        store.save_blob("uploaded_tables", key, raw)
    return unpack_prepared(key, raw)


def load_table(spec: Spec) -> Prepared:
    """The spec's stored table; SpecError naming data.table when it is missing or does not match the spec."""
    d = spec.data
    try:
        prepared = stored_table(d.table)
    except TableError as e:
        raise SpecError("data.table", d.table, str(e)) from None
    stored = table_fields(d.table, prepared)
    for key, value in stored.items():
        have = getattr(d, key.split(".")[1])
        if have != value:
            raise SpecError(key, have, f"{value!r}: what the uploaded table {d.table} holds")
    return prepared


def plane_extent(points: np.ndarray) -> float:
    """Half the side of the square plane drawn around the points: their largest |coordinate| plus 10 %,
    rounded up to a half unit."""
    top = float(np.abs(points).max()) if len(points) else 1.0
    return max(1.0, math.ceil(top * 1.1 * 2) / 2)


def make_table_dataset(spec: Spec) -> Dataset:
    """The stored table split by data.train_frac (seeded), features standardised by the training part.

    Regression targets are scaled to [-1, 1] by the training part's range (as the 2-D regression sets), so the
    surface's colours and the losses read the same way; `extra["target_range"]` keeps the range in the column's
    units. `points_*` are what the charts draw: the two standardised columns, or the first two principal components.
    """
    prepared = load_table(spec)
    x_raw, y_raw = prepared.x, prepared.y
    train_idx, test_idx = split(len(y_raw), 1.0 - spec.data.train_frac, spec.seed)
    x = standardize(x_raw[train_idx], x_raw)  # (N, F)
    extra = {"features": list(prepared.features), "target": prepared.target, "classes": list(prepared.classes)}
    if prepared.task == "regression":
        lo, hi = float(y_raw[train_idx].min()), float(y_raw[train_idx].max())
        labels = ((2 * (y_raw - lo) / (hi - lo) - 1) if hi > lo else np.zeros_like(y_raw)).astype(np.float32)
        extra["target_range"] = (lo, hi)
    else:
        labels = y_raw
    plane = x.shape[1] == 2
    if plane:
        points, extra["axes"] = x, list(prepared.features)
    else:
        points, _, share = pca_2d(x)
        extra["axes"] = [f"PC{i + 1} ({100 * s:.0f} % of the variance)" for i, s in enumerate(share)]
    extra |= {
        "plane": plane,
        "extent": plane_extent(points),
        "labels_train": labels[train_idx],
        "labels_test": labels[test_idx],
    }
    xt = torch.from_numpy(x)
    y = targets_for(spec, labels)
    tr, te = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    return Dataset.train_test(
        xt,
        y,
        tr,
        te,
        task=task_of(spec),
        n_classes=n_classes(spec),
        points_train=points[train_idx],
        points_test=points[test_idx],
        extra=extra,
    )
