"""A standalone script that rebuilds the spec's data, model and training loop in plain PyTorch.

The script imports only torch, numpy and (for the digits) scikit-learn. It seeds and orders
everything as the Trainer does (weights under `manual_seed(seed)`, batches from a generator seeded
`seed + 1`, augmentation `seed + 2`, dropout `seed + 3`), so it reaches the app's losses.
`script_blocks()` gives its parts as text blocks (what a notebook turns into cells).
"""

from __future__ import annotations

import base64
import inspect
import json
import zlib

import numpy as np
import torch
from torch import nn

from core import losses as project_losses
from core.data import images as image_data
from core.data.table import load_table, make_table_dataset
from core.engine import make_optimizer
from core.export.seq_script import seq_data_code, seq_evaluate_code, seq_loss_code, seq_model_code
from core.export.source import sources
from core.export.templates import (
    DIGITS_LOAD,
    DOC,
    EVALUATE,
    FEATURE_CODE,
    IMAGE_DATA,
    IMPORTS,
    INIT_CODE,
    MODEL,
    RUN,
    SCHEDULE_CODE,
    SHAPES_LOAD,
    SPEC_CODE,
    TABLE_DATA,
    TOY_DATA,
    TRAIN,
)
from core.models import build_model
from core.registry import DATASETS, LOSSES
from core.spec import Spec, SpecError, resolved_loss, to_dict, validate


def script_supported(spec: Spec) -> str:
    """'' when a script can be generated for the spec, else why not (one sentence)."""
    kind = DATASETS[spec.data.name].kind
    if kind == "seq":
        return ""
    if kind not in ("toy", "image", "table") or spec.model.family not in ("mlp", "cnn"):
        return "scripts are generated for supervised networks (Playground, Gradient lab, CNN, Sequences pages)"
    if kind == "table":  # the script ships the table's numbers: they must still be on this server
        try:
            load_table(spec)
        except SpecError as e:
            return e.allowed
    return ""


def script_blocks(spec: Spec) -> dict[str, str]:
    """The script's parts in order, each a block of text: doc, imports, spec, data, model, loss, training, run.

    The loss block is '' for a loss torch has; `run` calls `main()` when the file is run as a script.
    SpecError when the spec is invalid or has no script (`script_supported`).
    """
    spec = validate(spec)
    why = script_supported(spec)
    if why:
        raise SpecError("script", spec.data.name, why)
    seq = DATASETS[spec.data.name].kind == "seq"
    return {
        "doc": DOC.format(title=spec.data.name),
        "imports": IMPORTS,
        "spec": SPEC_CODE.format(spec=json.dumps(to_dict(spec), indent=1)),
        "data": seq_data_code(spec) if seq else data_code(spec),
        "model": seq_model_code(spec) if seq else model_code(spec),
        "loss": "" if seq else loss_code(spec),
        "training": training_code(spec),
        "run": RUN,
    }


def script_text(spec: Spec) -> str:
    """A standalone `python script.py` that trains the spec as the app does and prints its final loss."""
    b = script_blocks(spec)
    header = "\n\n".join((b["doc"], b["imports"], b["spec"]))
    parts = [header, b["data"], b["model"], b["loss"], b["training"] + "\n\n" + b["run"]]
    return "\n\n\n".join(p.strip("\n") for p in parts if p) + "\n"


def training_code(spec: Spec) -> str:
    """The loss function, L1/L2 penalty, evaluation and `main()`: the training loop as the Trainer runs it."""
    loss = resolved_loss(spec)
    if DATASETS[spec.data.name].kind == "seq":
        loss_call, evaluate = seq_loss_code(spec), seq_evaluate_code(spec)
    else:
        threshold = 0.5 if LOSSES[loss].target == "01" else 0.0
        loss_call, evaluate = _loss_call(loss), EVALUATE.format(classify=_classify_code(loss), threshold=threshold)
    return TRAIN.format(
        loss_code=loss_call,
        schedule_code=SCHEDULE_CODE[spec.train.schedule],
        optimizer_code=_optimizer_code(spec),
        evaluate=evaluate,
    )


def _optimizer_code(spec: Spec) -> str:
    """The optimiser's constructor call, read from a real one built by the registry (no second table)."""
    opt = make_optimizer([torch.zeros(1, requires_grad=True)], spec.train.optimizer, spec.train)
    params = inspect.signature(type(opt).__init__).parameters
    kwargs = {k: v for k, v in opt.defaults.items() if k in params and v is not None and k != "lr"}
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    return f"torch.optim.{type(opt).__name__}(params, lr=T['lr']{args})"


def _loss_call(loss: str) -> str:
    """The registry's loss function as a call: torch's functional by name, a project loss by its source."""
    fn = LOSSES[loss].fn
    prefix = "F." if fn.__module__ == "torch.nn.functional" else ""
    return f"{prefix}{fn.__name__}(out, y)"


def loss_code(spec: Spec) -> str:
    """The source of a project loss (and what it uses); '' for a loss torch has."""
    fn = LOSSES[resolved_loss(spec)].fn
    if fn.__module__ == "torch.nn.functional":
        return ""
    return "# ---- the loss\n\n" + "\n\n".join(sources(fn, project_losses))


def _classify_code(loss: str) -> str:
    if LOSSES[loss].target == "index":
        return "out.argmax(1)"
    return "(out[:, 0] >= 0).long()"


def _target_code(spec: Spec, loss: str) -> str:
    if DATASETS[spec.data.name].task == "regression":
        return "torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)"
    target = LOSSES[loss].target
    if target == "index":
        return "torch.as_tensor(labels, dtype=torch.long)"
    if target == "01":
        return "torch.as_tensor(labels, dtype=torch.float32).unsqueeze(1)"
    return "torch.as_tensor(labels * 2.0 - 1.0, dtype=torch.float32).unsqueeze(1)"


def _blob(array: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(array).tobytes(), 9)).decode()


def _array_code(name: str, t: torch.Tensor) -> str:
    a = t.numpy()
    return f'    {name} = _array("{_blob(a)}", np.{a.dtype}, {tuple(a.shape)})'


def data_code(spec: Spec) -> str:
    """`make_data()` (and `make_augmenter`): the spec's dataset, split and scaled as the app does."""
    d, loss = spec.data, resolved_loss(spec)
    kind = DATASETS[d.name].kind
    if kind == "table":  # the upload lives in this server's data folder: ship the numbers the app trains on
        data = make_table_dataset(spec)
        parts = zip(("x_train", "y_train", "x_test", "y_test"), (data.x_train, data.y_train, data.x_test, data.y_test))
        arrays = "\n".join(_array_code(name, t) for name, t in parts)
        return TABLE_DATA.format(key=d.table, target=d.target, arrays=arrays)
    if kind == "toy":
        fn = DATASETS[d.name].make
        feats = ", ".join(FEATURE_CODE[f] for f in d.features)
        return TOY_DATA.format(
            sources="\n\n".join(sources(fn, inspect.getmodule(fn))),
            gen=fn.__name__,
            n=d.n,
            noise=d.noise / 100.0,
            classes=d.classes,
            feats=feats,
            targets=_target_code(spec, loss),
        )
    if d.name == "digits":
        load = DIGITS_LOAD.format(n=d.n)
    else:  # generated shapes are drawn with Pillow, which the script does not import: ship the pixels
        images, labels = image_data.make_shapes(
            d.n or DATASETS["shapes"].default_n, d.classes, d.image_size, d.noise, spec.seed
        )
        load = SHAPES_LOAD.format(
            images=_blob(images.astype(np.float32)),
            labels=_blob(labels.astype(np.int64)),
            shape=tuple(images.shape),
        )
    augment = ""
    if d.augment:
        augment = "\n\n".join(sources(image_data.make_augmenter, image_data))
    return IMAGE_DATA.format(
        load=load,
        size=d.image_size,
        targets=_target_code(spec, loss),
        standard=d.normalize == "standard",
        augment=augment or "make_augmenter = None",
    )


def model_code(spec: Spec) -> str:
    """`build_model()` and `init_weights()`: the real model's modules written out in construction order."""
    model = build_model(spec)  # the real model: its modules are written out in construction order
    lines = []
    if spec.model.family in ("cnn", "transfer"):  # a transfer network is written as its CNN
        for mod in list(model.body) + [model.output]:
            lines.append(f"    layers.append(nn.{mod!r})")
        body = "\n".join(lines)
        build = f"    layers = []\n{body}\n    return nn.Sequential(*layers)"
    else:
        for block in model.blocks:
            seq = [block.linear, block.norm, block.act, block.drop]
            seq = [m for m in seq if m is block.act or not isinstance(m, nn.Identity)]
            mods = ", ".join(f"nn.{m!r}" for m in seq)
            wrap = "Residual" if block.residual else "nn.Sequential"
            lines.append(f"    layers.append({wrap}({mods}))")
        lines.append(f"    layers.append(nn.{model.output!r})")
        if model.tanh_out:
            lines.append("    layers.append(nn.Tanh())")
        build = "    layers = [nn.Flatten()]\n" + "\n".join(lines) + "\n    return nn.Sequential(*layers)"
    init = INIT_CODE[spec.model.init]
    return MODEL.format(build=build, init=init or "None", has_init=init is not None)
