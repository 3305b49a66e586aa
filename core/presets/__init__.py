"""Lesson presets: one JSON file each (title, page, short lesson text, partial spec)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.spec import Spec, from_dict

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    page: str  # the page that opens it: playground, gradients, cnn, gan
    lesson: str
    spec: Spec
    extra: dict  # page-specific settings (e.g. the B side of an A/B comparison)


def preset_names() -> list[str]:
    """All preset names, sorted."""
    return sorted(p.stem for p in HERE.glob("*.json"))


def load_preset(name: str) -> Preset:
    """Read one preset; KeyError when there is none by that name."""
    path = HERE / f"{name}.json"
    if not path.is_file():
        raise KeyError(name)
    raw = json.loads(path.read_text())
    return Preset(
        name,
        raw["title"],
        raw["page"],
        raw["lesson"],
        from_dict(raw["spec"]),
        raw.get("extra", {}),
    )


def list_presets(page: str | None = None) -> list[Preset]:
    """Every preset (for one page when given)."""
    presets = [load_preset(n) for n in preset_names()]
    return [p for p in presets if page is None or p.page == page]
