"""A convolutional network from the spec's layer list, and its per-layer shape and parameter table.

`plan(spec)` walks the layer list with shape arithmetic only (no torch): it gives the table the page
shows before training and raises a SpecError naming `model.layers[i]` for a stack that cannot work
(a kernel larger than its input, an output of size zero, a conv after flattening). `build_cnn` builds
exactly that plan; the tests check the plan's shapes and counts against PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.models.base import output_size
from core.registry import ACTIVATIONS, DATASETS
from core.spec import MAX_CONV_LAYERS, LayerSpec, Spec, SpecError


@dataclass(frozen=True)
class Step:
    """One module of the built network: the spec layer it comes from (None = added), its shapes and size."""

    index: int | None  # position in spec.model.layers; None for an automatic flatten or the output layer
    kind: str  # conv, pool, batchnorm, act, dropout, flatten, dense, output
    layer: LayerSpec | None
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    text: str


def input_shape(spec: Spec) -> tuple[int, int, int]:
    """(channels, height, width) of the spec's images."""
    if DATASETS[spec.data.name].kind != "image":
        raise SpecError("model.family", "cnn", "a convolutional network needs an image dataset (digits or shapes)")
    return (1, spec.data.image_size, spec.data.image_size)


def _conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _spatial(where: str, layer: LayerSpec, shape: tuple[int, ...], what: str) -> tuple[int, int]:
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


def plan(spec: Spec) -> list[Step]:
    """Every module of the network with its output shape and parameter count, by shape arithmetic."""
    shape: tuple[int, ...] = input_shape(spec)
    layers = spec.model.layers
    convs = sum(1 for x in layers if x.type == "conv")
    if convs > MAX_CONV_LAYERS:
        raise SpecError("model.layers", f"{convs} conv layers", f"at most {MAX_CONV_LAYERS}")
    steps: list[Step] = []

    def add(index, kind, layer, out, params, text):
        steps.append(Step(index, kind, layer, shape, out, params, text))
        return out

    for i, layer in enumerate(layers):
        where = f"model.layers[{i}]"
        t = layer.type
        if t == "conv":
            oh, ow = _spatial(where, layer, shape, "convolution")
            c = shape[0]
            text = f"conv {layer.size} filters {layer.kernel}x{layer.kernel}, stride {layer.stride}, padding {layer.padding}"
            shape = add(i, t, layer, (layer.size, oh, ow), c * layer.size * layer.kernel**2 + layer.size, text)
        elif t == "pool":
            oh, ow = _spatial(where, layer, shape, "pooling layer")
            text = f"{layer.name} pool {layer.kernel}x{layer.kernel}, stride {layer.stride}, padding {layer.padding}"
            shape = add(i, t, layer, (shape[0], oh, ow), 0, text)
        elif t == "batchnorm":
            shape = add(i, t, layer, shape, 2 * shape[0], "batch norm")
        elif t == "act":
            shape = add(i, t, layer, shape, 0, ACTIVATIONS[layer.name].label)
        elif t == "dropout":
            shape = add(i, t, layer, shape, 0, f"dropout p={layer.p:g}")
        elif t == "flatten":
            n = 1
            for v in shape:
                n *= v
            shape = add(i, t, layer, (n,), 0, "flatten")
        elif t == "dense":
            if len(shape) == 3:
                shape = add(None, "flatten", None, (shape[0] * shape[1] * shape[2],), 0, "flatten (added)")
            shape = add(i, t, layer, (layer.size,), shape[0] * layer.size + layer.size, f"dense {layer.size} units")
        else:
            raise SpecError(f"{where}.type", t, "conv, pool, batchnorm, act, dropout, flatten or dense")
    if len(shape) == 3:
        shape = add(None, "flatten", None, (shape[0] * shape[1] * shape[2],), 0, "flatten (added)")
    k = output_size(spec)
    add(
        None,
        "output",
        None,
        (k,),
        shape[0] * k + k,
        f"output: dense {k} (one logit per class)" if k > 1 else "output: dense 1 (logit)",
    )
    return steps


def _module(step: Step) -> nn.Module:
    layer, t = step.layer, step.kind
    if t == "conv":
        return nn.Conv2d(step.in_shape[0], layer.size, layer.kernel, layer.stride, layer.padding)
    if t == "pool":
        cls = nn.MaxPool2d if layer.name == "max" else nn.AvgPool2d
        return cls(layer.kernel, layer.stride, layer.padding)
    if t == "batchnorm":
        return nn.BatchNorm2d(step.in_shape[0]) if len(step.in_shape) == 3 else nn.BatchNorm1d(step.in_shape[0])
    if t == "act":
        return ACTIVATIONS[layer.name].make()
    if t == "dropout":
        return nn.Dropout(layer.p)
    if t == "flatten":
        return nn.Flatten()
    if t == "dense":
        return nn.Linear(step.in_shape[0], layer.size)
    return nn.Linear(step.in_shape[0], step.out_shape[0])  # output


class CNN(nn.Module):
    """The planned modules in order: `body` (every layer but the last) and the `output` Linear."""

    def __init__(self, steps: list[Step]):
        super().__init__()
        self.steps = steps
        self.body = nn.Sequential(*[_module(s) for s in steps[:-1]])
        self.output = _module(steps[-1])

    def forward(self, x):  # (B, 1, H, W) -> (B, classes)
        return self.output(self.body(x))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        """Weight layers from input to output (conv1.., dense1.., output), as metrics and charts name them."""
        out, counts = [], {"conv": 0, "dense": 0}
        for step, mod in zip(self.steps[:-1], self.body):
            if step.kind in counts:
                counts[step.kind] += 1
                out.append((f"{step.kind}{counts[step.kind]}", mod))
        return out + [("output", self.output)]


def build_cnn(spec: Spec) -> CNN:
    """The network of spec.model.layers plus a final Linear to the class count (flatten added where missing)."""
    return CNN(plan(spec))


def layer_table(spec: Spec) -> list[dict]:
    """One row per module: index (spec position, '' when added), layer, output shape, parameters."""
    return [
        {
            "index": "" if s.index is None else s.index,
            "layer": s.text,
            "output": " x ".join(str(v) for v in s.out_shape),
            "shape": s.out_shape,
            "params": s.params,
        }
        for s in plan(spec)
    ]
