"""The copy lesson's figures over seeds: when the LSTM of `rnn-vs-lstm-copy` reaches 95 % of the replayed symbols
right, and where the plain RNN (the lesson's side B) stands, in epochs and CPU seconds on one thread.

    python -m bench.bench_copy [--seeds 0-9] [--cells lstm,rnn_tanh] [--preset rnn-vs-lstm-copy] [--set k=v ...]

CPU seconds (time.process_time, torch on one thread) do not grow when other programs share the machine, wall
seconds do: both are printed. Each run trains the preset's epochs through the page's SeqTrainer and probes.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from core.presets import load_preset
from core.probes import default_probes
from core.spec import apply_overrides, parse_overrides, validate
from core.trainers import make_trainer

TARGET = 0.95  # share of the replayed symbols right


def seed_range(text: str) -> list[int]:
    """ "0-9" -> [0, ..., 9]; "0,3,5" -> [0, 3, 5]."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def one_run(spec) -> dict:
    """Train `spec` for its epochs: the first epoch at TARGET (None if never), CPU and wall seconds to it, last accuracy."""
    t = make_trainer(spec, default_probes(), torch.device("cpu"))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    out = {"epoch": None, "cpu": None, "wall": None}
    rec = {}
    while not t.done:
        rec = t.run_epoch() or rec
        if rec and out["epoch"] is None and rec["val_accuracy"] >= TARGET:
            out |= {"epoch": rec["epoch"], "cpu": time.process_time() - cpu0, "wall": time.perf_counter() - wall0}
    return out | {"last": rec["val_accuracy"], "total_cpu": time.process_time() - cpu0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--cells", default="lstm,rnn_tanh")
    ap.add_argument("--preset", default="rnn-vs-lstm-copy")
    ap.add_argument("--set", action="append", default=[], help="k=v overrides, as the runner takes them")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"cpu cores: {os.cpu_count()}, torch {torch.__version__}, one thread, load {os.getloadavg()[0]:.1f}")
    base = validate(apply_overrides(load_preset(args.preset).spec, parse_overrides(args.set)))
    for cell in args.cells.split(","):
        hits = 0
        seeds = seed_range(args.seeds)
        for seed in seeds:
            r = one_run(base.with_(**{"seq.cell": cell, "seed": seed}))
            hits += r["epoch"] is not None
            at = f"epoch {r['epoch']}, {r['cpu']:.1f} s cpu, {r['wall']:.1f} s wall" if r["epoch"] else "never"
            print(
                f"{cell} seed {seed}: {TARGET:.0%} at {at}; after {base.train.epochs} epochs "
                f"{100 * r['last']:.1f} % ({r['total_cpu']:.1f} s cpu)",
                flush=True,
            )
        print(f"{cell}: {hits} of {len(seeds)} seeds reach {TARGET:.0%} within {base.train.epochs} epochs", flush=True)


if __name__ == "__main__":
    main()
