"""Recurrent networks on the shared engine: the SeqTrainer, the gradient through time, LSTM gates, text samples.

The gradient through time is the real autograd gradient of the loss with respect to each step's hidden
state. torch's recurrent modules run all steps and layers in one fused call, whose inner states autograd
cannot reach, so `unroll` runs torch's single-step cells on the same weight tensors (same numbers) and
keeps every step's state in the graph.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.data.dataset import make_dataset
from core.engine import SEED_LOCK, Trainer, make_optimizer, make_scheduler
from core.lr_find import LrFinderAction
from core.models.rnn import build_rnn

PROBE_BATCH = 32  # fixed validation sequences whose gradient through time is measured each epoch
EVAL_CHUNK = 256  # sequences per evaluation forward pass (memory grows with batch x length x hidden)


def layer_cells(rnn: nn.RNNBase) -> list[nn.Module]:
    """One single-step torch cell per layer of a fused recurrent module, sharing its weight tensors."""
    if isinstance(rnn, nn.LSTM):
        cls, kw = nn.LSTMCell, {}
    elif isinstance(rnn, nn.GRU):
        cls, kw = nn.GRUCell, {}
    else:
        cls, kw = nn.RNNCell, {"nonlinearity": rnn.nonlinearity}
    cells = []
    for k in range(rnn.num_layers):
        cell = cls(rnn.input_size if k == 0 else rnn.hidden_size, rnn.hidden_size, **kw)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            setattr(cell, name, getattr(rnn, f"{name}_l{k}"))  # the same Parameter objects, not copies
        cells.append(cell)
    return cells


def unroll(model, x: torch.Tensor) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
    """The model's output for x computed step by step and layer by layer (evaluation: no dropout between
    layers), and every step's hidden states: hs[t][k] is layer k's h_t, (B, H).

    Each h_t feeds the next step of its layer, the layer above at the same step, and (top layer) the
    head, so dL/dh_t holds every path from h_t to the loss.
    """
    e = model.encode(x)  # (B, T, I)
    cells = layer_cells(model.rnn)
    lstm = isinstance(model.rnn, nn.LSTM)
    h = [e.new_zeros(e.shape[0], model.rnn.hidden_size) for _ in cells]
    c = list(h)
    hs = []
    for t in range(e.shape[1]):
        inp = e[:, t]
        for k, cell in enumerate(cells):
            if lstm:
                h[k], c[k] = cell(inp, (h[k], c[k]))
            else:
                h[k] = cell(inp, h[k])
            inp = h[k]
        hs.append(list(h))
    top = torch.stack([layers[-1] for layers in hs], 1)  # (B, T, H)
    return model.read(top), hs


def grad_through_time(model, x: torch.Tensor, y: torch.Tensor, loss_fn) -> np.ndarray:
    """||dL/dh_t||_2 for t = 1..T (first step first), in evaluation mode; the weights' .grad are untouched.

    L is the batch's mean loss and h_t every layer's hidden state after step t, stacked (for the LSTM
    h_t, not the cell state c_t). Dropout is off, so the value depends only on the weights and the batch.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            out, hs = unroll(model, x)
            flat = [h for layers in hs for h in layers]
            grads = torch.autograd.grad(loss_fn(out, y), flat)
    finally:
        model.train(was_training)
    sq = torch.stack([g.pow(2).sum() for g in grads]).view(len(hs), -1).sum(1)  # (T,): summed over layers
    return sq.sqrt().double().cpu().numpy()


def lstm_states(lstm: nn.LSTM, e: torch.Tensor) -> dict[str, torch.Tensor]:
    """Gates and states of a batch-first nn.LSTM recomputed from its weights, for inputs e (B, T, I).

    Returns input, forget, cell candidate, output gates and c, h, each (layers, B, T, H), from
    i, f, g, o = sigmoid/tanh(W_ih x_t + b_ih + W_hh h_t-1 + b_hh) (torch's order i, f, g, o),
    c_t = f * c_t-1 + i * g, h_t = o * tanh(c_t). Dropout between layers is not applied (evaluation).
    """
    names = ("input", "forget", "candidate", "output", "c", "h")
    out = {k: [] for k in names}
    inp = e
    with torch.no_grad():
        for k in range(lstm.num_layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")
            b = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
            pre_x = inp @ w_ih.T + b  # (B, T, 4H): the input's share of every step, at once
            h = c = torch.zeros(e.shape[0], lstm.hidden_size, device=e.device, dtype=e.dtype)
            layer = {k: [] for k in names}
            for t in range(e.shape[1]):
                i, f, g, o = (pre_x[:, t] + h @ w_hh.T).chunk(4, 1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                c = f * c + i * g
                h = o * torch.tanh(c)
                for name, v in zip(names, (i, f, g, o, c, h)):
                    layer[name].append(v)
            for name in names:
                out[name].append(torch.stack(layer[name], 1))  # (B, T, H)
            inp = out["h"][-1]
    return {k: torch.stack(v) for k, v in out.items()}  # (layers, B, T, H)


def hidden_states(model, x: torch.Tensor) -> torch.Tensor:
    """Every layer's hidden state at every step, (layers, B, T, H), evaluation mode, no grad."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _, hs = unroll(model, x)
    finally:
        model.train(was_training)
    return torch.stack([torch.stack(layers) for layers in hs], 2)  # (layers, B, T, H)


def sample_text(model, vocab: list[str], prompt: str, n: int, temperature: float, seed: int) -> str:
    """`prompt` followed by n characters drawn one at a time from softmax(logits / temperature).

    The draws come from a generator seeded with `seed`, so the same weights give the same sample.
    """
    gen = torch.Generator().manual_seed(seed)
    index = {c: i for i, c in enumerate(vocab)}
    codes = [index[c] for c in prompt if c in index] or [0]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            x = torch.tensor([codes], device=device)
            top, state = model.rnn(model.encode(x))  # read the prompt
            for _ in range(n):
                logits = model.head(top[:, -1])[0].double().cpu()  # (V,)
                p = torch.softmax(logits / temperature, 0)
                code = int(torch.multinomial(p, 1, generator=gen))
                out.append(vocab[code])
                top, state = model.rnn(model.encode(torch.tensor([[code]], device=device)), state)
    finally:
        model.train(was_training)
    return prompt + "".join(out)


class SeqTrainer(LrFinderAction, Trainer):
    """Trains a recurrent network on a sequence task; epoch records add baseline_loss and grad_through_time."""

    def _build(self) -> None:
        spec = self.spec
        with SEED_LOCK:
            torch.manual_seed(spec.seed)
            self.data = make_dataset(spec)
            self.model = build_rnn(spec).to(self.device)
        self.classes = self.data.extra["classes"]
        self.loss_name = "mse" if self.classes is None else "ce"
        self.data_gen = torch.Generator().manual_seed(spec.seed + 1)
        self.n_train = len(self.data.x_train)
        self.optimizer = make_optimizer(self.model.parameters(), spec.train.optimizer, spec.train)
        self.scheduler = make_scheduler(self.optimizer, spec.train, self.steps_per_epoch)
        self.augment = None
        self._to_device()
        self._init_rng()
        self.probe_x = self.data.x_val[:PROBE_BATCH]
        self.probe_y = self.data.y_val[:PROBE_BATCH]

    def _init_rng(self) -> None:
        """torch's recurrent modules apply their dropout inside the module (no nn.Dropout to find)."""
        super()._init_rng()
        if self._rng_state is None and self.model.rnn.dropout > 0:
            self._rng_state = torch.Generator(self.device).manual_seed(self.spec.seed + 3).get_state()

    def finder_baseline(self) -> float:
        """The baseline's validation loss (guessing the mean, or each symbol's frequency): the adding problem's
        short runs all end on its plateau (core/lr_find.py)."""
        return float(self.data.extra["baseline"])

    def loss_fn(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """MSE for numbers; cross-entropy over every predicted symbol for symbols."""
        if self.classes is None:
            return F.mse_loss(out, y)
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))

    def predict(self, x: torch.Tensor, batch: int = EVAL_CHUNK) -> torch.Tensor:
        return super().predict(x, batch)

    def _evaluate(self) -> dict:
        """Validation loss (and symbol accuracy), the baseline, and the gradient through time.

        The training set is not evaluated again: `loss`, the epoch's batch mean, already tracks it, and a
        second pass over every training sequence would cost about a third of an epoch.
        """
        out = self.predict(self.data.x_val)
        rec = {"val_loss": float(self.loss_fn(out, self.data.y_val))}
        if self.classes is not None:
            rec["val_accuracy"] = float((out.argmax(-1) == self.data.y_val).float().mean())
        rec["baseline_loss"] = self.data.extra["baseline"]
        rec["grad_through_time"] = grad_through_time(self.model, self.probe_x, self.probe_y, self.loss_fn).tolist()
        return rec
