"""Redraw cost of the Playground's network diagram: view arrays, figure, JSON bytes, per network size.

python -m bench.bench_network
"""

from __future__ import annotations

import os
import time

import torch

from core.charts.network import network_figure
from core.charts.plane import decision_figure
from core.presets import load_preset
from core.trainers import make_trainer
from core.views.mlp import decision_grid, network_view


def _ms(fn, repeat: int = 20) -> tuple[float, object]:
    fn()
    t0 = time.thread_time()
    for _ in range(repeat):
        out = fn()
    return 1000 * (time.thread_time() - t0) / repeat, out


def main() -> None:
    torch.set_num_threads(1)
    print(f"load average {os.getloadavg()[0]:.1f}; CPU ms per redraw (thread time)")
    print(f"{'network':>16}  {'grid':>6}  {'net view':>8}  {'net figure':>10}  {'net JSON':>9}  {'surface fig':>11}")
    for hidden in ((4, 2), (8, 8, 8), (8,) * 6):
        spec = load_preset("tfp-default").spec.with_(**{"model.hidden": list(hidden)})
        t = make_trainer(spec)
        t.run_epoch()
        grid_ms, grid = _ms(lambda t=t: decision_grid(t))
        view_ms, view = _ms(lambda t=t: network_view(t, n=40))
        fig_ms, fig = _ms(lambda view=view: network_figure(view))
        data = t.data
        train = (data.points_train, data.extra["labels_train"])
        surf_ms, _ = _ms(lambda: decision_figure(grid, train, None, data.task, data.n_classes))
        kb = len(fig.to_json()) / 1024
        name = " x ".join(map(str, hidden))
        print(f"{name:>16}  {grid_ms:6.1f}  {view_ms:8.1f}  {fig_ms:10.1f}  {kb:7.0f} KB  {surf_ms:11.1f}")


if __name__ == "__main__":
    main()
