"""What a spec costs, by arithmetic only: parameters, memory and compute per training step and evaluation.

Every figure comes from the layer shapes of core/shapes.py (no model is built, no torch is imported), so `validate()`
refuses a spec that would take down a class server in microseconds. The server's budgets are
environment variables read at call time (see README, "Running it for a class"):

    PLAYGROUND_MAX_PARAMS       trainable parameters of one run (GAN: G + D)      default 2,000,000
    PLAYGROUND_MAX_MEMORY_MB    memory of one training step, and of one           default 400
                                evaluation chunk, in MB
    PLAYGROUND_MAX_STEP_GFLOP   compute of one training step (forward + backward) default 2
    PLAYGROUND_MAX_EVAL_GFLOP   compute of one evaluation (every image/point once) default 10

The estimates count float32 tensors: the input batch, every module's output (what autograd keeps
for the backward pass), the backward pass's two largest gradients in flight, and the weights with
their gradients and optimiser state. tests/core/test_budget.py checks them against measured tensors.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from core.data.corpus import load_text, text_vocab
from core.errors import SpecError
from core.registry import DATASETS
from core.shapes import Shape, ae_shapes, cnn_shapes, gan_shapes, mlp_shapes, numel, sample_shape

BYTES = 4  # float32
MB = 1e6
GFLOP = 1e9
MAX_EVAL_CHUNK = 4096  # larger chunks gain nothing measurable on a CPU
# State tensors per weight each optimiser keeps (Adam: two moments; SGD without momentum: none).
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 2, "adamw": 2, "rmsprop": 1, "adagrad": 1}
POOL_FACTOR = 3  # max pooling keeps an int64 index (two floats' worth) beside each output
# What one evaluation touches beyond the data set (core/probes.py decision_grid and core/gan.py).
PLANE_GRID = 80 * 80  # the decision / discriminator heat map over the plane
GAN_EVAL_SAMPLES = 1000  # fixed-noise samples for mode coverage
DIGITS = 1797  # scikit-learn's digits
SEQ_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 3, "lstm": 4}  # weight blocks per layer, as torch stacks them
# Floats per unit, step and layer that autograd keeps for backward through torch's fused cells (measured with
# saved-tensor hooks on CPU: RNN 2.0, GRU 8.0, LSTM 16.3-19.0; tests/core/test_seq.py checks the estimate).
SEQ_KEPT = {"rnn_tanh": 2.5, "rnn_relu": 2.5, "gru": 8.5, "lstm": 19}
SEQ_PROBE = 32  # validation sequences whose gradient through time is measured each epoch (core/seq.py)
AE_ANOMALY_ITEMS = 400  # noise and corrupted images an autoencoder also scores (core/autoencoder.py)


@dataclass(frozen=True)
class Costs:
    """A spec's size: parameters, memory of a training step, memory per evaluated item, FLOPs."""

    params: int
    train_bytes: int
    eval_item_bytes: int  # memory per image or point in an evaluation chunk
    step_flops: int
    eval_flops: int
    eval_items: int


@dataclass(frozen=True)
class Budgets:
    """The server's caps for one run (environment variables, read at call time)."""

    params: int
    memory_mb: float
    step_gflop: float
    eval_gflop: float


DEFAULTS = {
    # 8 GB machine, ~8 runs at once: ~400 MB each leaves ~4.5 GB for the OS, Python and the browser tabs.
    "PLAYGROUND_MAX_PARAMS": 2_000_000,
    "PLAYGROUND_MAX_MEMORY_MB": 400,
    # Measured on the 2-core machine under a load of 8.5: one thread runs these CNNs at 3-20 GFLOP/s
    # (cnn-no-pooling: a 0.25 GFLOP step in 12.5 ms, its 4.7 GFLOP evaluation in ~0.6 s). A 2 GFLOP step
    # then takes 0.1-0.7 s and a 10 GFLOP evaluation 0.5-3 s; the largest shipped lesson uses half of each.
    "PLAYGROUND_MAX_STEP_GFLOP": 2,
    "PLAYGROUND_MAX_EVAL_GFLOP": 10,
}


def _env(name: str) -> float:
    raw = os.environ.get(name, "")
    if not raw.strip():
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        raise SpecError(name, raw, "a positive number (environment variable)") from None
    if not math.isfinite(value) or value <= 0:
        raise SpecError(name, raw, "a positive number (environment variable)")
    return value


def budgets() -> Budgets:
    """The budgets in force now (PLAYGROUND_MAX_* environment variables, else the defaults)."""
    return Budgets(
        int(_env("PLAYGROUND_MAX_PARAMS")),
        _env("PLAYGROUND_MAX_MEMORY_MB"),
        _env("PLAYGROUND_MAX_STEP_GFLOP"),
        _env("PLAYGROUND_MAX_EVAL_GFLOP"),
    )


# ---------------------------------------------------------------------------- costs


def _params(net: list[Shape]) -> int:
    return sum(s.params for s in net)


def _flops(net: list[Shape]) -> int:
    return sum(s.flops for s in net)


def _kept(net: list[Shape]) -> int:
    """Floats per item that a training forward keeps for backward: the input and every module's output."""
    kept = numel(net[0].in_shape)
    for s in net:
        if not s.view:
            kept += numel(s.out_shape) * (POOL_FACTOR if s.kind == "pool" else 1)
    return kept


def _peak(net: list[Shape]) -> int:
    """Floats per item alive at once without autograd: the largest input + output pair."""
    return max(numel(s.in_shape) + numel(s.out_shape) for s in net)


def _state(params: int, optimizer: str) -> int:
    """Bytes of weights, their gradients and the optimiser's state."""
    return params * BYTES * (2 + OPTIMIZER_SLOTS.get(optimizer, 2))


def eval_items(spec) -> int:
    """Images or points one supervised evaluation runs through the model (every split, plus the plane's grid)."""
    d = spec.data
    info = DATASETS[d.name]
    if d.name == "digits":
        return min(d.n, DIGITS) if d.n > 0 else DIGITS
    if info.kind == "image":
        return d.n or info.default_n
    return d.n + PLANE_GRID


def costs(spec, n_out: int) -> Costs:
    """Parameters, training-step memory, evaluation memory per item and FLOPs of the spec (n_out: output units)."""
    b = spec.data.batch_size
    if DATASETS[spec.data.name].kind in ("gan", "gan_image"):
        return _gan_costs(spec, b)
    if DATASETS[spec.data.name].kind == "seq":
        return _seq_costs(spec, b)
    family = spec.model.family
    if family == "ae":
        net = ae_shapes(spec)
    else:
        net = cnn_shapes(spec, n_out) if family in ("cnn", "transfer") else mlp_shapes(spec, n_out)
    params = _params(net)
    # Backward holds the incoming and the outgoing gradient of one module at a time: two largest outputs.
    grads = 2 * max(numel(s.out_shape) for s in net)
    train = b * BYTES * (_kept(net) + grads) + _state(params, spec.train.optimizer)
    items = eval_items(spec) + (AE_ANOMALY_ITEMS if family == "ae" else 0)
    fwd = _flops(net)
    return Costs(params, train, BYTES * _peak(net), 3 * b * fwd, items * fwd, items)  # backward ~ 2x forward


def _gan_costs(spec, b: int) -> Costs:
    gen, disc = gan_shapes(spec)
    g = spec.gan
    params_g, params_d = _params(gen), _params(disc)
    gp = 2 if g.loss == "wgan_gp" else 1  # the gradient penalty differentiates D twice on interpolates
    # D update: D on B real and B fake (G runs without autograd); G update: G and D on B noise vectors.
    d_update = 2 * b * _kept(disc) * gp
    g_update = b * (_kept(gen) + _kept(disc))
    state = _state(params_g, g.g_optimizer) + _state(params_d, g.d_optimizer)
    train = BYTES * (max(d_update, g_update) + 2 * b * numel(sample_shape(spec))) + state
    f_g, f_d = _flops(gen), _flops(disc)
    step = g.d_steps * (b * f_g + 3 * 2 * b * f_d * gp) + 3 * b * (f_g + f_d)
    plane = DATASETS[spec.data.name].kind == "gan"
    items = GAN_EVAL_SAMPLES + (PLANE_GRID if plane else 0)
    evaluate = GAN_EVAL_SAMPLES * f_g + (PLANE_GRID * f_d if plane else 0)
    return Costs(params_g + params_d, train, BYTES * max(_peak(gen), _peak(disc)), step, evaluate, items)


def seq_sizes(spec) -> tuple[int, int, int | None, str]:
    """(input size, output size, classes or None for numbers, readout) of a sequence task.

    Symbols enter one-hot; the head reads the last step (adding), every step (sines, text) or the last
    `recall` steps (copy).
    """
    q, task = spec.seq, spec.data.name
    if task == "adding":
        return 2, 1, None, "last"
    if task == "sines":
        return 1, 1, None, "all"
    if task == "copy":
        return q.tokens + 2, q.tokens, q.tokens, "tail"
    v = len(text_vocab(load_text()))
    return v, v, v, "all"


def seq_params(spec) -> int:
    """Parameters of the recurrent network: per layer W_ih, W_hh, b_ih, b_hh for each gate, then the head."""
    q = spec.seq
    n_in, n_out, _, _ = seq_sizes(spec)
    g, h = SEQ_GATES[q.cell], q.hidden
    layers = sum(g * h * ((n_in if k == 0 else h) + h) + 2 * g * h for k in range(q.layers))
    return layers + h * n_out + n_out


def _seq_reads(spec) -> int:
    """Steps the head reads: the last, every step, or the last `recall`."""
    return {"last": 1, "all": spec.seq.length, "tail": spec.seq.recall}[seq_sizes(spec)[3]]


def seq_kept(spec) -> int:
    """Floats per sequence a training forward keeps for backward: the inputs, every step's gates and states of
    every layer, and the head's outputs."""
    q = spec.seq
    n_in, n_out, _, _ = seq_sizes(spec)
    states = math.ceil(q.length * q.layers * SEQ_KEPT[q.cell] * q.hidden)
    return q.length * n_in + states + _seq_reads(spec) * n_out


def _seq_costs(spec, b: int) -> Costs:
    q, d = spec.seq, spec.data
    n_in, n_out, _, _ = seq_sizes(spec)
    g, h, t = SEQ_GATES[q.cell], q.hidden, q.length
    params = seq_params(spec)
    fwd = t * sum(2 * g * h * ((n_in if k == 0 else h) + h) for k in range(q.layers)) + _seq_reads(spec) * 2 * h * n_out
    train = b * BYTES * (seq_kept(spec) + 2 * t * g * h) + _state(params, spec.train.optimizer)
    n = d.n or DATASETS[d.name].default_n
    n_val = n - max(1, int(n * d.train_frac))
    # One evaluation: the validation set forward, and the gradient through time (forward + backward) on a probe.
    items = n_val + SEQ_PROBE
    return Costs(params, train, BYTES * t * (n_in + (g + 2) * h), 3 * b * fwd, (n_val + 3 * SEQ_PROBE) * fwd, items)


def eval_chunk(spec, n_out: int) -> int:
    """Items per evaluation chunk that fit the memory budget (at least 1, at most MAX_EVAL_CHUNK)."""
    per_item = costs(spec, n_out).eval_item_bytes
    return max(1, min(MAX_EVAL_CHUNK, int(budgets().memory_mb * MB // per_item)))


class OverBudget(SpecError):
    """A spec over one of the server's budgets; the message says what to shrink."""

    def __init__(self, what: str, amount: str, cap: str, advice: str):
        super().__init__(f"model ({what})", amount, f"at most {cap}")
        self.args = (f"model ({what}): {amount} is over the {cap} budget; {advice}",)

    def __str__(self) -> str:
        return self.args[0]


# Budgets field -> (bytes or FLOPs per unit of the budget, the budget in words).
UNITS = {"params": (1, "{:,.0f}"), "memory_mb": (MB, "{:,.0f} MB")}
UNITS |= {"step_gflop": (GFLOP, "{:g} GFLOP"), "eval_gflop": (GFLOP, "{:g} GFLOP")}


@dataclass(frozen=True)
class Check:
    """One budget check: a cost, the budget that caps it, and a refusal that says what to shrink."""

    what: str  # the refusal's name for it
    budget: str  # the Budgets field (so the PLAYGROUND_MAX_* variable) that caps it
    cost: str  # the Costs field it reads
    amount: str  # the cost in words, formatted with the cost in the budget's unit (and items)
    advice: str  # what to shrink, formatted with smaller (layers) and images (the input)


SMALLER_BATCH = "use {smaller}, {images} or a smaller batch"
CHECKS = (  # in this order: a refusal names the first budget a spec exceeds
    Check("parameters", "params", "params", "{:,.0f} parameters", "use {smaller}"),
    Check("activation memory", "memory_mb", "train_bytes", "{:,.0f} MB per training step", SMALLER_BATCH),
    Check("evaluation memory", "memory_mb", "eval_item_bytes", "{:,.0f} MB per image", "use {smaller} or {images}"),
    Check("compute per step", "step_gflop", "step_flops", "{:,.2f} GFLOP per training step", SMALLER_BATCH),
    Check(
        "compute per evaluation",
        "eval_gflop",
        "eval_flops",
        "{:,.2f} GFLOP per evaluation ({items:,} items)",
        "use fewer items (data.n), {smaller} or {images}",
    ),
)


def check(spec, n_out: int) -> Costs:
    """Raise OverBudget (a SpecError) for the first budget the spec exceeds; return its costs."""
    c, cap = costs(spec, n_out), budgets()
    gan = DATASETS[spec.data.name].kind in ("gan", "gan_image")
    smaller = "fewer or narrower layers" if not gan else "narrower generator and discriminator layers"
    if spec.model.family in ("cnn", "transfer") and not gan:
        smaller = "fewer filters or units, more pooling"
    images = "smaller images"
    if DATASETS[spec.data.name].kind == "seq":
        smaller, images = "fewer hidden units or layers", "shorter sequences"
    for k in CHECKS:
        (unit, words), limit, cost = UNITS[k.budget], getattr(cap, k.budget), getattr(c, k.cost)
        if cost > limit * unit:
            amount = k.amount.format(cost / unit, items=c.eval_items)
            raise OverBudget(k.what, amount, words.format(limit), k.advice.format(smaller=smaller, images=images))
    return c
