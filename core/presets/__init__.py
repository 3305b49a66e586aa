"""Lesson presets: one JSON file each (title, page, short lesson text, partial spec, optional comparison).

A preset's comparison side is one typed field, read one way (`Preset.compare_spec()`):

    "compare": {"preset": "vanishing-sigmoid"}     the other side is that preset's spec
    "compare": {"set": {"data.augment": []}}       the other side is this spec with these fields changed

A preset may also set a page's own view values (not spec fields), e.g. the surface of an optimiser race:

    "ui": {"view": "race", "surface": "ravine"}     plain values (text, numbers, true/false) by view key

Names are `[a-z0-9-]+`: the files shipped here, then a teacher's folder named by the environment variable
PLAYGROUND_PRESETS (its names may not shadow shipped ones). A name is never a path.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import SpecError
from core.spec import Spec, apply_overrides, from_dict, validate

HERE = Path(__file__).parent
NAME = re.compile(r"[a-z0-9-]{1,64}")
MAX_BYTES = 100_000  # a preset file is a few kB; anything larger is not one


class PresetError(SpecError):
    """A preset file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"preset {path.name}", str(path), problem)
        self.args = (f"preset file {path}: {problem}",)

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Compare:
    """The other side of an A/B lesson: another preset's spec, or this spec with some fields set."""

    preset: str | None = None
    set: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    page: str  # the page that opens it: playground, gradients, cnn, gan
    lesson: str
    spec: Spec
    compare: Compare | None = None  # the A side of an A/B lesson (the preset's own spec is B)
    ui: dict = field(default_factory=dict)  # the page's view values this lesson sets (see the module docstring)

    def compare_spec(self, base: Spec | None = None) -> Spec | None:
        """The comparison side's spec (None without one); `set` changes apply to `base` (default: this spec)."""
        if self.compare is None:
            return None
        if self.compare.preset is not None:
            return _load(self.compare.preset, with_compare=False).spec
        return validate(apply_overrides(base or self.spec, self.compare.set), check_params=False)


def _folders() -> list[Path]:
    """Where presets are read from: the shipped folder, then the teacher's (PLAYGROUND_PRESETS)."""
    extra = os.environ.get("PLAYGROUND_PRESETS", "").strip()
    return [HERE] + ([Path(extra).expanduser()] if extra else [])


def _path(name: str) -> Path:
    """The file of a preset name; KeyError for a name that is not a preset (or not a name at all)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise KeyError(name)
    for folder in _folders():
        path = folder / f"{name}.json"
        if path.is_file():
            return path
    raise KeyError(name)


def preset_names() -> list[str]:
    """All preset names (shipped and the teacher's), sorted."""
    names = set()
    for folder in _folders():
        if folder.is_dir():
            names |= {p.stem for p in folder.glob("*.json") if NAME.fullmatch(p.stem)}
    return sorted(names)


def _read(path: Path) -> dict:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PresetError(path, f"larger than {MAX_BYTES:,} bytes")
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise PresetError(path, f"cannot be read ({e.__class__.__name__})") from None
    except json.JSONDecodeError as e:
        raise PresetError(path, f"invalid JSON: {e.msg} at line {e.lineno}") from None
    except (ValueError, RecursionError):
        raise PresetError(path, "invalid JSON (a number too long or nesting too deep)") from None
    if not isinstance(raw, dict):
        raise PresetError(path, "expected a JSON object with title, page, lesson and spec")
    return raw


def _compare(path: Path, raw) -> Compare | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1 or not set(raw) <= {"preset", "set"}:
        raise PresetError(path, 'compare must be {"preset": NAME} or {"set": {"dotted.key": value, ...}}')
    if "preset" in raw:
        if not isinstance(raw["preset"], str) or not NAME.fullmatch(raw["preset"]):
            raise PresetError(path, f"compare.preset {raw['preset']!r} is not a preset name")
        return Compare(preset=raw["preset"])
    if not isinstance(raw["set"], dict) or not raw["set"]:
        raise PresetError(path, "compare.set must be an object of dotted spec fields")
    return Compare(set=dict(raw["set"]))


def _ui(path: Path, raw) -> dict:
    if raw is None:
        return {}
    ok = isinstance(raw, dict) and all(
        isinstance(k, str) and NAME.fullmatch(k.replace("_", "-")) and isinstance(v, (str, int, float, bool))
        for k, v in raw.items()
    )
    if not ok:
        raise PresetError(path, "ui must be an object of view keys to plain values (text, numbers, true/false)")
    return dict(raw)


def load_preset(name: str) -> Preset:
    """Read and validate one preset (both sides); KeyError when there is none by that name, PresetError when
    its file is malformed."""
    return _load(name, with_compare=True)


# Parsed presets by (file, its modification time and size, with_compare): every page run lists the lessons, and
# reading and validating ~40 files each time was a fifth of a run's time. An edited file is read again.
_CACHE: dict[tuple, Preset] = {}


def _load(name: str, with_compare: bool) -> Preset:
    path = _path(name)
    try:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size, with_compare)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    preset = _parse(name, path, with_compare)
    if key is not None:
        _CACHE[key] = preset
    return preset


def _parse(name: str, path: Path, with_compare: bool) -> Preset:
    raw = _read(path)
    keys = {"title", "page", "lesson", "spec", "compare", "ui"}
    unknown, missing = set(raw) - keys, {"title", "page", "lesson", "spec"} - set(raw)
    if unknown or missing:
        problem = f"unknown keys {sorted(unknown)}" if unknown else f"missing {sorted(missing)}"
        raise PresetError(path, f"{problem}; a preset has {', '.join(sorted(keys))}")
    for key in ("title", "page", "lesson"):
        if not isinstance(raw[key], str):
            raise PresetError(path, f"{key} must be text")
    if not NAME.fullmatch(raw["page"]):
        raise PresetError(path, f"page {raw['page']!r} is not a page name")
    try:
        # Field checks only: the server's budgets (PLAYGROUND_MAX_*) apply when a run is built, where the page
        # says which budget a lesson exceeds; a tight budget must not make the lesson list itself fail.
        spec = validate(from_dict(raw["spec"]), check_params=False)
        compare = _compare(path, raw.get("compare"))
        preset = Preset(name, raw["title"], raw["page"], raw["lesson"], spec, compare, _ui(path, raw.get("ui")))
        if preset.compare is not None and preset.compare.preset == name:
            raise PresetError(path, "compare.preset names this preset itself")
        if with_compare:
            preset.compare_spec()
    except PresetError:
        raise
    except KeyError as e:
        raise PresetError(path, f"compare.preset {e.args[0]!r} is not a preset") from None
    except SpecError as e:
        raise PresetError(path, str(e)) from None
    return preset


def list_presets(page: str | None = None) -> list[Preset]:
    """Every preset (for one page when given). A teacher's malformed file is skipped with a warning."""
    out = []
    for name in preset_names():
        try:
            preset = load_preset(name)
        except PresetError as e:
            if Path(str(e.value)).parent == HERE:
                raise
            warnings.warn(str(e), stacklevel=2)
            continue
        if page is None or preset.page == page:
            out.append(preset)
    return out


def families(page: str) -> set[str]:
    """The model families the page's lessons train: a link or run of another family does not belong there."""
    out = set()
    for preset in list_presets(page):
        other = preset.compare_spec(preset.spec)
        out |= {s.model.family for s in (preset.spec, other) if s is not None}
    return out
