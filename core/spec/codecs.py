"""The Spec's codecs: dict/JSON (strict: an unknown key or a wrong type is a SpecError) and the URL query
(lenient: a bad value is skipped, kept at its default and named in the problems)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import fields

from core.errors import SpecError
from core.spec.sections import SECTIONS, LayerSpec, Spec, apply_overrides
from core.spec.validation import validate
from core.spec.values import MAX_TEXT, coerce


def to_dict(spec: Spec) -> dict:
    """Spec -> plain JSON-able dict."""
    return json.loads(json.dumps(dataclasses.asdict(spec)))


def from_dict(d: dict) -> Spec:
    """Strict dict -> Spec: unknown keys and wrong types raise SpecError. Missing keys get defaults."""
    if not isinstance(d, dict):
        raise SpecError("spec", type(d).__name__, "expected a JSON object")
    kw = {}
    for key, value in d.items():
        if key == "seed":
            kw["seed"] = coerce(Spec, "seed", value, "seed")
        elif key in SECTIONS:
            if not isinstance(value, dict):
                raise SpecError(key, value, "expected an object")
            cls = SECTIONS[key]
            known = {f.name for f in fields(cls)}
            sub = {}
            for k, v in value.items():
                if k not in known:
                    raise SpecError(
                        f"{key}.{k}",
                        v,
                        f"unknown key; known: {', '.join(sorted(known))}",
                    )
                sub[k] = coerce(cls, k, v, f"{key}.{k}")
            kw[key] = cls(**sub)
        else:
            where = key if isinstance(key, str) and key.strip() else f"spec key {key!r}"
            raise SpecError(where, value, "unknown key; known: " + ", ".join([*SECTIONS, "seed"]))
    return Spec(**kw)


def to_json(spec: Spec) -> str:
    """Spec -> JSON text."""
    return json.dumps(to_dict(spec), indent=2)


def from_json(text: str) -> Spec:
    """JSON text -> Spec (strict)."""
    if len(text) > 100 * MAX_TEXT:
        raise SpecError("spec", text[:40], f"at most {100 * MAX_TEXT:,} characters")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError("spec", text[:40], f"invalid JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else str(e).split(";")[0]
        raise SpecError("spec", text[:40], f"valid JSON ({reason})") from None
    return from_dict(d)


def _query_value(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        if value and isinstance(value[0], LayerSpec):
            return json.dumps([_layer_short(v) for v in value], separators=(",", ":"))
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _layer_short(layer: LayerSpec) -> dict:
    default = LayerSpec()
    return {"type": layer.type} | {
        k: v for k, v in dataclasses.asdict(layer).items() if k != "type" and v != getattr(default, k)
    }


def to_query(spec: Spec) -> dict[str, str]:
    """Spec -> short URL query dict: only fields that differ from the defaults, dotted keys."""
    q = {}
    if spec.seed != Spec().seed:
        q["seed"] = str(spec.seed)
    for section, cls in SECTIONS.items():
        value, default = getattr(spec, section), cls()
        for f in fields(cls):
            v = getattr(value, f.name)
            if v != getattr(default, f.name):
                q[f"{section}.{f.name}"] = _query_value(v)
    return q


def from_query(query: dict) -> tuple[Spec, list[str]]:
    """Lenient URL query -> (Spec, problems). The spec is valid; every value is either restored exactly or
    left at its default with a problem saying why (bad value, unknown key, or over a limit with the rest)."""
    given, problems = {}, []
    for key, value in query.items():
        if not isinstance(key, str) or (key != "seed" and key.partition(".")[0] not in SECTIONS):
            continue  # not a spec key (e.g. ?run=, ?preset=)
        if isinstance(value, list):
            value = value[-1] if value else ""
        try:
            apply_overrides(Spec(), {key: value})  # the value parses for this field
            given[key] = value
        except SpecError as e:
            problems.append(f"{e} (kept the default)")
    # Drop values the whole spec refuses (a field's limit, a rule tying fields, a budget), latest first.
    while True:
        spec = apply_overrides(Spec(), given)
        try:
            return validate(spec), problems
        except SpecError as e:
            key = next((k for k in given if e.field == k or e.field.startswith((k + "[", k + "."))), None)
            if not given:
                raise  # the defaults themselves are over this server's budgets
            if key is None:
                key = next(reversed(given))  # a rule across fields or a budget: undo the last value given
            problems.append(f"{e} (kept the default for {key})")
            del given[key]
