"""What a spec costs, by arithmetic only: parameters, memory and compute per training step and evaluation.

Every figure comes from the layer shapes (no model is built, no torch is imported), so `validate()`
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


@dataclass(frozen=True)
class Shape:
    """One module: the spec layer it comes from (None = added), shapes, parameters, forward FLOPs per item."""

    index: int | None
    kind: str  # linear, conv, convT, pool, batchnorm, act, dropout, add, flatten, dense, output
    layer: object | None  # the LayerSpec for CNN layers
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    flops: int
    view: bool = False  # a reshape: no memory of its own


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


# ---------------------------------------------------------------------------- shapes


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def input_size(spec) -> int:
    """Number of inputs of an MLP on the spec's data: features of a 2-D set, pixels of an image."""
    if DATASETS[spec.data.name].kind == "toy":
        return len(spec.data.features)
    return spec.data.image_size**2


def _dense(index, kind, n_in: int, n_out: int) -> Shape:
    return Shape(index, kind, None, (n_in,), (n_out,), n_in * n_out + n_out, 2 * n_in * n_out)


def _elementwise(index, kind, shape, params=0, layer=None) -> Shape:
    return Shape(index, kind, layer, shape, shape, params, _numel(shape))


def mlp_shapes(spec, n_out: int) -> list[Shape]:
    """The MLP's modules: per hidden layer Linear, [BatchNorm], activation, [Dropout], [+x]; then the output."""
    m = spec.model
    out, width = [], input_size(spec)
    for i, h in enumerate(m.hidden):
        out.append(_dense(i, "linear", width, h))
        if m.batchnorm:
            out.append(_elementwise(i, "batchnorm", (h,), 2 * h))
        out.append(_elementwise(i, "act", (h,)))
        if m.dropout > 0:
            out.append(_elementwise(i, "dropout", (h,)))
        if m.residual and width == h:  # the skip needs equal widths (core/models/mlp.py)
            out.append(_elementwise(i, "add", (h,)))
        width = h
    return out + [_dense(None, "output", width, n_out)]


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _spatial(where: str, layer, shape: tuple[int, ...], what: str) -> tuple[int, int]:
    """Output height and width of a conv or pooling layer, or a SpecError naming the layer."""
    if len(shape) != 3:
        raise SpecError(where, layer.type, f"a {what} needs an image input, but the layers before it flattened it")
    _, h, w = shape
    k, s, p = layer.kernel, layer.stride, layer.padding
    if k > min(h, w) + 2 * p:
        raise SpecError(
            f"{where}.kernel",
            k,
            f"at most {min(h, w) + 2 * p}: the kernel is larger than its {h}x{w} input (padding {p}), "
            "so the output would have size 0",
        )
    if layer.type == "pool" and 2 * p > k:
        raise SpecError(f"{where}.padding", p, f"at most half the pooling window ({k // 2})")
    oh, ow = _conv_out(h, k, s, p), _conv_out(w, k, s, p)
    if oh < 1 or ow < 1:
        raise SpecError(where, layer.type, f"an output of at least 1x1; this one would be {oh}x{ow}")
    return oh, ow


def cnn_shapes(spec, n_out: int) -> list[Shape]:
    """The CNN's modules from spec.model.layers (a flatten added before the first dense and the output)."""
    if DATASETS[spec.data.name].kind != "image":
        raise SpecError("model.family", "cnn", "a convolutional network needs an image dataset (digits or shapes)")
    shape: tuple[int, ...] = (1, spec.data.image_size, spec.data.image_size)
    out: list[Shape] = []

    def add(index, kind, layer, new, params, flops, view=False):
        out.append(Shape(index, kind, layer, shape, new, params, flops, view))
        return new

    def flatten(index, layer):
        return add(index, "flatten", layer, (_numel(shape),), 0, 0, view=True)

    for i, layer in enumerate(spec.model.layers):
        where, t = f"model.layers[{i}]", layer.type
        if t == "conv":
            oh, ow = _spatial(where, layer, shape, "convolution")
            c, f, k = shape[0], layer.size, layer.kernel
            shape = add(i, t, layer, (f, oh, ow), c * f * k * k + f, 2 * c * k * k * f * oh * ow)
        elif t == "pool":
            oh, ow = _spatial(where, layer, shape, "pooling layer")
            shape = add(i, t, layer, (shape[0], oh, ow), 0, layer.kernel**2 * shape[0] * oh * ow)
        elif t == "batchnorm":
            shape = add(i, t, layer, shape, 2 * shape[0], 2 * _numel(shape))
        elif t in ("act", "dropout"):
            shape = add(i, t, layer, shape, 0, _numel(shape))
        elif t == "flatten":
            shape = flatten(i, layer)
        elif t == "dense":
            if len(shape) == 3:
                shape = flatten(None, None)
            shape = add(i, t, layer, (layer.size,), shape[0] * layer.size + layer.size, 2 * shape[0] * layer.size)
        else:
            raise SpecError(f"{where}.type", t, "conv, pool, batchnorm, act, dropout, flatten or dense")
    if len(shape) == 3:
        shape = flatten(None, None)
    add(None, "output", None, (n_out,), shape[0] * n_out + n_out, 2 * shape[0] * n_out)
    return out


def sample_shape(spec) -> tuple[int, ...]:
    """Shape of one GAN sample: (2,) for the 2-D targets, (1, S, S) for images."""
    if DATASETS[spec.data.name].kind == "gan_image":
        s = spec.data.image_size
        return (1, s, s)
    return (2,)


MIN_CHANNELS = 8  # the DCGAN's narrowest feature map


def dcgan_stages(size: int) -> int:
    """Stride-2 stages between 4 x 4 and size x size (size must be a power of two, at least 8)."""
    n = int(round(math.log2(size))) - 2 if size > 0 else -1
    if size < 8 or 2 ** (n + 2) != size:
        raise SpecError("data.image_size", size, "8, 16, 32 or 64 for the DCGAN architecture")
    return n


def dcgan_channels(base: int, size: int, generator: bool) -> list[int]:
    """Feature-map channels from G's 4 x 4 map upwards, or from D's input downwards to its 4 x 4 map."""
    n = dcgan_stages(size)
    if generator:
        return [max(MIN_CHANNELS, base // 2**i) for i in range(n + 1)]
    return [max(MIN_CHANNELS, base // 2 ** (n - i)) for i in range(n + 1)]


def _mlp_net(n_in: int, hidden, n_out: int, batchnorm: bool, dropout: float, image_out: bool) -> list[Shape]:
    out, width = [], n_in
    for i, h in enumerate(hidden):
        out.append(_dense(i, "linear", width, h))
        if batchnorm:
            out.append(_elementwise(i, "batchnorm", (h,), 2 * h))
        out.append(_elementwise(i, "act", (h,)))
        if dropout > 0:
            out.append(_elementwise(i, "dropout", (h,)))
        width = h
    out.append(_dense(None, "output", width, n_out))
    if image_out:
        out.append(_elementwise(None, "act", (n_out,)))  # tanh
    return out


def _conv(index, kind, c_in, c_out, k, size_in, size_out) -> Shape:
    pixels = size_in * size_in if kind == "convT" else size_out * size_out  # a transposed conv runs per input pixel
    return Shape(
        index, kind, None, (c_in, size_in, size_in), (c_out, size_out, size_out), c_in * c_out * k * k + c_out,
        2 * c_in * c_out * k * k * pixels,
    )  # fmt: skip


def gan_shapes(spec) -> tuple[list[Shape], list[Shape]]:
    """(generator, discriminator) modules, as core/models/gan.py builds them."""
    g, shape = spec.gan, sample_shape(spec)
    if g.arch != "dcgan":
        gen = _mlp_net(g.noise_dim, g.gen_hidden, _numel(shape), g.gen_batchnorm, 0.0, len(shape) == 3)
        return gen, _mlp_net(_numel(shape), g.disc_hidden, 1, False, g.disc_dropout, False)
    if len(shape) != 3:
        raise SpecError("gan.arch", g.arch, "mlp for 2-D targets; dcgan needs an image set (gan_digits)")
    size = shape[-1]
    chans = dcgan_channels(g.gen_hidden[0], size, generator=True)
    gen = [_dense(None, "linear", g.noise_dim, chans[0] * 16)]
    if g.gen_batchnorm:
        gen.append(_elementwise(None, "batchnorm", (chans[0] * 16,), 2 * chans[0] * 16))
    gen.append(_elementwise(None, "act", (chans[0] * 16,)))
    s = 4
    for i, (c_in, c_out) in enumerate(zip(chans, chans[1:])):
        gen.append(_conv(i, "convT", c_in, c_out, 4, s, 2 * s))
        s *= 2
        if g.gen_batchnorm:
            gen.append(_elementwise(i, "batchnorm", (c_out, s, s), 2 * c_out))
        gen.append(_elementwise(i, "act", (c_out, s, s)))
    gen += [_conv(None, "output", chans[-1], 1, 3, s, s), _elementwise(None, "act", (1, s, s))]
    chans = dcgan_channels(g.disc_hidden[0], size, generator=False)
    disc = [_conv(None, "conv", 1, chans[0], 3, size, size), _elementwise(None, "act", (chans[0], size, size))]
    s = size
    for i, (c_in, c_out) in enumerate(zip(chans, chans[1:])):
        disc.append(_conv(i, "conv", c_in, c_out, 4, s, s // 2))
        s //= 2
        disc.append(_elementwise(i, "act", (c_out, s, s)))
        if g.disc_dropout > 0:
            disc.append(_elementwise(i, "dropout", (c_out, s, s)))
    disc.append(_dense(None, "output", chans[-1] * 16, 1))
    return gen, disc


# ---------------------------------------------------------------------------- costs


def _params(net: list[Shape]) -> int:
    return sum(s.params for s in net)


def _flops(net: list[Shape]) -> int:
    return sum(s.flops for s in net)


def _kept(net: list[Shape]) -> int:
    """Floats per item that a training forward keeps for backward: the input and every module's output."""
    kept = _numel(net[0].in_shape)
    for s in net:
        if not s.view:
            kept += _numel(s.out_shape) * (POOL_FACTOR if s.kind == "pool" else 1)
    return kept


def _peak(net: list[Shape]) -> int:
    """Floats per item alive at once without autograd: the largest input + output pair."""
    return max(_numel(s.in_shape) + _numel(s.out_shape) for s in net)


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
    net = cnn_shapes(spec, n_out) if spec.model.family == "cnn" else mlp_shapes(spec, n_out)
    params = _params(net)
    # Backward holds the incoming and the outgoing gradient of one module at a time: two largest outputs.
    grads = 2 * max(_numel(s.out_shape) for s in net)
    train = b * BYTES * (_kept(net) + grads) + _state(params, spec.train.optimizer)
    items = eval_items(spec)
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
    train = BYTES * (max(d_update, g_update) + 2 * b * _numel(sample_shape(spec))) + state
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


def check(spec, n_out: int) -> Costs:
    """Raise OverBudget (a SpecError) for the first budget the spec exceeds; return its costs."""
    c, cap = costs(spec, n_out), budgets()
    gan = DATASETS[spec.data.name].kind in ("gan", "gan_image")
    smaller = "fewer or narrower layers" if not gan else "narrower generator and discriminator layers"
    if spec.model.family == "cnn" and not gan:
        smaller = "fewer filters or units, more pooling"
    images = "smaller images"
    if DATASETS[spec.data.name].kind == "seq":
        smaller, images = "fewer hidden units or layers", "shorter sequences"
    if c.params > cap.params:
        raise OverBudget("parameters", f"{c.params:,} parameters", f"{cap.params:,}", f"use {smaller}")
    if c.train_bytes > cap.memory_mb * MB:
        raise OverBudget(
            "activation memory",
            f"{c.train_bytes / MB:,.0f} MB per training step",
            f"{cap.memory_mb:,.0f} MB",
            f"use {smaller}, {images} or a smaller batch",
        )
    if c.eval_item_bytes > cap.memory_mb * MB:
        raise OverBudget(
            "evaluation memory",
            f"{c.eval_item_bytes / MB:,.0f} MB per image",
            f"{cap.memory_mb:,.0f} MB",
            f"use {smaller} or {images}",
        )
    if c.step_flops > cap.step_gflop * GFLOP:
        raise OverBudget(
            "compute per step",
            f"{c.step_flops / GFLOP:,.2f} GFLOP per training step",
            f"{cap.step_gflop:g} GFLOP",
            f"use {smaller}, {images} or a smaller batch",
        )
    if c.eval_flops > cap.eval_gflop * GFLOP:
        raise OverBudget(
            "compute per evaluation",
            f"{c.eval_flops / GFLOP:,.2f} GFLOP per evaluation ({c.eval_items:,} items)",
            f"{cap.eval_gflop:g} GFLOP",
            f"use fewer items (data.n), {smaller} or {images}",
        )
    return c
