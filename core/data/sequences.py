"""Sequence tasks, generated from the seed: the adding problem, noisy sines, copy / recall, and text.

Each generator takes a torch.Generator and returns tensors; `make_sequences(spec)` splits them into a
training and a validation set (`data.train_frac`) and computes the baseline every chart draws: the
loss of a predictor that ignores the sequence (the training targets' mean for numbers, their symbol
frequencies for symbols).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.budget import seq_sizes
from core.data.base import Dataset
from core.data.corpus import load_text, text_vocab
from core.spec import Spec

SINE_PERIODS = (6.0, 30.0)  # each sequence's two periods, in time steps, drawn uniformly from this range
DEFAULT_N = 1000  # sequences when data.n is 0


def adding_problem(n: int, length: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, T, 2): a number in [0, 1] and a 0/1 mark per step; y (n, 1): the sum of the two marked numbers.

    One mark falls in the first half and one in the second (Arjovsky et al. 2016), so the first marked
    number must be carried over at least T/2 steps. The numbers are independent U(0, 1), so the target
    has mean 1 and variance 1/12 + 1/12 = 1/6: the mean predictor's expected squared error.
    """
    half = length // 2
    values = torch.rand(n, length, generator=gen)  # (n, T)
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, length, (n,), generator=gen)
    marks = torch.zeros(n, length)
    marks[torch.arange(n), first] = 1.0
    marks[torch.arange(n), second] = 1.0
    x = torch.stack([values, marks], 2)  # (n, T, 2)
    y = (values * marks).sum(1, keepdim=True)  # (n, 1)
    return x, y


def noisy_sines(n: int, length: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, T, 1): sin(2 pi t / P1 + a) + 0.5 sin(2 pi t / P2 + b) + noise; y (n, T, 1): the next value of x.

    Periods and phases are drawn per sequence, so the network has to read them off the history.
    `noise` is the standard deviation of the Gaussian noise in percent of the first sine's amplitude.
    """
    lo, hi = SINE_PERIODS
    periods = lo + (hi - lo) * torch.rand(n, 2, 1, generator=gen)  # (n, 2, 1)
    phases = 2 * math.pi * torch.rand(n, 2, 1, generator=gen)
    t = torch.arange(length + 1, dtype=torch.float32)  # (T + 1,)
    waves = torch.sin(2 * math.pi * t / periods + phases)  # (n, 2, T + 1)
    series = waves[:, 0] + 0.5 * waves[:, 1] + noise / 100 * torch.randn(n, length + 1, generator=gen)
    return series[:, :-1, None], series[:, 1:, None]


def copy_task(n: int, length: int, tokens: int, recall: int, gen: torch.Generator):
    """x (n, T) symbols; y (n, recall): the first `recall` symbols, to be replayed over the last `recall` steps.

    Symbols 0..tokens-1 are the message, `tokens` is a blank and `tokens + 1` the "go" mark that comes
    just before the replay. The first symbol has to be kept T - recall steps.
    """
    blank, go = tokens, tokens + 1
    message = torch.randint(0, tokens, (n, recall), generator=gen)
    x = torch.full((n, length), blank, dtype=torch.long)
    x[:, :recall] = message
    x[:, length - recall - 1] = go
    return x, message.clone()


def encode(text: str, vocab: list[str]) -> torch.Tensor:
    """Characters -> symbol indices (characters outside the vocabulary are an error)."""
    index = {c: i for i, c in enumerate(vocab)}
    return torch.tensor([index[c] for c in text], dtype=torch.long)


def text_windows(codes: torch.Tensor, n: int, length: int, gen: torch.Generator):
    """n random windows of `codes`: x (n, T) and y (n, T) = x shifted by one character."""
    starts = torch.randint(0, len(codes) - length, (n,), generator=gen)
    idx = starts[:, None] + torch.arange(length + 1)  # (n, T + 1)
    windows = codes[idx]
    return windows[:, :-1], windows[:, 1:]


def baseline_loss(y_train: torch.Tensor, y_val: torch.Tensor, classes: int | None) -> float:
    """The validation loss of a predictor that never looks at the sequence.

    Numbers: MSE of always predicting the training targets' mean. Symbols: cross-entropy of always
    predicting the training targets' symbol frequencies (add-one smoothed, so no symbol has p = 0).
    """
    if classes is None:
        return float(F.mse_loss(y_val, y_train.mean().expand_as(y_val)))
    counts = torch.bincount(y_train.reshape(-1), minlength=classes).double() + 1.0
    logp = torch.log(counts / counts.sum())
    return float(-logp[y_val.reshape(-1)].mean())


def task_shape(spec: Spec) -> dict:
    """input_size, output_size, classes (None for numbers) and readout ("last", "all", "tail") of a task."""
    n_in, n_out, classes, readout = seq_sizes(spec)
    return {"input_size": n_in, "output_size": n_out, "classes": classes, "readout": readout}


def sequence_count(spec: Spec) -> int:
    """How many sequences the task generates, training and validation together."""
    return spec.data.n or DEFAULT_N


def split_sequences(x: torch.Tensor, y: torch.Tensor, frac: float):
    """The first `frac` of the sequences for training, the rest for validation (at least one each)."""
    k = max(1, min(len(x) - 1, int(len(x) * frac)))
    return x[:k], y[:k], x[k:], y[k:]


def make_sequences(spec: Spec) -> Dataset:
    """The spec's sequence task as a Dataset; the same spec (seed included) gives the same tensors.

    extra: task, input_size, output_size, classes (None for numbers), readout ("last", "all", "tail"),
    baseline (see `baseline_loss`), and vocab for text.
    """
    d, q, task = spec.data, spec.seq, spec.data.name
    n = sequence_count(spec)
    gen = torch.Generator().manual_seed(spec.seed)
    extra = {"task": task} | task_shape(spec)
    if task == "adding":
        x, y = adding_problem(n, q.length, gen)
    elif task == "sines":
        x, y = noisy_sines(n, q.length, d.noise, gen)
    elif task == "copy":
        x, y = copy_task(n, q.length, q.tokens, q.recall, gen)
    else:
        text = load_text()
        vocab = text_vocab(text)
        codes = encode(text, vocab)
        cut = int(len(codes) * d.train_frac)
        # validate() keeps seq.length below both parts of the text
        n_train = max(1, int(n * d.train_frac))
        x_tr, y_tr = text_windows(codes[:cut], n_train, q.length, gen)
        x_va, y_va = text_windows(codes[cut:], max(1, n - n_train), q.length, gen)
        x, y = torch.cat([x_tr, x_va]), torch.cat([y_tr, y_va])
        extra["vocab"] = vocab
    if task == "text":
        x_train, y_train, x_val, y_val = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    else:
        x_train, y_train, x_val, y_val = split_sequences(x, y, d.train_frac)
    extra["baseline"] = baseline_loss(y_train, y_val, extra["classes"])
    return Dataset(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_val,
        y_test=y_val,
        task="regression" if extra["classes"] is None else "multiclass",
        n_classes=extra["classes"] or 1,
        extra=extra,
    )
