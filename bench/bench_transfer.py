"""The transfer gap: final test accuracy of frozen / fine-tune / scratch against labels per class, over seeds.

    python -m bench.bench_transfer [--seeds 0 1 2] [--labels 1 2 5 10] [--factor 1.0] [--probe]

Trains the transfer-10-labels preset's network exactly as the runner does (TransferCompare), in a fresh
store folder so pretraining is timed too. `--probe` adds a scikit-learn logistic-regression probe on the
body's outputs, pretrained against random initial weights (10 draws of k images per class). Figures are
printed; docs/benchmarks.md ("## Transfer learning page") holds the ones measured so far.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch


def probe(spec, ks: list[int]) -> dict[str, list[float]]:
    """Mean accuracy of a logistic regression on the body's outputs with k labels per class, per body."""
    from sklearn.linear_model import LogisticRegression

    from core.transfer import TransferTrainer, with_mode

    out = {}
    for mode, name in (("frozen", "pretrained"), ("scratch", "random")):
        t = TransferTrainer(with_mode(spec, mode, labels_per_class=0))
        t.model.eval()
        with torch.no_grad():
            f_tr, f_te = t.model.body(t.data.x_train).cpu().numpy(), t.model.body(t.data.x_test).cpu().numpy()
        y_tr, y_te = t.data.y_train.cpu().numpy(), t.data.y_test.cpu().numpy()
        rng, out[name] = np.random.default_rng(0), []
        for k in ks:
            scores = []
            for _ in range(10):
                idx = np.concatenate([rng.choice(np.flatnonzero(y_tr == c), k, replace=False) for c in range(5)])
                scores.append(LogisticRegression(max_iter=2000, C=10).fit(f_tr[idx], y_tr[idx]).score(f_te, y_te))
            out[name].append(float(np.mean(scores)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--labels", type=int, nargs="+", default=[1, 2, 5, 10])
    ap.add_argument("--factor", type=float, default=1.0, help="transfer.body_lr_factor")
    ap.add_argument("--probe", action="store_true")
    args = ap.parse_args()
    os.environ["PLAYGROUND_DATA"] = tempfile.mkdtemp(prefix="bench-transfer-")
    torch.set_num_threads(1)  # as the app gives each run

    from core.presets import load_preset
    from core.transfer import MODES, TransferCompare, load_or_pretrain

    print(f"load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}; body LR factor {args.factor}")
    print("seed  labels  frozen  finetune  scratch  (final test accuracy %)  train s")
    for seed in args.seeds:
        spec = load_preset("transfer-10-labels").spec.with_(seed=seed, **{"transfer.body_lr_factor": args.factor})
        t0 = time.perf_counter()
        load_or_pretrain(spec)
        print(f"seed {seed}: pretraining {time.perf_counter() - t0:.1f} s")
        for k in args.labels:
            t0 = time.perf_counter()
            run = TransferCompare(spec.with_(**{"transfer.labels_per_class": k}))
            while not run.done:
                run.run_epoch()
            acc = [100 * run.history[-1][f"{m}_test_accuracy"] for m in MODES]
            print(
                f"{seed:4d}  {k or 'all':>6}  "
                + "  ".join(f"{a:6.1f}" for a in acc)
                + f"  {time.perf_counter() - t0:6.1f}"
            )
        if args.probe:
            for name, accs in probe(spec, args.labels).items():
                print(
                    f"      probe on the {name} body: "
                    + ", ".join(f"k={k}: {100 * a:.1f} %" for k, a in zip(args.labels, accs))
                )


if __name__ == "__main__":
    main()
