"""Li et al. (2018) on a deep MLP: the loss surface around the minimum with and without residual links.

    python -m bench.bench_landscape [--depth 24] [--width 16] [--seeds 10] [--epochs 300] [--grid 41]
                                    [--span 0.5] [--target 0.01] [--jobs 2] [--set k=v ...]

For each seed, the same deep ReLU MLP is trained twice, without and with residual links (same data,
same batch order), each until its training loss is at most 0.01 (a comparable minimum). Each gets
the initialisation that lets it train: He for the plain net (it keeps the signal's scale through 24
ReLU layers), N(0, 0.1^2) for the residual one (He there doubles the signal at every skip and it
never trains; the plain net never leaves chance from N(0, 0.1^2)). Then `core.landscape.landscape`
maps a 2-D slice through the trained weights along two random filter-normalised directions (drawn
with the seed). Printed per run: the centre loss, how far from the centre the loss stays below twice
the centre's (`basin_radius`, slice units), the share of the slice below it, and the local minima
along the two axes through the centre (`slice_measures`). The last lines say on how many seeds the
residual net's basin is wider and its axes have fewer local minima, and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from core.landscape import PathRecorder, landscape
from core.spec import Spec, apply_overrides, parse_overrides, validate
from core.trainers import make_trainer

BASE = {
    "data.name": "spiral",
    "data.n": 500,
    "data.noise": 0.0,
    "data.train_frac": 0.7,
    "data.batch_size": 32,
    "model.activation": ("relu",),
    "model.init": "he",
    "model.batchnorm": False,
    "train.loss": "bce",
    "train.optimizer": "adam",
    "train.lr": 0.001,
}
RESIDUAL = {"model.residual": True, "model.init": "normal", "model.init_scale": 0.1}


def measure(spec: Spec, grid: int, span: float, target: float) -> dict:
    """Train until the training loss is at most `target` (or the epochs run out), then measure the slice."""
    trainer = make_trainer(spec, [PathRecorder()])
    while not trainer.done:
        trainer.run_epoch()
        if trainer.history[-1].get("train_loss", 1.0) <= target:
            break
    if trainer.status == "diverged":
        return {"diverged": True}
    r = landscape(trainer, grid=grid, span=span, directions="random", seed=spec.seed)
    keys = ("centre_loss", "basin_radius", "below_share", "local_minima")
    return {k: r[k] for k in keys} | {"diverged": False, "epochs": trainer.epoch}


def pair(base: Spec, seed: int, args) -> list[dict]:
    """(plain, residual) measures for one seed."""
    torch.set_num_threads(1)
    return [
        measure(validate(base.with_(seed=seed, **arm)), args.grid, args.span, args.target) for arm in ({}, RESIDUAL)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=24)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=300, help="at most")
    ap.add_argument("--target", type=float, default=0.01, help="train until the training loss is at most this")
    ap.add_argument("--grid", type=int, default=41)
    ap.add_argument("--span", type=float, default=0.5)
    ap.add_argument("--jobs", type=int, default=2, help="seeds measured at once (one process each)")
    ap.add_argument("--set", action="append", default=[], help="more spec fields, e.g. model.init=xavier")
    args = ap.parse_args()
    base = Spec().with_(**BASE | {"model.hidden": (args.width,) * args.depth, "train.epochs": args.epochs})
    base = apply_overrides(base, parse_overrides(args.set))
    print(
        f"{args.depth} x {args.width} ReLU MLP trained to loss {args.target:g} (at most {args.epochs} epochs), "
        f"{args.grid}x{args.grid} slice, span {args.span}"
    )
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(pair, [base] * args.seeds, range(args.seeds), [args] * args.seeds))
    for seed, measured in enumerate(rows):
        for name, m in zip(("plain", "residual"), measured):
            if m["diverged"]:
                print(f"seed {seed} {name:8s} diverged")
                continue
            print(
                f"seed {seed} {name:8s} epochs {m['epochs']:3d}  centre loss {m['centre_loss']:.4f}  radius(<2x) {m['basin_radius']:.2f}  "
                f"share(<2x) {m['below_share']:.2f}  local minima on the axes {m['local_minima']}"
            )
    print(f"({time.perf_counter() - t0:.0f} s wall)")
    ok = [(p, r) for p, r in rows if not p["diverged"] and not r["diverged"]]
    wider = sum(r["basin_radius"] > p["basin_radius"] + 1e-9 for p, r in ok)
    fewer = sum(r["local_minima"] < p["local_minima"] for p, r in ok)
    print(f"residual basin wider on {wider} of {len(ok)} seeds; fewer local minima on {fewer} of {len(ok)}")
    for key in ("epochs", "centre_loss", "basin_radius", "below_share", "local_minima"):
        med = [statistics.median(two[i][key] for two in ok) for i in (0, 1)] if ok else [float("nan")] * 2
        print(f"median {key}: plain {med[0]:.3g}, residual {med[1]:.3g}")


if __name__ == "__main__":
    main()
