"""The run as files: the spec as JSON, weights as safetensors (the spec in their metadata), metrics as CSV."""

from __future__ import annotations

import csv
import io
import json

import torch
from safetensors.torch import load, save
from torch import nn

from core.spec import Spec, SpecError, from_json, to_dict, to_json


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
        meta = weights_metadata(raw)
    except Exception as e:  # safetensors raises its own error types for any malformed header
        raise SpecError("weights", f"{len(raw)} bytes", f"a safetensors file ({type(e).__name__})") from None
    spec = from_json(meta["spec"]) if "spec" in meta else None
    return tensors, spec


def weights_metadata(raw: bytes) -> dict[str, str]:
    """The metadata in safetensors bytes' header (read without loading a tensor)."""
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
