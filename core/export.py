"""Leave the playground as plain PyTorch: the spec as JSON, weights as safetensors, metrics as CSV,
and a standalone script that rebuilds the spec's data, model and training loop.

The script imports only torch, numpy and (for the digits) scikit-learn. It seeds and orders
everything as the Trainer does (weights under `manual_seed(seed)`, batches from a generator seeded
`seed + 1`, augmentation `seed + 2`, dropout `seed + 3`), so it reaches the app's losses.
"""

from __future__ import annotations

import base64
import csv
import inspect
import io
import json
import types
import zlib

import numpy as np
import torch
from safetensors.torch import load, save
from torch import nn

from core import losses as project_losses
from core.data import images as image_data
from core.data.table import load_table, make_table_dataset
from core.engine import make_optimizer
from core.models import build_model
from core.registry import DATASETS, LOSSES
from core.spec import Spec, SpecError, from_json, resolved_loss, to_dict, to_json, validate

# Code text per registry name. A test checks every registry entry has one, so a new entry cannot be
# exported silently wrong.
INIT_CODE = {
    "default": None,
    "zeros": "nn.init.zeros_(w)",
    "normal": "nn.init.normal_(w, 0.0, scale)",
    "uniform": "nn.init.uniform_(w, -scale, scale)",
    "xavier": "nn.init.xavier_uniform_(w)",
    "he": "nn.init.kaiming_normal_(w, nonlinearity='relu')",
    "orthogonal": "nn.init.orthogonal_(w)",
}
FEATURE_CODE = {
    "x1": "a",
    "x2": "b",
    "x1sq": "a * a",
    "x2sq": "b * b",
    "x1x2": "a * b",
    "sin_x1": "torch.sin(a)",
    "sin_x2": "torch.sin(b)",
}
SCHEDULE_CODE = {
    "constant": "None",
    "step": "S.StepLR(opt, step_size=T['step_size'] * spe, gamma=T['gamma'])",
    "exponential": "S.ExponentialLR(opt, gamma=T['gamma'] ** (1.0 / spe))",
    "cosine": "S.CosineAnnealingLR(opt, T_max=total)",
    "warmup_cosine": (
        "S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.01, end_factor=1.0, total_iters=warm), "
        "S.CosineAnnealingLR(opt, T_max=total - warm)], milestones=[warm]) if warm > 0 "
        "else S.CosineAnnealingLR(opt, T_max=total)"
    ),
    "onecycle": (
        "S.OneCycleLR(opt, max_lr=T['lr'], total_steps=total + 1, "
        "pct_start=min(0.9, max(0.05, T['warmup'] / max(1, T['epochs']))))"
    ),
}


# ---------------------------------------------------------------------------- files


def spec_json(spec: Spec) -> str:
    """The spec as JSON text (what `from_json` reads back)."""
    return to_json(spec)


def weights_bytes(model: nn.Module, spec: Spec) -> bytes:
    """The model's state (parameters and buffers) as safetensors, the spec JSON in the metadata."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if v.is_floating_point()}
    return save(state, metadata={"spec": json.dumps(to_dict(spec))})


def read_weights(raw: bytes) -> tuple[dict[str, torch.Tensor], Spec | None]:
    """Parse safetensors bytes (never pickle) -> (tensors, the spec in its metadata or None)."""
    try:
        tensors = load(raw)
        meta = _metadata(raw)
    except Exception as e:  # safetensors raises its own error types for any malformed header
        raise SpecError("weights", f"{len(raw)} bytes", f"a safetensors file ({type(e).__name__})") from None
    spec = from_json(meta["spec"]) if "spec" in meta else None
    return tensors, spec


def _metadata(raw: bytes) -> dict:
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    return header.get("__metadata__") or {}


def load_weights_into(model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy matching tensors into `model`; SpecError naming the first missing or mis-shaped one."""
    own = {k: v for k, v in model.state_dict().items() if v.is_floating_point()}
    for key, value in own.items():
        if key not in tensors:
            raise SpecError("weights", key, "a tensor for every layer of this network (missing)")
        if tuple(tensors[key].shape) != tuple(value.shape):
            raise SpecError("weights", key, f"shape {tuple(value.shape)}, not {tuple(tensors[key].shape)}")
    extra = sorted(set(tensors) - set(own))
    if extra:
        raise SpecError("weights", extra[0], "only tensors of this network (unexpected tensor)")
    with torch.no_grad():
        for key, value in own.items():
            value.copy_(tensors[key].to(value))


def metrics_csv(history: list[dict]) -> str:
    """Epoch records as CSV; nested metrics become dotted columns (grad_norm.layer1, ...)."""
    rows = [_flatten(r) for r in history]
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _flatten(record: dict, prefix: str = "") -> dict:
    flat = {}
    for k, v in record.items():
        if isinstance(v, dict):
            flat |= _flatten(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float, str, bool)) or v is None:
            flat[f"{prefix}{k}"] = v
    return flat


# ---------------------------------------------------------------------------- the script


def script_supported(spec: Spec) -> str:
    """'' when a script can be generated for the spec, else why not (one sentence)."""
    kind = DATASETS[spec.data.name].kind
    if kind not in ("toy", "image", "table"):
        return "scripts are generated for supervised networks (Playground, Gradient lab, CNN pages)"
    if kind == "table":  # the script ships the table's numbers: they must still be on this server
        try:
            load_table(spec)
        except SpecError as e:
            return e.allowed
    return ""


def script_text(spec: Spec) -> str:
    """A standalone `python script.py` that trains the spec as the app does and prints its final loss."""
    spec = validate(spec)
    why = script_supported(spec)
    if why:
        raise SpecError("script", spec.data.name, why)
    d = to_dict(spec)
    loss = resolved_loss(spec)
    parts = [
        HEADER.format(title=spec.data.name, spec=json.dumps(d, indent=1)),
        _data_code(spec),
        _model_code(spec, loss),
        _loss_sources(loss),
        TRAIN.format(
            loss_code=_loss_call(loss),
            schedule_code=SCHEDULE_CODE[spec.train.schedule],
            optimizer_code=_optimizer_code(spec),
            classify=_classify_code(loss),
            threshold=0.5 if LOSSES[loss].target == "01" else 0.0,
        ),
    ]
    return "\n\n\n".join(p.strip("\n") for p in parts if p) + "\n"


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


def _loss_sources(loss: str) -> str:
    fn = LOSSES[loss].fn
    if fn.__module__ == "torch.nn.functional":
        return ""
    return "# ---- the loss\n\n" + "\n\n".join(_sources(fn, project_losses))


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


def _sources(fn, module: types.ModuleType, seen: set[str] | None = None) -> list[str]:
    """Source of `fn` and of every module-level function and constant of `module` it uses, deepest first."""
    seen = seen if seen is not None else {fn.__name__}
    out = []
    for name in _names(fn.__code__):
        if name in seen or not hasattr(module, name):
            continue
        value = getattr(module, name)
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            seen.add(name)
            out += _sources(value, module, seen)
        elif isinstance(value, (int, float, str, tuple)) and not name.startswith("__"):
            seen.add(name)
            out.append(f"{name} = {value!r}")
    return out + [inspect.getsource(fn)]


def _names(code: types.CodeType) -> list[str]:
    """Global names a code object and the functions nested in it use."""
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names += _names(const)
    return names


def _blob(array: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(array).tobytes(), 9)).decode()


def _array_code(name: str, t: torch.Tensor) -> str:
    a = t.numpy()
    return f'    {name} = _array("{_blob(a)}", np.{a.dtype}, {tuple(a.shape)})'


def _data_code(spec: Spec) -> str:
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
            sources="\n\n".join(_sources(fn, inspect.getmodule(fn))),
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
        augment = "\n\n".join(_sources(image_data.make_augmenter, image_data))
    return IMAGE_DATA.format(
        load=load,
        size=d.image_size,
        targets=_target_code(spec, loss),
        standard=d.normalize == "standard",
        augment=augment or "make_augmenter = None",
    )


def _model_code(spec: Spec, loss: str) -> str:
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


HEADER = '''#!/usr/bin/env python
"""Train a '{title}' network exactly as the Deep Learning Playground does, in plain PyTorch.

Run:  python {{this file}}  [--epochs N]
Needs torch and numpy (and scikit-learn for the digits). Prints one JSON line at the end with the
final epoch's mean training `loss` and the test `val_loss`.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SPEC = json.loads("""
{spec}
""")
D, M, T, SEED = SPEC["data"], SPEC["model"], SPEC["train"], SPEC["seed"]'''

TOY_DATA = '''# ---- data: the 2-D dataset, as TF Playground generates it

{sources}


def make_data():
    """(x_train, y_train, x_test, y_test, labels): points -> feature columns, split by train_frac."""
    rng = np.random.default_rng(SEED)
    pts, labels = {gen}({n}, {noise!r}, rng, {classes})
    order = rng.permutation(len(pts))
    pts, labels = pts[order].astype(np.float32), labels[order]
    p = torch.as_tensor(pts)
    a, b = p[:, 0], p[:, 1]
    x = torch.stack([{feats}], 1)
    y = {targets}
    split = int(len(pts) * D["train_frac"])
    return x[:split], y[:split], x[split:], y[split:]


make_augmenter = None'''

DIGITS_LOAD = """    from sklearn.datasets import load_digits

    raw = load_digits()
    images = (raw.images / 16.0).astype(np.float32)
    order = np.random.default_rng(SEED).permutation(len(images))
    if {n} > 0:
        order = order[:{n}]
    images, labels = images[order], raw.target[order].astype(np.int64)"""

SHAPES_LOAD = """    # The generated shapes, shipped as pixels (zlib + base64 of float32 images and int64 labels).
    images = np.frombuffer(zlib.decompress(base64.b64decode("{images}")), np.float32).reshape({shape})
    labels = np.frombuffer(zlib.decompress(base64.b64decode("{labels}")), np.int64).copy()"""

IMAGE_DATA = '''# ---- data: images (N, 1, S, S), normalised by the training set's mean and std

def make_data():
    """(x_train, y_train, x_test, y_test): split train / validation / test as the app does."""
{load}
    x = torch.from_numpy(images.copy()).unsqueeze(1)
    if x.shape[-1] != {size}:
        x = F.interpolate(x, size=({size}, {size}), mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    n = len(x)
    n_train = int(round(n * D["train_frac"]))
    n_val = int(round((n - n_train) * D["val_frac"]))
    if {standard}:
        mean, std = float(x[:n_train].mean()), float(x[:n_train].std()) or 1.0
        x = (x - mean) / std
    y = {targets}
    val = slice(n_train, n_train + n_val) if n_val else slice(n_train + n_val, None)
    return x[:n_train], y[:n_train], x[val], y[val]


{augment}'''

TABLE_DATA = '''# ---- data: your uploaded table {key}, shipped as the numbers the app trains on: rows split by
# train_frac (seeded), feature columns scaled by the training rows' mean and std, targets as the loss expects
# them (label '{target}' as class indices or 0/1, or the target scaled to [-1, 1] by the training rows' range).

def _array(blob, dtype, shape):
    return torch.from_numpy(np.frombuffer(zlib.decompress(base64.b64decode(blob)), dtype).reshape(shape).copy())


def make_data():
    """(x_train, y_train, x_test, y_test)."""
{arrays}
    return x_train, y_train, x_test, y_test


make_augmenter = None'''

MODEL = '''# ---- model: the same modules, built in the same order under the same seed

class Residual(nn.Module):
    """A hidden layer plus its input (a skip connection)."""

    def __init__(self, *mods):
        super().__init__()
        self.body = nn.Sequential(*mods)

    def forward(self, x):
        return x + self.body(x)


def build_model():
{build}


def init_weights(model):
    if not {has_init}:
        return  # PyTorch's own initialisation
    scale = M["init_scale"]
    for mod in model.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = mod.weight
            {init}
            if mod.bias is not None:
                nn.init.constant_(mod.bias, M["init_bias"])'''

TRAIN = """# ---- training: mini-batch steps, the LR schedule per step, L1/L2 penalties, clipping

def loss_fn(out, y):
    return {loss_code}


def penalty(model):
    total = 0.0
    for p in model.parameters():
        if p.ndim >= 2:  # weights only: biases and norm scales are not regularised
            if T["l1"]:
                total = total + T["l1"] * p.abs().sum()
            if T["l2"]:
                total = total + T["l2"] * 0.5 * (p * p).sum()
    return total


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = float(loss_fn(out, y))
        classes = y if y.ndim == 1 else (y[:, 0] > {threshold}).long()
        accuracy = float(({classify} == classes).float().mean())
    model.train()
    return loss, accuracy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=T["epochs"])
    epochs = ap.parse_args().epochs
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    x_train, y_train, x_test, y_test = make_data()
    model = build_model()
    init_weights(model)
    model.train()
    torch.manual_seed(SEED + 3)  # dropout's own stream, as in the app
    batches = torch.Generator().manual_seed(SEED + 1)
    aug_gen = torch.Generator().manual_seed(SEED + 2)
    augment = make_augmenter(SPEC_NS) if make_augmenter else None
    params = model.parameters()
    opt = {optimizer_code}
    S = torch.optim.lr_scheduler
    bs = D["batch_size"]
    spe = max(1, math.ceil(len(x_train) / bs))
    total = max(1, T["epochs"] * spe)
    warm = min(total - 1, T["warmup"] * spe)
    sched = {schedule_code}
    loss = float("nan")
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x_train), generator=batches)
        x_epoch, y_epoch = x_train[order], y_train[order]  # shuffled once an epoch; batches are slices
        losses = []
        for i in range(spe):
            xb, yb = x_epoch[i * bs : (i + 1) * bs], y_epoch[i * bs : (i + 1) * bs]
            if augment is not None:
                xb = augment(xb, aug_gen)
            opt.zero_grad(set_to_none=True)
            data_loss = loss_fn(model(xb), yb)
            if not math.isfinite(float(data_loss.detach())):
                print(json.dumps({{"status": "diverged", "epoch": epoch}}))
                raise SystemExit(3)
            (data_loss + penalty(model)).backward()
            if T["clip"] > 0:
                nn.utils.clip_grad_norm_(model.parameters(), T["clip"])
            opt.step()
            if sched is not None:
                sched.step()
            losses.append(float(data_loss.detach()))
        loss = math.fsum(losses) / len(losses)
    val_loss, val_accuracy = evaluate(model, x_test, y_test)
    print(json.dumps({{"epochs": epochs, "loss": loss, "val_loss": val_loss, "val_accuracy": val_accuracy}}))


class _Namespace:
    def __init__(self, d):
        self.__dict__.update({{k: _Namespace(v) if isinstance(v, dict) else v for k, v in d.items()}})


SPEC_NS = _Namespace(SPEC)

if __name__ == "__main__":
    main()"""
