"""The runner's optimisation commands (`python -m core race`, `python -m core landscape`).

    python -m core race SURFACE_OR_PRESET [--steps N] [--set NAME.lr=V | lr=V ...] [--only a,b]
    python -m core landscape SPEC [--steps N] [--grid K] [--span S] [--directions random|pca] [--set k=v ...]

Each prints one JSON line. Exit codes as the runner's: 0 done, 2 bad input (one line on stderr), 3 diverged,
130 stopped (Ctrl-C or SIGTERM between two training steps).
"""

from __future__ import annotations

import json
import signal
import sys

import numpy as np

from core.errors import SpecError
from core.landscape import DIRECTIONS, PathRecorder, landscape
from core.presets import load_preset
from core.race import MAX_STEPS, TOL, race, race_summary
from core.registry import OPTIMIZERS
from core.spec import validate
from core.surfaces import SURFACES
from core.trainers import make_trainer


def add_parsers(sub) -> list:
    """The two subcommands' parsers (the runner gives them its one-line error handling)."""
    r = sub.add_parser("race", help="optimizers racing on a 2-D surface: final point, loss, steps to 1e-3")
    r.add_argument("surface", help=f"a surface ({', '.join(SURFACES)}) or a race lesson preset")
    r.add_argument("--steps", type=int, help="steps per optimizer (default 300, or the lesson's)")
    r.add_argument("--set", action="append", metavar="NAME.lr=VALUE", help="an optimizer's rate, or lr=V for all")
    r.add_argument("--only", help="comma-separated optimizers (default: all, or the lesson's)")
    s = sub.add_parser("landscape", help="train, then the 1-D line, the 2-D slice and the projected path")
    s.add_argument("spec", help="preset name or spec .json file")
    s.add_argument("--steps", type=int, help="stop after N optimiser steps (default: the spec's epochs)")
    s.add_argument("--grid", type=int, default=21, help="odd, 3 to 41")
    s.add_argument("--span", type=float, default=1.0)
    s.add_argument("--directions", choices=DIRECTIONS, default="random")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a spec field")
    return [r, s]


def _race_setup(args) -> tuple[str, dict[str, float], int]:
    """(surface, {optimizer: lr}, steps) from a surface name or a lesson preset, then the flags."""
    steps, lrs = 300, {n: 0.01 for n in OPTIMIZERS}
    if args.surface in SURFACES:
        surface = args.surface
    else:
        try:
            ui = load_preset(args.surface).ui
        except KeyError:
            raise SpecError("surface", args.surface, f"a surface ({', '.join(SURFACES)}) or a race lesson") from None
        if ui.get("surface") not in SURFACES:
            raise SpecError("surface", args.surface, "a lesson with a race (its ui names a surface)")
        surface, steps = ui["surface"], int(ui.get("steps", steps))
        lrs = {n: float(ui.get(f"lr_{n}", 0.01)) for n in OPTIMIZERS if ui.get(f"on_{n}")}
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        for n in names:
            if n not in OPTIMIZERS:
                raise SpecError("--only", n, ", ".join(OPTIMIZERS))
        lrs = {n: lrs.get(n, 0.01) for n in names}
    for item in args.set or []:
        key, _, raw = item.partition("=")
        name = key.removesuffix(".lr")
        if not key.endswith("lr") or (key != "lr" and name not in OPTIMIZERS):
            raise SpecError("--set", item, "NAME.lr=VALUE with NAME one of " + ", ".join(OPTIMIZERS) + ", or lr=VALUE")
        for n in lrs if key == "lr" else [name]:
            lrs[n] = float(raw)
    steps = args.steps if args.steps is not None else steps
    if not 1 <= steps <= MAX_STEPS:
        raise SpecError("--steps", steps, f"between 1 and {MAX_STEPS}")
    return surface, lrs, steps


def cmd_race(args) -> int:
    """One JSON line: each optimizer's rate, final point and loss, steps to within 1e-3 of the minimum."""
    surface, lrs, steps = _race_setup(args)
    results = race(surface, lrs, steps)
    print(json.dumps({"surface": surface, "steps": steps, "tol": TOL, "optimizers": race_summary(results)}))
    return 0


def _plain(obj):
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_plain(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    return obj


def cmd_landscape(args, load_spec, overrides) -> int:
    """Train the spec (recording its path), then print the landscape as one JSON line."""
    spec, _, _ = load_spec(args.spec)
    spec = validate(overrides(spec, args.set or []))
    if args.steps is not None and args.steps < 0:
        raise SpecError("--steps", args.steps, "0 or more")
    if not (3 <= args.grid <= 41 and args.grid % 2):
        raise SpecError("--grid", args.grid, "an odd number from 3 to 41")
    if not 0 < args.span <= 10:
        raise SpecError("--span", args.span, "in (0, 10]")
    trainer = make_trainer(spec, [PathRecorder()])
    stop = []
    old = signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not trainer.done and not stop and (args.steps is None or trainer.step_count < args.steps):
            trainer.step()
    except KeyboardInterrupt:
        stop.append(1)
    finally:
        signal.signal(signal.SIGTERM, old)
    if stop:
        return 130
    if trainer.status == "diverged":
        print(f"error: {trainer.message}", file=sys.stderr)
        return 3
    result = landscape(trainer, grid=args.grid, span=args.span, directions=args.directions, seed=spec.seed)
    print(json.dumps(_plain({"spec": args.spec, "steps": trainer.step_count, "epoch": trainer.epoch} | result)))
    return 0
