"""Recurrent networks for the sequence tasks: a torch.nn RNN, LSTM or GRU and a linear head.

The head reads the top layer's hidden state: at the last step (adding problem), at every step
(forecasting, text) or over the last `recall` steps (copy). Symbols enter as one-hot vectors.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

from core.data.sequences import task_shape
from core.registry import CELLS
from core.spec import Spec


class SeqNet(nn.Module):
    """rnn (batch first) + head; `forward(x)` returns what the task's loss compares with its targets."""

    def __init__(self, cell: str, sizes: dict, hidden: int, layers: int, dropout: float, tail: int = 1):
        super().__init__()
        self.cell = cell
        self.symbols = sizes["input_size"] if sizes["classes"] is not None else 0  # one-hot width; 0 = numbers
        self.readout = sizes["readout"]
        self.tail = tail
        self.rnn = CELLS[cell].make(sizes["input_size"], hidden, layers, dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, sizes["output_size"])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Symbols (B, T) -> one-hot (B, T, V); numbers (B, T, I) pass through."""
        return F.one_hot(x, self.symbols).float() if self.symbols else x

    def read(self, top: torch.Tensor) -> torch.Tensor:
        """Top layer's states (B, T, H) -> the head's output for the task."""
        if self.readout == "last":
            return self.head(top[:, -1])  # (B, O)
        if self.readout == "tail":
            return self.head(top[:, -self.tail :])  # (B, recall, O)
        return self.head(top)  # (B, T, O)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, _ = self.rnn(self.encode(x))  # (B, T, H)
        return self.read(top)

    def named_layers(self) -> list[tuple[str, object]]:
        """Weight matrices input to output, for the gradient-norm probe: input and recurrent weights per layer."""
        out = []
        for k in range(self.rnn.num_layers):
            out.append((f"layer{k + 1}.input", SimpleNamespace(weight=getattr(self.rnn, f"weight_ih_l{k}"))))
            out.append((f"layer{k + 1}.recurrent", SimpleNamespace(weight=getattr(self.rnn, f"weight_hh_l{k}"))))
        return out + [("output", self.head)]


def add_forget_bias(lstm: nn.LSTM, value: float) -> None:
    """Add `value` to every layer's forget-gate bias (torch's gate order i, f, g, o; rows H..2H of bias_ih).

    A positive bias starts the forget gates near sigmoid(value) instead of 1/2, so the cell state, and the
    gradient through it, survive many steps from the first epoch on (Jozefowicz et al. 2015 use 1).
    """
    h = lstm.hidden_size
    with torch.no_grad():
        for k in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{k}")[h : 2 * h] += value


def build_rnn(spec: Spec) -> SeqNet:
    """The spec's recurrent network with torch's default initialisation (seeded by the caller), plus
    `seq.forget_bias` on an LSTM's forget gates."""
    q = spec.seq
    net = SeqNet(q.cell, task_shape(spec), q.hidden, q.layers, q.dropout, tail=q.recall)
    if q.forget_bias and isinstance(net.rnn, nn.LSTM):
        add_forget_bias(net.rnn, q.forget_bias)
    return net
