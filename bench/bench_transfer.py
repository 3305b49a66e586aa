"""The transfer gap: final test accuracy of frozen / fine-tune / scratch against labels per class, over seeds.

    python -m bench.bench_transfer [--preset transfer-glyphs] [--seeds 0 1 2] [--labels 10 0] [--factor 1.0] [--probe]

Trains a transfer preset's network exactly as the runner does (TransferCompare), in a fresh store folder
so pretraining is timed too (wall and CPU seconds: the wall time depends on what else the machine runs).
Then it checks the glyph lesson's claims on every seed: at 10 labels per class the frozen body is at least
10 points ahead of scratch, and with every label fine-tuning is at least as good as the frozen body. `--probe` adds a scikit-learn logistic-regression probe on the
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
                idx = np.concatenate([rng.choice(np.flatnonzero(y_tr == c), k, replace=False) for c in np.unique(y_tr)])
                scores.append(LogisticRegression(max_iter=2000, C=10).fit(f_tr[idx], y_tr[idx]).score(f_te, y_te))
            out[name].append(float(np.mean(scores)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="transfer-glyphs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--labels", type=int, nargs="+", default=[10, 0], help="labels per class; 0 = all")
    ap.add_argument("--factor", type=float, default=1.0, help="transfer.body_lr_factor")
    ap.add_argument("--probe", action="store_true")
    args = ap.parse_args()
    os.environ["PLAYGROUND_DATA"] = tempfile.mkdtemp(prefix="bench-transfer-")
    torch.set_num_threads(1)  # as the app gives each run

    from core.presets import load_preset
    from core.transfer import MODES, TransferCompare, load_or_pretrain, load_pretrained

    print(f"load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}; body LR factor {args.factor}")
    print("seed  labels  frozen  finetune  scratch  (final test accuracy %)  train s")
    failed = []
    for seed in args.seeds:
        spec = load_preset(args.preset).spec.with_(seed=seed, **{"transfer.body_lr_factor": args.factor})
        t0, c0 = time.perf_counter(), time.process_time()
        load_or_pretrain(spec)
        source = float(load_pretrained(spec)[1]["source_test_accuracy"])
        print(
            f"seed {seed}: pretraining {time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} CPU s; "
            f"source test accuracy {100 * source:.1f} %"
        )
        for k in args.labels:
            t0 = time.perf_counter()
            run = TransferCompare(spec.with_(**{"transfer.labels_per_class": k}))
            while not run.done:
                run.run_epoch()
            acc = [100 * run.history[-1][f"{m}_test_accuracy"] for m in MODES]
            if k == 10 and acc[0] - acc[2] < 10:
                failed.append(
                    f"seed {seed}, 10 labels: frozen {acc[0]:.1f} % is not 10 points above scratch {acc[2]:.1f} %"
                )
            if k == 0 and acc[1] < acc[0]:
                failed.append(f"seed {seed}, all labels: fine-tune {acc[1]:.1f} % is below frozen {acc[0]:.1f} %")
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
    print("\n".join(failed) if failed else "the claims hold on every seed measured")


if __name__ == "__main__":
    main()
