"""The modules a spec's model will have, by shape arithmetic only: shapes, parameters and forward FLOPs.

MLP, CNN (the layer list) and GAN (MLP and DCGAN generator and discriminator) exactly as core/models
builds them; tests/core/test_budget.py checks every count against the built model. No torch here:
core.spec's validate() reads these (through core.budget) before anything is allocated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.errors import SpecError
from core.registry import DATASETS


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


def numel(shape: tuple[int, ...]) -> int:
    """Elements of a tensor of that shape (per item)."""
    return math.prod(shape)


def input_size(spec) -> int:
    """Number of inputs of an MLP on the spec's data: features of a 2-D set, columns of a table, pixels of an image."""
    kind = DATASETS[spec.data.name].kind
    if kind == "toy":
        return len(spec.data.features)
    if kind == "table":
        return spec.data.columns
    return spec.data.image_size**2


def _dense(index, kind, n_in: int, n_out: int) -> Shape:
    return Shape(index, kind, None, (n_in,), (n_out,), n_in * n_out + n_out, 2 * n_in * n_out)


def _elementwise(index, kind, shape, params=0, layer=None) -> Shape:
    return Shape(index, kind, layer, shape, shape, params, numel(shape))


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
        return add(index, "flatten", layer, (numel(shape),), 0, 0, view=True)

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
            shape = add(i, t, layer, shape, 2 * shape[0], 2 * numel(shape))
        elif t in ("act", "dropout"):
            shape = add(i, t, layer, shape, 0, numel(shape))
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
        gen = _mlp_net(g.noise_dim, g.gen_hidden, numel(shape), g.gen_batchnorm, 0.0, len(shape) == 3)
        return gen, _mlp_net(numel(shape), g.disc_hidden, 1, False, g.disc_dropout, False)
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


def ae_shapes(spec) -> list[Shape]:
    """The autoencoder's modules as core/models/autoencoder.py builds them: encoder, code (and log-variance
    head for a VAE), decoder. Convolutions are 3x3, stride 2, padding 1: each halves the side, rounding up."""
    a, s = spec.ae, spec.data.image_size
    out: list[Shape] = []
    if a.arch == "conv":
        chans, sides = [1, *a.channels], [s]
        for i in range(len(a.channels)):
            sides.append(math.ceil(sides[-1] / 2))
            out += [
                _conv(i, "conv", chans[i], chans[i + 1], 3, sides[i], sides[i + 1]),
                _elementwise(i, "act", (chans[i + 1], sides[i + 1], sides[i + 1])),
            ]
        flat = a.channels[-1] * sides[-1] ** 2
        out.append(Shape(None, "flatten", None, out[-1].out_shape, (flat,), 0, 0, view=True))
    else:
        flat = s * s
        out.append(Shape(None, "flatten", None, (1, s, s), (flat,), 0, 0, view=True))
        for i, h in enumerate(a.hidden):
            out += [_dense(i, "linear", flat, h), _elementwise(i, "act", (h,))]
            flat = h
    out.append(_dense(None, "linear", flat, a.bottleneck))  # the code (a VAE's mean)
    if a.variational:
        out += [_dense(None, "linear", flat, a.bottleneck), _elementwise(None, "sample", (a.bottleneck,))]
    out.append(_dense(None, "linear", a.bottleneck, flat))
    if a.arch == "conv":
        out.append(_elementwise(None, "act", (flat,)))
        out.append(Shape(None, "unflatten", None, (flat,), (a.channels[-1], sides[-1], sides[-1]), 0, 0, view=True))
        for i in reversed(range(len(a.channels))):
            out.append(_conv(i, "convT", chans[i + 1], chans[i], 3, sides[i + 1], sides[i]))
            if i > 0:
                out.append(_elementwise(i, "act", (chans[i], sides[i], sides[i])))
    else:
        widths = [s * s, *a.hidden]
        for i in reversed(range(len(a.hidden))):
            out += [_elementwise(i, "act", (widths[i + 1],)), _dense(i, "linear", widths[i + 1], widths[i])]
        out.append(Shape(None, "unflatten", None, (s * s,), (1, s, s), 0, 0, view=True))
    return out
