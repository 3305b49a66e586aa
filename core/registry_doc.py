"""docs/registries.md, written from the registries themselves: `python -m core.registry_doc > docs/registries.md`.

A test compares the file with this output, so the table cannot drift from what the code does.
"""

from __future__ import annotations

import torch

from core.registry import ACTIVATIONS, DATASETS, GAN_LOSSES, INITS, LOSSES, OPTIMIZERS, SCHEDULES
from core.spec import TrainSpec


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _first_line(fn) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn and fn.__doc__ else ""


def _built(make, *args) -> str:
    """The PyTorch class an entry builds, read from the object it returns."""
    obj = make(*args)
    return f"`{type(obj).__name__}`" if obj is not None else "none"


def _default_n(info) -> str:
    if info.kind not in ("toy", "image"):
        return ""  # GANs draw data.gan_samples real samples
    return str(info.default_n or "all")


def registry_markdown() -> str:
    """Every registry entry as Markdown tables: name, label and what it builds or does."""
    param = [torch.zeros(1, requires_grad=True)]
    train = TrainSpec(epochs=10)
    sgd = torch.optim.SGD(param, lr=0.1, momentum=0.9)
    parts = [
        "# Registries",
        "Generated from `core/registry.py` by `python -m core.registry_doc > docs/registries.md` (a test "
        "checks it). A spec names its choices by these keys; validation, the engine, the widgets and this "
        "page all read the same entries, so adding one is one entry there.",
        "## Optimizers (`train.optimizer`, `gan.g_optimizer`, `gan.d_optimizer`)",
        _table(
            ["name", "label", "builds", "reads"],
            [[f"`{k}`", v.label, _built(v.make, param, train), ", ".join(v.uses)] for k, v in OPTIMIZERS.items()],
        ),
        "## LR schedules (`train.schedule`)",
        "Stepped once per optimiser step.",
        _table(
            ["name", "label", "builds", "reads", "what it does"],
            [
                [f"`{k}`", v.label, _built(v.make, sgd, train, 4), ", ".join(v.uses), v.help]
                for k, v in SCHEDULES.items()
            ],
        ),
        "## Losses (`train.loss`)",
        "Targets: `index` class index with one logit per class, `01` one logit and 0/1 labels, `pm1` one "
        "output and -1/+1 labels; regression targets are the values.",
        _table(
            ["name", "label", "tasks", "targets", "auto for", "what it does"],
            [
                [f"`{k}`", v.label, ", ".join(v.tasks), v.target if v.fn else "", ", ".join(v.default_for), v.help]
                for k, v in LOSSES.items()
            ],
        ),
        "## GAN losses (`gan.loss`)",
        _table(
            ["name", "label", "D(x) shown as", "undecided at", "discriminator loss", "generator loss"],
            [
                [
                    f"`{k}`",
                    v.label,
                    "P(real) = sigmoid" if v.sigmoid else "raw score",
                    v.midpoint if v.midpoint is not None else "mean of real and fake scores",
                    _first_line(v.d),
                    _first_line(v.g),
                ]
                for k, v in GAN_LOSSES.items()
            ],
        ),
        "## Datasets (`data.name`)",
        _table(
            ["name", "label", "kind", "task", "classes", "default n", "generator"],
            [
                [f"`{k}`", v.label, v.kind, v.task, v.classes or "", _default_n(v), _first_line(v.make)]
                for k, v in DATASETS.items()
            ],
        ),
        "## Activations (`model.activation`, layer `act`, `gan.*_activation`)",
        _table(
            ["name", "label", "builds", "what it does"],
            [[f"`{k}`", v.label, _built(v.make), v.help] for k, v in ACTIVATIONS.items()],
        ),
        "## Initialisers (`model.init`)",
        _table(["name", "label", "what it does"], [[f"`{k}`", v.label, v.help] for k, v in INITS.items()]),
    ]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(registry_markdown(), end="")
