"""A user's own CSV -> checked numeric features and labels/targets, split, and a 2-D projection (PCA).

Pure functions over bytes and NumPy arrays. Every refusal is a `TableError` whose message a student
can act on (which column, which row, what was found, what is allowed). The prepared data is kept
under its content hash in the run store, so a spec names it by that hash and stays serialisable.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass

import numpy as np

from core.data.upload import MAX_UPLOAD_BYTES

MAX_ROWS = 5000  # an epoch of 5,000 rows on a small MLP stays well under a second on one CPU thread
MAX_COLUMNS = 50
MIN_ROWS = 10  # fewer cannot be split into a training and a test part worth drawing
MAX_CLASSES = 10
TASKS = ("classification", "regression")


class TableError(ValueError):
    """An uploaded table that cannot be used, with a message that says why."""


@dataclass(frozen=True)
class Table:
    """A parsed CSV: the header and the rows as text cells (all rows as long as the header)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Prepared:
    """Numbers ready to train on: x (N, F) float32, y (N,) class index (int64) or value (float32)."""

    x: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    target: str
    task: str  # "classification" or "regression"
    classes: tuple[str, ...] = ()  # class names, index order (classification)


def parse_csv(raw: bytes) -> Table:
    """CSV bytes -> Table (header + rows); TableError when it is too big, not text or not a table."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise TableError(f"the file has {len(raw) / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB, please")
    if b"\x00" in raw:
        raise TableError("this is not a CSV file (it holds binary data); save your table as CSV and upload that")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("this is not a UTF-8 text file; save your table as CSV (UTF-8) and upload that") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise TableError("a CSV needs a header line with column names and at least one data row")
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [tuple(c.strip() for c in r) for r in csv.reader(lines, dialect)]
    header, body = rows[0], rows[1:]
    if len(header) < 2:
        raise TableError("found one column only; a CSV needs commas (or ; or tabs) between at least two columns")
    if len(header) > MAX_COLUMNS:
        raise TableError(f"the table has {len(header)} columns; at most {MAX_COLUMNS}")
    if len(body) > MAX_ROWS:
        raise TableError(f"the table has {len(body)} rows; at most {MAX_ROWS:,}")
    if len(set(header)) != len(header) or not all(header):
        raise TableError("every column needs its own, non-empty name in the header line")
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise TableError(f"line {i} has {len(r)} values but the header names {len(header)} columns")
    return Table(header, tuple(body))


def _number(cell: str) -> float | None:
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def numeric_columns(table: Table) -> list[str]:
    """Columns whose every cell is a finite number (the ones offered as features)."""
    return [c for j, c in enumerate(table.columns) if all(_number(r[j]) is not None for r in table.rows)]


def _numbers(table: Table, column: str, role: str) -> np.ndarray:
    j = table.columns.index(column)
    out = np.empty(len(table.rows), np.float64)
    for i, r in enumerate(table.rows):
        cell = r[j]
        if cell == "" or cell.lower() in ("na", "nan", "null", "none"):
            raise TableError(
                f"{role} column '{column}' has a missing value on line {i + 2}; fill it in or drop the row"
            )
        v = _number(cell)
        if v is None:
            raise TableError(f"{role} column '{column}' has text ('{cell[:20]}') on line {i + 2}; it must hold numbers")
        out[i] = v
    return out


def column_problem(table: Table, column: str) -> str:
    """Why a column cannot be a feature (its first text or missing cell, by line), or "" when it holds numbers."""
    try:
        _numbers(table, column, "the")
    except TableError as e:
        return str(e)
    return ""


def prepare(table: Table, features: list[str], target: str, task: str) -> Prepared:
    """Pick feature columns and a label/target column; TableError naming the column and line of a bad cell."""
    if task not in TASKS:
        raise TableError(f"task '{task}' is not one of {', '.join(TASKS)}")
    unknown = [c for c in [*features, target] if c not in table.columns]
    if unknown:
        raise TableError(f"no column named '{unknown[0]}'; the columns are {', '.join(table.columns)}")
    if not features:
        raise TableError("pick at least one feature column")
    if target in features:
        raise TableError(
            f"'{target}' cannot be both a feature and the {'label' if task == 'classification' else 'target'}"
        )
    if len(table.rows) < MIN_ROWS:
        raise TableError(f"the table has {len(table.rows)} rows; at least {MIN_ROWS} are needed to train and test")
    x = np.stack([_numbers(table, c, "feature") for c in features], 1).astype(np.float32)  # (N, F)
    if task == "regression":
        y = _numbers(table, target, "target").astype(np.float32)
        return Prepared(x, y, tuple(features), target, task)
    j = table.columns.index(target)
    labels = [r[j] for r in table.rows]
    for i, v in enumerate(labels):
        if v == "":
            raise TableError(f"label column '{target}' has a missing value on line {i + 2}")
    classes = sorted(set(labels), key=lambda s: (_number(s) is None, _number(s) or 0.0, s))
    if len(classes) < 2:
        raise TableError(
            f"label column '{target}' has one class only ('{classes[0]}'); classification needs two or more"
        )
    if len(classes) > MAX_CLASSES:
        raise TableError(
            f"label column '{target}' has {len(classes)} different values; at most {MAX_CLASSES} classes "
            "(for a numeric target, choose regression)"
        )
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[v] for v in labels], np.int64)
    return Prepared(x, y, tuple(features), target, task, tuple(classes))


def split(n: int, test_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffle -> (train indices, test indices); both parts get at least one row."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = min(n - 1, max(1, round(n * test_frac)))
    return order[n_test:], order[:n_test]


def standardize(x_train: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Scale columns by the training part's mean and std (a constant column stays 0)."""
    mean, std = x_train.mean(0), x_train.std(0)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project rows onto the first two principal components: (N, 2) scores, (2, F) axes, (2,) variance shares.

    With one feature the second axis is all zeros. Signs are fixed so each axis's largest loading is positive.
    """
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(1)])[:, None]
    axes = np.zeros((2, x.shape[1]))
    axes[: min(2, len(vt))] = vt[:2]
    var = s**2
    share = np.zeros(2)
    share[: min(2, len(var))] = (var / var.sum())[:2] if var.sum() > 0 else 0
    return (centred @ axes.T).astype(np.float32), axes, share


def content_hash(prepared: Prepared) -> str:
    """16 hex digits of SHA-256 over the numbers and the column choices: the same data, the same name."""
    h = hashlib.sha256()
    h.update(json.dumps([prepared.features, prepared.target, prepared.task, prepared.classes]).encode())
    h.update(np.ascontiguousarray(prepared.x).tobytes())
    h.update(np.ascontiguousarray(prepared.y).tobytes())
    return h.hexdigest()[:16]


def pack_prepared(prepared: Prepared) -> tuple[str, bytes]:
    """(hash, bytes) of prepared data: NumPy's .npz of the arrays and the column choices (no pickle)."""
    buf = io.BytesIO()
    meta = json.dumps({"features": prepared.features, "target": prepared.target, "task": prepared.task,
                       "classes": prepared.classes})  # fmt: skip
    np.savez(buf, x=prepared.x, y=prepared.y, meta=np.array(meta))
    return content_hash(prepared), buf.getvalue()


def check_key(key: str) -> None:
    """TableError unless `key` can name an uploaded table (16 hex digits)."""
    if not (isinstance(key, str) and len(key) == 16 and all(c in "0123456789abcdef" for c in key)):
        raise TableError(f"'{key}' is not an uploaded table's name (16 hex digits)")


def unpack_prepared(key: str, raw: bytes) -> Prepared:
    """The data `pack_prepared` wrote under `key`; TableError when the bytes do not hash to it."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        prepared = Prepared(
            f["x"], f["y"], tuple(meta["features"]), meta["target"], meta["task"], tuple(meta["classes"])
        )
    if content_hash(prepared) != key:
        raise TableError(f"the uploaded table '{key}' was changed in the store; upload the CSV again")
    return prepared
