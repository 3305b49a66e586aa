"""The sequence page's look inside: hidden states, LSTM gates, predictions and text samples, as arrays."""

from __future__ import annotations

import numpy as np
import torch

from core.seq import hidden_states, lstm_states, sample_text

EXAMPLES = 4  # validation sequences the page can pick from
SCATTER = 300  # adding problem: validation sequences on the prediction-vs-target chart
SAMPLE_CHARS = 240
PROMPT = "The "
GATES = ("input", "forget", "output")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def describe_inputs(trainer, x: torch.Tensor) -> list[list[str]]:
    """A short label for each step of each example: the number (and mark) or the symbol."""
    task = trainer.data.extra["task"]
    if task == "adding":
        return [[f"{v:.2f}{' marked' if m else ''}" for v, m in row.tolist()] for row in x.cpu()]
    if task == "sines":
        return [[f"{v:.2f}" for v in row[:, 0].tolist()] for row in x.cpu()]
    if task == "text":
        vocab = trainer.data.extra["vocab"]
        return [[repr(vocab[c])[1:-1] for c in row.tolist()] for row in x.cpu()]
    tokens = trainer.spec.seq.tokens
    return [["_" if c == tokens else "go" if c == tokens + 1 else str(c) for c in row.tolist()] for row in x.cpu()]


def predictions(trainer) -> dict:
    """What the model predicts on validation sequences, next to the targets."""
    task, d = trainer.data.extra["task"], trainer.data
    if task == "adding":
        x, y = d.x_val[:SCATTER], d.y_val[:SCATTER]
        return {"target": _np(y[:, 0]), "pred": _np(trainer.predict(x)[:, 0])}
    x, y = d.x_val[:EXAMPLES], d.y_val[:EXAMPLES]
    out = trainer.predict(x)
    if task == "sines":
        return {"input": _np(x[..., 0]), "target": _np(y[..., 0]), "pred": _np(out[..., 0])}  # (E, T) each
    pred = {"target": y.cpu().numpy(), "pred": out.argmax(-1).cpu().numpy()}  # symbols, (E, steps)
    if task == "text":
        vocab = d.extra["vocab"]
        pred |= {k + "_text": ["".join(vocab[c] for c in row) for row in pred[k].tolist()] for k in ("target", "pred")}
    return pred


def seq_views(trainer) -> dict:
    """hidden (E, layers, H, T); for the LSTM gates {input, forget, output} of the same shape; inputs
    (E lists of T labels); pred (see `predictions`); for text a generated sample at the spec's temperature."""
    model, x = trainer.model, trainer.data.x_val[:EXAMPLES]
    view = {
        "cell": trainer.spec.seq.cell,
        "hidden": hidden_states(model, x).permute(1, 0, 3, 2).float().cpu().numpy(),  # (E, layers, H, T)
        "inputs": describe_inputs(trainer, x),
        "pred": predictions(trainer),
    }
    if trainer.spec.seq.cell == "lstm":
        states = lstm_states(model.rnn, model.encode(x))
        view["gates"] = {g: states[g].permute(1, 0, 3, 2).float().cpu().numpy() for g in GATES}
    if trainer.data.extra["task"] == "text":
        q = trainer.spec.seq
        view["sample"] = sample_text(
            model, trainer.data.extra["vocab"], PROMPT, SAMPLE_CHARS, q.temperature, trainer.spec.seed + 4
        )
    return view
