"""The headless runner: train a preset or spec file exactly as the app does.

    python -m core presets
    python -m core run SPEC [--steps N] [--set dotted.key=value ...] [--seed S]
                            [--device auto|cpu|cuda] [--out metrics.jsonl] [--quiet]
    python -m core runs [--json] [--limit N]
    python -m core export SPEC_OR_RUN_ID [--steps N] [--script F] [--notebook F] [--weights F] [--spec F]
                          [--metrics F]
    python -m core lr-find SPEC [--steps N] [--min-lr A] [--max-lr B] [--set KEY=VALUE ...]
    python -m core race SURFACE_OR_PRESET [--steps N] [--set NAME.lr=V ...] [--only a,b]   (core/optim_cli.py)
    python -m core landscape SPEC [--steps N] [--grid K] [--span S] [--directions random|pca] [--set KEY=VALUE ...]

Exit codes: 0 done, 2 bad spec or arguments (one line on stderr), 3 diverged, 130 stopped.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from core import export
from core.engine import resolve_device, share_cpu
from core.lr_find import lr_range_test
from core.notebook import notebook_text
from core.optim_cli import add_parsers, cmd_landscape, cmd_race
from core.presets import list_presets, load_preset, preset_names
from core.spec import SpecError, apply_overrides, from_dict, from_json, parse_overrides, to_dict, validate
from core.store import Store, StoreError
from core.trainers import make_trainer, probes_for

FLUSH_S = 2.0  # records reach the store at least this often: a killed runner loses seconds, not its run
# Bad input can surface as any of these (a 5,000-digit number, 1e400, nested JSON, a binary file):
# before training starts each one is a refusal of the input, reported in one line.
BAD_INPUT = (SpecError, StoreError, ValueError, TypeError, OverflowError, RecursionError, KeyError, OSError)


# Keys of the last epoch record the one-line summary carries (auc: the anomaly detector, docs/metrics.md).
SUMMARY_KEYS = ("loss", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "val_recon", "kl", "auc")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for a bad spec
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _short(raw: str) -> str:
    """A value as it may appear in a one-line message (a 5,000-digit number is cut)."""
    return raw if len(raw) <= 40 else f"{raw[:20]}...{raw[-10:]} ({len(raw)} characters)"


def apply_each(spec, overrides: dict):
    """apply_overrides one key at a time, so any refusal names the key it came from."""
    for key, value in overrides.items():
        try:
            spec = apply_overrides(spec, {key: value})
        except SpecError:
            raise
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            raise SpecError(key, _short(json.dumps(value, default=str)), f"{type(e).__name__}: {e}") from None
    return spec


def load_spec(ref: str):
    """A preset name or a spec JSON file -> (Spec, title, page or None)."""
    path = Path(ref)
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise SpecError("SPEC", ref, "no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SpecError("SPEC", ref, "a UTF-8 JSON spec file (this file is not text)") from None
        except OSError as e:
            raise SpecError("SPEC", ref, f"a readable file ({e.strerror})") from None
        try:
            return from_json(text), path.stem, None
        except SpecError as e:
            raise SpecError(f"{ref}: {e.field}", e.value, e.allowed) from None
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            raise SpecError("SPEC", ref, f"a spec JSON file ({type(e).__name__}: {e})") from None
    if ref not in preset_names():
        raise SpecError("SPEC", ref, "a preset name (see 'python -m core presets') or a spec .json file")
    try:
        p = load_preset(ref)
    except SpecError as e:
        raise SpecError(f"preset {ref}: {e.field}", e.value, e.allowed) from None
    except (ValueError, TypeError, KeyError, RecursionError) as e:  # a hand-edited preset file
        raise SpecError("preset", ref, f"a well-formed preset file ({type(e).__name__}: {e})") from None
    return p.spec, p.name, p.page


def open_out(path: str | None):
    """The --out file opened for writing (None without --out); SpecError when it cannot be."""
    if not path:
        return None
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise SpecError("--out", path, f"a writable file path ({e.strerror})") from None


def cmd_presets() -> int:
    for p in list_presets():
        print(f"{p.name:22s} {p.page:11s} {p.title}")
    return 0


def cmd_runs(args) -> int:
    for r in Store().list_runs(limit=args.limit):
        row = {
            "id": r["id"],
            "status": r["status"],
            "epochs": int(r["epochs"]) if float(r["epochs"]).is_integer() else r["epochs"],
            "name": r["title"] or r["source"],
            "created": datetime.fromtimestamp(r["created"]).isoformat(timespec="seconds"),
        }
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{row['id']}  {row['status']:13s} {row['epochs']:>8}  {row['name']:24s} {row['created']}")
    return 0


def prepare(args):
    """Everything that can refuse the input, before a run row exists: (spec, title, page, device, out)."""
    if args.steps is not None and args.steps < 1:
        raise SpecError("--steps", args.steps, "at least 1")
    spec, title, page = load_spec(args.spec)
    overrides = parse_overrides(args.set or [])
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.device is not None:
        overrides["train.device"] = args.device
    spec = validate(apply_each(spec, overrides))
    return spec, title, page, resolve_device(spec), open_out(args.out)


def cmd_run(args) -> int:
    try:
        spec, title, page, device, out = prepare(args)
    except BAD_INPUT as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    share_cpu()
    try:
        store = Store()
        trainer = make_trainer(spec, probes_for(spec, page), device)
    except BAD_INPUT as e:
        if out:
            out.close()
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2
    run_id = store.create_run(to_dict(spec), "runner", title)
    t0 = time.perf_counter()
    unsaved, last_flush, status = [], time.monotonic(), "running"
    stop = threading.Event()
    previous = _stop_on_signals(stop)
    try:
        while not trainer.done and (args.steps is None or trainer.step_count < args.steps) and not stop.is_set():
            r = trainer.step()
            if r.metrics:
                if out:
                    out.write(json.dumps(r.metrics) + "\n")
                unsaved.append(r.metrics)
                if not args.quiet:
                    val = r.metrics.get("val_loss")
                    val_s = f" val_loss {val:.4g}" if val is not None else ""
                    print(
                        f"epoch {r.metrics['epoch']:>7.6g}  step {r.step:7d}  loss {r.metrics['loss']:.4g}{val_s}",
                        file=sys.stderr,
                    )
            if unsaved and time.monotonic() - last_flush >= FLUSH_S:
                store.add_metrics(run_id, unsaved)
                unsaved, last_flush = [], time.monotonic()
        status = "stopped" if stop.is_set() else trainer.status if trainer.done else "done"
    except KeyboardInterrupt:
        status = "stopped"
    except Exception:
        status = "error"
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if out:
            out.close()
        store.add_metrics(run_id, unsaved)
        if status == "running":  # left by an exception that is not ours
            status = "error"
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
        summary |= {k: v for k, v in last.items() if k in SUMMARY_KEYS or k.endswith("_test_accuracy")}
        store.finish_run(run_id, status, summary)
    print(json.dumps(summary))
    if status == "diverged":
        print(trainer.message, file=sys.stderr)
        return 3
    return 130 if status == "stopped" else 0


def _stop_on_signals(stop: threading.Event) -> dict:
    """Let SIGTERM (a scheduler's or `kill`'s stop) and Ctrl-C end the run between two steps: stored as stopped.

    A signal only sets `stop`, so it never lands between a finished epoch and its record reaching the store.
    Returns the handlers it replaced (none off the main thread, where signals cannot be set).
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}


def _one_line(e: BaseException) -> str:
    text = str(e) if isinstance(e, (SpecError, StoreError)) else f"{type(e).__name__}: {e}"
    return " ".join(text.split())[:500]


def cmd_export(args) -> int:
    """Write the spec, weights, a standalone script or notebook and/or metrics of a preset, spec file or stored run."""
    run = Store().get_run(args.spec) if not args.spec.endswith(".json") else None
    title = ""
    if run is not None:
        spec, history, trainer = validate(from_dict(run["spec"])), Store().metrics(args.spec), None
        if args.weights:
            raw = Store().load_weights(args.spec)
            if raw is None:
                raise SpecError("--weights", args.spec, "a run with saved weights (this run saved none)")
    else:
        spec, title, page = load_spec(args.spec)
        share_cpu()
        trainer = make_trainer(spec, probes_for(spec, page))
        while trainer.step_count < (args.steps or 0) and not trainer.done:
            trainer.step()
        history = trainer.history
    outputs = {
        args.spec_out: lambda: export.spec_json(spec),
        args.script: lambda: export.script_text(spec),
        args.notebook: lambda: notebook_text(spec, title),
        args.metrics: lambda: export.metrics_csv(history),
        args.weights: lambda: export.weights_bytes(trainer.model, spec) if trainer else raw,
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
    """LR finder on a fresh network of the spec; one JSON line with the curve and suggested_lr."""
    spec, _, _ = load_spec(args.spec)
    spec = validate(apply_each(spec, parse_overrides(args.set or [])))
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
    runs = sub.add_parser("runs", help="list the stored runs, newest first")
    runs.add_argument("--json", action="store_true", help="one JSON object per line")
    runs.add_argument("--limit", type=int, default=1000, help="at most N runs (default 1000)")
    exp = sub.add_parser("export", help="write a spec, weights, a standalone PyTorch script or notebook, or metrics")
    exp.add_argument("spec", help="preset name, spec .json file or stored run id")
    exp.add_argument("--steps", type=int, default=0, help="train N optimiser steps first (0 = untrained)")
    exp.add_argument("--script", help="write a standalone PyTorch training script here")
    exp.add_argument("--notebook", help="write the same as a Jupyter notebook (.ipynb) with a chart of the losses")
    exp.add_argument("--weights", help="write the weights here (safetensors, spec in the metadata)")
    exp.add_argument("--spec", dest="spec_out", help="write the spec JSON here")
    exp.add_argument("--metrics", help="write the epoch records here as CSV")
    lrf = sub.add_parser("lr-find", help="LR finder: loss after a short run at each rate, suggested LR")
    lrf.add_argument("spec", help="preset name or spec .json file")
    lrf.add_argument("--steps", type=int, default=300, help="steps of each rate's short run (10 to 2000)")
    lrf.add_argument("--min-lr", type=float, default=1e-4)
    lrf.add_argument("--max-lr", type=float, default=10.0)
    lrf.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a spec field")
    for p in (run, runs, exp, lrf, *add_parsers(sub)):
        p.__class__ = _Parser
    args = parser.parse_args(argv)
    try:
        if args.cmd == "presets":
            return cmd_presets()
        if args.cmd == "runs":
            return cmd_runs(args)
        if args.cmd == "race":
            return cmd_race(args)
        if args.cmd == "landscape":
            return cmd_landscape(args, load_spec, lambda spec, sets: apply_each(spec, parse_overrides(sets)))
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
        return cmd_run(args)
    except BAD_INPUT as e:
        if args.cmd == "run" and not isinstance(e, SpecError):
            raise  # a failure while training is a bug to see, not bad input
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
