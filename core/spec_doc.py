"""docs/spec.md's `default` and `allowed` columns, written from the Spec's defaults and its limits table
(LIMITS, LENGTHS, CHOICES and PATTERNS).

    python -m core.spec_doc          rewrite those two columns of docs/spec.md in place (meanings are kept)

tests/core/test_spec.py checks that the file and the table agree, field by field.
"""

from __future__ import annotations

import re
import sys
from dataclasses import fields
from pathlib import Path

from core.spec import BOOL, CHOICES, LENGTHS, LIMITS, PATTERNS, SECTIONS, LayerSpec, Spec

DOC = Path(__file__).resolve().parent.parent / "docs" / "spec.md"
ROW = re.compile(r"^\| `(?P<field>[a-z_0-9]+)` \|(?P<default>[^|]*)\|(?P<allowed>[^|]*)\|(?P<rest>.*)$")
HEADING = re.compile(r"^## `(?P<section>[a-z_.\[\]]+)`")


def _num(x, unit: str = "") -> str:
    text = f"{x:,}" if isinstance(x, int) else f"{x:g}"
    return f"{text} {unit}".rstrip()


def _range(lim, unit: bool = True) -> str:
    return f"{_num(lim.lo)} .. {_num(lim.hi, lim.unit if unit else '')}"


def allowed(key: str, t: str) -> str:
    """What the table allows for one dotted field, in words."""
    if key in CHOICES and CHOICES[key] is BOOL:
        return "true, false"
    if t.startswith("tuple["):
        n = LENGTHS[key]
        if key in CHOICES:
            return f"{_range(n)} of {', '.join(CHOICES[key])}"
        if key in LIMITS:
            return f"{_range(n)} of {_range(LIMITS[key])}"
        return _range(n)  # model.layers: the layer fields have their own table
    if key in CHOICES:
        return ", ".join(str(k) for k in CHOICES[key])
    if key in PATTERNS:
        return PATTERNS[key].text
    return _range(LIMITS[key])


def default(value) -> str:
    """A default value as the doc shows it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) if value else "()"
    if isinstance(value, LayerSpec):
        return value.type
    if value == "":
        return '""'
    return _num(value) if isinstance(value, (int, float)) else str(value)


def expected() -> dict[str, tuple[str, str]]:
    """Dotted field -> (default, allowed), for every field of every section, the seed and the CNN layer fields."""
    out = {"seed": (default(Spec().seed), allowed("seed", "int"))}
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            out[f"{section}.{f.name}"] = (default(getattr(cls(), f.name)), allowed(f"{section}.{f.name}", str(f.type)))
    for f in fields(LayerSpec):
        key = f"model.layers.{f.name}"
        out[key] = (default(getattr(LayerSpec(), f.name)), allowed(key, str(f.type)))
    return out


def _key(section: str, name: str) -> str:
    if section == "seed":
        return "seed"
    return f"{section.replace('[i]', '')}.{name}"


def documented(text: str) -> dict[str, tuple[str, str]]:
    """Dotted field -> (default, allowed) as docs/spec.md states them."""
    out, section = {}, None
    for line in text.splitlines():
        if m := HEADING.match(line):
            section = m["section"]
        elif (m := ROW.match(line)) and section:
            out[_key(section, m["field"])] = (m["default"].strip(), m["allowed"].strip())
    return out


def rewrite(text: str) -> str:
    """The doc with every documented field's default and allowed cells taken from the table."""
    want, section, lines = expected(), None, []
    for line in text.splitlines():
        if m := HEADING.match(line):
            section = m["section"]
        elif (m := ROW.match(line)) and section and _key(section, m["field"]) in want:
            d, a = want[_key(section, m["field"])]
            line = f"| `{m['field']}` | {d} | {a} |{m['rest']}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    DOC.write_text(rewrite(DOC.read_text()))
    missing = sorted(set(expected()) - set(documented(DOC.read_text())))
    if missing:
        print("docs/spec.md has no row for: " + ", ".join(missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
