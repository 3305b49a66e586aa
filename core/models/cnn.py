"""A convolutional network from the spec's layer list, and its per-layer shape and parameter table.

`plan(spec)` walks the layer list with core.budget's shape arithmetic (no torch): it gives the table the page
shows before training and raises a SpecError naming `model.layers[i]` for a stack that cannot work
(a kernel larger than its input, an output of size zero, a conv after flattening). `build_cnn` builds
exactly that plan; the tests check the plan's shapes and counts against PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from core.registry import ACTIVATIONS
from core.shapes import Shape, cnn_shapes
from core.spec import MAX_CONV_LAYERS, LayerSpec, Spec, SpecError, output_size


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
    return cnn_shapes(spec, 1)[0].in_shape


def _text(s: Shape) -> str:
    layer, t = s.layer, s.kind
    if t == "conv":
        return (
            f"conv {layer.size} filters {layer.kernel}x{layer.kernel}, stride {layer.stride}, padding {layer.padding}"
        )
    if t == "pool":
        return f"{layer.name} pool {layer.kernel}x{layer.kernel}, stride {layer.stride}, padding {layer.padding}"
    if t == "batchnorm":
        return "batch norm"
    if t == "act":
        return ACTIVATIONS[layer.name].label
    if t == "dropout":
        return f"dropout p={layer.p:g}"
    if t == "flatten":
        return "flatten" if layer is not None else "flatten (added)"
    if t == "dense":
        return f"dense {layer.size} units"
    k = s.out_shape[0]
    return f"output: dense {k} (one logit per class)" if k > 1 else "output: dense 1 (logit)"


def plan(spec: Spec) -> list[Step]:
    """Every module of the network with its output shape and parameter count (core.budget's shape arithmetic)."""
    convs = sum(1 for x in spec.model.layers if x.type == "conv")
    if convs > MAX_CONV_LAYERS:
        raise SpecError("model.layers", f"{convs} conv layers", f"at most {MAX_CONV_LAYERS}")
    return [
        Step(s.index, s.kind, s.layer, s.in_shape, s.out_shape, s.params, _text(s))
        for s in cnn_shapes(spec, output_size(spec))
    ]


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
