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

from core import export
from core.engine import resolve_device, share_cpu
from core.lr_find import lr_range_test
from core.presets import list_presets, load_preset
from core.spec import SpecError, apply_overrides, from_dict, from_json, parse_overrides, to_dict, validate
from core.store import Store
from core.trainers import make_trainer, probes_for


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for a bad spec
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def load_spec(ref: str):
    """A preset name or a spec JSON file -> (Spec, title, page or None)."""
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
    for p in list_presets():
        print(f"{p.name:22s} {p.page:11s} {p.title}")
    return 0


def cmd_run(args) -> int:
    spec, title, page = load_spec(args.spec)
    overrides = parse_overrides(args.set or [])
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.device is not None:
        overrides["train.device"] = args.device
    spec = validate(apply_overrides(spec, overrides))
    device = resolve_device(spec)
    share_cpu()

    store = Store()
    run_id = store.create_run(to_dict(spec), "runner", title)
    out = open(args.out, "w") if args.out else None
    trainer = make_trainer(spec, probes_for(spec, page), device)
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


def cmd_export(args) -> int:
    """Write the spec, weights, a standalone script and/or metrics of a preset, spec file or stored run."""
    run = Store().get_run(args.spec) if not args.spec.endswith(".json") else None
    if run is not None:
        spec, history, trainer = validate(from_dict(run["spec"])), Store().metrics(args.spec), None
        if args.weights:
            raise SpecError("--weights", args.spec, "a preset or spec file; stored runs keep no weights to export")
    else:
        spec, _, page = load_spec(args.spec)
        share_cpu()
        trainer = make_trainer(spec, probes_for(spec, page))
        while trainer.step_count < (args.steps or 0) and not trainer.done:
            trainer.step()
        history = trainer.history
    outputs = {
        args.spec_out: lambda: export.spec_json(spec),
        args.script: lambda: export.script_text(spec),
        args.metrics: lambda: export.metrics_csv(history),
        args.weights: lambda: export.weights_bytes(trainer.model, spec),
    }
    written = []
    for path, make in outputs.items():
        if not path:
            continue
        content = make()
        try:
            Path(path).write_bytes(content if isinstance(content, bytes) else content.encode())
        except OSError as e:
            raise SpecError("output", path, f"a writable path ({e.strerror})") from None
        written.append(path)
    print(json.dumps({"spec": args.spec, "steps": trainer.step_count if trainer else None, "written": written}))
    return 0


def cmd_lr_find(args) -> int:
    """LR range test on a fresh network of the spec; one JSON line with the curve and suggested_lr."""
    spec, _, _ = load_spec(args.spec)
    spec = validate(apply_overrides(spec, parse_overrides(args.set or [])))
    share_cpu()
    result = lr_range_test(make_trainer(spec), steps=args.steps, lr_min=args.min_lr, lr_max=args.max_lr)
    print(json.dumps(result))
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
    exp = sub.add_parser("export", help="write a spec, weights, a standalone PyTorch script or metrics")
    exp.add_argument("spec", help="preset name, spec .json file or stored run id")
    exp.add_argument("--steps", type=int, default=0, help="train N optimiser steps first (0 = untrained)")
    exp.add_argument("--script", help="write a standalone PyTorch training script here")
    exp.add_argument("--weights", help="write the weights here (safetensors, spec in the metadata)")
    exp.add_argument("--spec", dest="spec_out", help="write the spec JSON here")
    exp.add_argument("--metrics", help="write the epoch records here as CSV")
    exp.__class__ = _Parser
    lrf = sub.add_parser("lr-find", help="LR range test: loss vs an exponentially growing LR, suggested LR")
    lrf.add_argument("spec", help="preset name or spec .json file")
    lrf.add_argument("--steps", type=int, default=200, help="steps of the test (10 to 2000)")
    lrf.add_argument("--min-lr", type=float, default=1e-5)
    lrf.add_argument("--max-lr", type=float, default=10.0)
    lrf.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a spec field")
    lrf.__class__ = _Parser
    args = parser.parse_args(argv)
    try:
        if args.cmd == "presets":
            return cmd_presets()
        if args.cmd == "lr-find":
            if not 10 <= args.steps <= 2000:
                raise SpecError("--steps", args.steps, "between 10 and 2000")
            if not 0 < args.min_lr < args.max_lr <= 100:
                raise SpecError("--min-lr/--max-lr", (args.min_lr, args.max_lr), "0 < min < max <= 100")
            return cmd_lr_find(args)
        if args.cmd == "export":
            if args.steps < 0:
                raise SpecError("--steps", args.steps, "0 or more")
            return cmd_export(args)
        if args.steps is not None and args.steps < 1:
            raise SpecError("--steps", args.steps, "at least 1")
        return cmd_run(args)
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
