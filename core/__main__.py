"""The headless runner: train a preset or spec file exactly as the app does.

    python -m core presets
    python -m core run SPEC [--steps N] [--set dotted.key=value ...] [--seed S]
                            [--device auto|cpu|cuda] [--out metrics.jsonl] [--quiet]

Exit codes: 0 done, 2 bad spec or arguments (one line on stderr), 3 diverged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.spec import SpecError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for a bad spec
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SpecError("--set", item, "expected dotted.key=value")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def load_spec(ref: str):
    """A preset name or a spec JSON file -> (Spec, title, page or None)."""
    from core.presets import load_preset
    from core.spec import from_json

    path = Path(ref)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise SpecError("SPEC", ref, "no such file")
        return from_json(path.read_text()), path.stem, None
    try:
        p = load_preset(ref)
    except KeyError:
        raise SpecError(
            "SPEC",
            ref,
            "a preset name (see 'python -m core presets') or a spec .json file",
        ) from None
    return p.spec, p.name, p.page


def cmd_presets() -> int:
    from core.presets import list_presets

    for p in list_presets():
        print(f"{p.name:22s} {p.page:11s} {p.title}")
    return 0


def cmd_run(args) -> int:
    from core.engine import make_trainer, resolve_device, share_cpu
    from core.probes import probes_for
    from core.spec import apply_overrides, to_dict, validate

    spec, title, page = load_spec(args.spec)
    overrides = _parse_set(args.set or [])
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.device is not None:
        overrides["train.device"] = args.device
    spec = validate(apply_overrides(spec, overrides))
    device = resolve_device(spec)
    share_cpu()

    from core.store import Store

    store = Store()
    run_id = store.create_run(to_dict(spec), "runner", title)
    out = open(args.out, "w") if args.out else None
    trainer = make_trainer(spec, probes_for(page), device)
    t0 = time.perf_counter()
    written = 0
    try:
        while not trainer.done and (args.steps is None or trainer.step_count < args.steps):
            r = trainer.step()
            if r.metrics:
                if out:
                    out.write(json.dumps(r.metrics) + "\n")
                store.add_metrics(run_id, [r.metrics])
                written += 1
                if not args.quiet:
                    val = r.metrics.get("val_loss")
                    val_s = f" val_loss {val:.4g}" if val is not None else ""
                    print(
                        f"epoch {r.metrics['epoch']:>7.6g}  step {r.step:7d}  loss {r.metrics['loss']:.4g}{val_s}",
                        file=sys.stderr,
                    )
    finally:
        if out:
            out.close()
    status = trainer.status if trainer.done else "done"
    last = trainer.history[-1] if trainer.history else {}
    summary = {
        "run_id": run_id,
        "status": status,
        "message": trainer.message or f"stopped after {trainer.step_count} steps",
        "steps": trainer.step_count,
        "epochs": trainer.epoch,
        "seconds": round(time.perf_counter() - t0, 3),
        "device": str(device),
    }
    summary |= {
        k: v
        for k, v in last.items()
        if k in ("loss", "train_loss", "val_loss", "train_accuracy", "val_accuracy") or k.endswith("_test_accuracy")
    }
    store.finish_run(run_id, status, summary)
    print(json.dumps(summary))
    if status == "diverged":
        print(trainer.message, file=sys.stderr)
        return 3
    return 0


def main(argv=None) -> int:
    parser = _Parser(prog="python -m core", description="Deep-learning playground: headless runner")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("presets", help="list the lesson presets")
    run = sub.add_parser("run", help="train a preset or a spec JSON file")
    run.add_argument("spec", help="preset name or spec .json file")
    run.add_argument(
        "--steps",
        type=int,
        help="stop after N optimiser steps (default: the spec's epochs)",
    )
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a spec field, e.g. train.lr=0.1",
    )
    run.add_argument("--seed", type=int)
    run.add_argument("--device", choices=["auto", "cpu", "cuda"])
    run.add_argument("--out", help="write one JSON record per epoch to this file")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.__class__ = _Parser
    args = parser.parse_args(argv)
    try:
        if args.cmd == "presets":
            return cmd_presets()
        if args.steps is not None and args.steps < 1:
            raise SpecError("--steps", args.steps, "at least 1")
        return cmd_run(args)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
