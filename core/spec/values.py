"""How a raw value (JSON, a URL query's text, a --set string) becomes a field's declared type.

Strict: a value that does not read as the field's type raises SpecError naming where it was given.
"""

from __future__ import annotations

import json
import math
import typing
from dataclasses import fields

from core.errors import SpecError

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
MAX_TEXT = 10_000  # characters of one JSON value or spec text; a longer one is refused unread


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # --set model.batchnorm=1 parses as the number 1
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise ValueError


def _int(value) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)  # 4.0 is 4; 4.7 is refused, never rounded
    if isinstance(value, str) and len(value.strip()) <= 30:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return _int(float(text))
    raise ValueError


def _float(value) -> float:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40):
        out = float(value)
        if math.isfinite(out):
            return out
    raise ValueError


def _items(value, single) -> list:
    """A list value, or a comma-separated string, or one `single` value as a list of one."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, single) and not isinstance(value, bool):
        return [value]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise ValueError


def coerce(cls, name: str, value, where: str):
    """Coerce a JSON (or URL / --set string) value to the declared type of cls.name, or raise SpecError."""
    t = str({f.name: f for f in fields(cls)}[name].type)
    what = {"bool": "true or false", "int": "a whole number", "float": "a finite number", "str": "a name"}
    try:
        if t == "bool":
            return _bool(value)
        if t == "int":
            return _int(value)
        if t == "float":
            return _float(value)
        if t == "str":
            if not isinstance(value, str):
                raise ValueError
            return value
        if t == "tuple[int, ...]":
            return tuple(_int(v) for v in _items(value, (int, float)))
        if t == "tuple[str, ...]":
            items = _items(value, str)
            if not all(isinstance(v, str) for v in items):
                raise ValueError
            return tuple(items)
        if t == "tuple[LayerSpec, ...]":
            if isinstance(value, str):
                value = _load_json(value, where)
            if not isinstance(value, (list, tuple)):
                raise ValueError
            layer = typing.get_type_hints(cls)[name].__args__[0]  # the section's own LayerSpec class
            return tuple(_layer_from(layer, v, f"{where}[{i}]") for i, v in enumerate(value))
    except SpecError:
        raise
    except (TypeError, ValueError, OverflowError, RecursionError):
        lists = {
            "tuple[int, ...]": "whole numbers",
            "tuple[str, ...]": "names",
            "tuple[LayerSpec, ...]": "layer objects",
        }
        allowed = what.get(t) or f"a list of {lists[t]}"
        raise SpecError(where, value, allowed) from None
    raise SpecError(where, value, f"unsupported type {t}")


def _load_json(text: str, where: str):
    """Parse JSON text, or raise SpecError (too long, too deep, too many digits or not JSON)."""
    if len(text) > MAX_TEXT:
        raise SpecError(where, text, f"at most {MAX_TEXT:,} characters")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(where, text, f"invalid JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError) as e:  # a 5,000-digit number; nesting deeper than Python's stack
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
        raise SpecError(where, text, f"valid JSON ({reason})") from None


def parse_overrides(items: list[str]) -> dict:
    """`dotted.key=value` strings -> {key: value}, values parsed as JSON where they parse, else kept as strings."""
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SpecError("--set", item, "expected dotted.key=value")
        try:
            value = _load_json(raw, key.strip())
        except SpecError:
            value = raw
        out[key.strip()] = value
    return out


def _layer_from(layer, value, where: str):
    """A layer dataclass (`layer`: the LayerSpec class) from a dict with its fields, strictly."""
    if isinstance(value, layer):
        return value
    if not isinstance(value, dict):
        raise SpecError(where, value, "expected an object with a 'type'")
    known = {f.name for f in fields(layer)}
    kw = {}
    for k, v in value.items():
        if k not in known:
            raise SpecError(f"{where}.{k}", v, f"unknown key; known: {', '.join(sorted(known))}")
        kw[k] = coerce(layer, k, v, f"{where}.{k}")
    return layer(**kw)
