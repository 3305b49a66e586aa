"""The loss landscape around a trained network, computed on a copy (the trainer's model is never touched).

- A 1-D line from the initial weights to the trained ones, theta(a) = (1 - a) theta_0 + a theta*
  (Goodfellow, Vinyals and Saxe 2015): a = 0 is the start, a = 1 the trained network.
- A 2-D slice theta* + a d1 + b d2 (Li et al. 2018). "random": two Gaussian directions, each filter
  (a neuron's incoming weights, one row of a weight matrix) rescaled to the norm of that filter in
  theta*, biases left out (d = 0), as Li et al. do; "pca": the first two principal directions of the
  weights saved during training (`PathRecorder`), the plane the path moved in most.
- The training path projected onto the plane (least squares onto d1, d2).

Losses are the spec's data loss on the full training set, in evaluation mode (dropout off).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from core.engine import Probe, Trainer
from core.probes import default_probes

MAX_PATH = 200  # weight vectors kept from one run (thinned by halves beyond this)
DIRECTIONS = ("random", "pca")
MAX_GRID = 41


class PathRecorder(Probe):
    """Keeps the flattened weights at the start and after epochs (every `stride`-th, at most MAX_PATH)."""

    def __init__(self):
        self.points: list[torch.Tensor] = []
        self.epochs: list[int] = []
        self.stride = 1

    def on_train_start(self, trainer: Trainer) -> None:
        self.points, self.epochs = [parameters_to_vector(trainer.model.parameters()).detach().cpu().clone()], [0]

    def on_epoch_end(self, trainer: Trainer) -> dict:
        if trainer.epoch % self.stride == 0:
            self.points.append(parameters_to_vector(trainer.model.parameters()).detach().cpu().clone())
            self.epochs.append(trainer.epoch)
        if len(self.points) > MAX_PATH:  # keep the start and every other point: the path stays spread over the run
            self.points, self.epochs, self.stride = self.points[::2], self.epochs[::2], self.stride * 2
        return {}


def _loss(model, vec: torch.Tensor, x, y, loss_fn) -> float:
    vector_to_parameters(vec.to(x.device), model.parameters())
    with torch.no_grad():
        return float(loss_fn(model(x), y))


def filter_normalized(model, generator: torch.Generator) -> torch.Tensor:
    """A random direction with each weight row scaled to that row's norm in `model`; biases 0."""
    parts = []
    for p in model.parameters():
        p = p.detach().cpu()
        d = torch.randn(p.shape, generator=generator, dtype=p.dtype)
        if p.ndim < 2:
            d.zero_()
        else:
            rows, drows = p.reshape(p.shape[0], -1), d.reshape(d.shape[0], -1)
            drows.mul_(rows.norm(dim=1, keepdim=True) / drows.norm(dim=1, keepdim=True).clamp_min(1e-12))
        parts.append(d.flatten())
    return torch.cat(parts)


def pca_directions(path: torch.Tensor, centre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """The first two principal directions of the path's offsets from `centre` (unit vectors) and their share of the variance."""
    offsets = (path - centre).double()  # (n, P)
    _, s, vh = torch.linalg.svd(offsets, full_matrices=False)
    var = s**2
    share = (var / var.sum().clamp_min(1e-30)).tolist()
    d = [vh[i] if i < len(vh) else torch.zeros_like(centre, dtype=torch.float64) for i in (0, 1)]
    return d[0].to(centre.dtype), d[1].to(centre.dtype), (share + [0.0, 0.0])[:2]


def project(path: torch.Tensor, centre: torch.Tensor, d1: torch.Tensor, d2: torch.Tensor) -> np.ndarray:
    """Least-squares coordinates (a, b) of each path point theta with theta - centre ~ a d1 + b d2; (n, 2)."""
    basis = torch.stack([d1, d2], 1).double()  # (P, 2)
    coords = torch.linalg.lstsq(basis, (path - centre).double().T).solution  # (2, n)
    return coords.T.numpy()


def _initial(trainer: Trainer, recorder: PathRecorder | None) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """(initial weights, saved path (n, P), epochs): from the recorder, else the seed's initial net and the trained one."""
    trained = parameters_to_vector(trainer.model.parameters()).detach().cpu()
    if recorder is not None and recorder.points:
        path, epochs = list(recorder.points), list(recorder.epochs)
        if epochs[-1] != trainer.epoch:
            path, epochs = path + [trained], epochs + [trainer.epoch]
        return path[0], torch.stack(path), epochs
    fresh = type(trainer)(trainer.spec, [], torch.device("cpu"))  # the same seed builds the same initial weights
    init = parameters_to_vector(fresh.model.parameters()).detach()
    return init, torch.stack([init, trained]), [0, trainer.epoch]


def landscape(
    trainer: Trainer,
    grid: int = 21,
    span: float = 1.0,
    directions: str = "random",
    line_points: int = 41,
    seed: int = 0,
) -> dict:
    """The 1-D line, the 2-D slice (`grid` x `grid`, odd, centre = trained weights) and the projected path."""
    if directions not in DIRECTIONS:
        raise ValueError(f"directions must be one of {', '.join(DIRECTIONS)}, not {directions!r}")
    if not (3 <= grid <= MAX_GRID and grid % 2 == 1):
        raise ValueError(f"the grid must be an odd number from 3 to {MAX_GRID}, not {grid!r}")
    if not 0 < span <= 10:
        raise ValueError(f"the span must be in (0, 10], not {span!r}")
    recorder = next((p for p in trainer.probes if isinstance(p, PathRecorder)), None)
    model = copy.deepcopy(trainer.model).eval()
    centre = parameters_to_vector(model.parameters()).detach().cpu()
    init, path, epochs = _initial(trainer, recorder)
    d = trainer.data
    train, val = (d.x_train, d.y_train), (d.x_val, d.y_val)
    fn = trainer.loss_fn

    alphas = np.linspace(-0.5, 1.5, line_points)  # 41 points: a = 0 and a = 1 on the grid
    line = {"alphas": alphas, "train": [], "val": []}
    for a in alphas:
        vec = (1 - a) * init + a * centre
        line["train"].append(_loss(model, vec, *train, fn))
        if len(val[0]):
            line["val"].append(_loss(model, vec, *val, fn))

    if directions == "random":
        gen = torch.Generator().manual_seed(seed)
        d1, d2 = filter_normalized(model, gen), filter_normalized(model, gen)
        share = None
        coords = project(path, centre, d1, d2)
        xs = ys = np.linspace(-span, span, grid)
    else:
        d1, d2, share = pca_directions(path, centre)
        coords = project(path, centre, d1, d2)
        reach = np.abs(coords).max(0) * 1.25 + 1e-3
        xs, ys = np.linspace(-reach[0], reach[0], grid), np.linspace(-reach[1], reach[1], grid)
    z = np.empty((grid, grid))
    for i, b in enumerate(ys):
        for j, a in enumerate(xs):
            z[i, j] = _loss(model, centre + float(a) * d1 + float(b) * d2, *train, fn)
    return {
        "line": {k: np.asarray(v) for k, v in line.items()},
        "plane": {"xs": xs, "ys": ys, "z": z},
        "path": {"x": coords[:, 0], "y": coords[:, 1], "epochs": epochs},
        "directions": directions,
        "variance_share": share,
        "centre_loss": float(z[grid // 2, grid // 2]),
    } | slice_measures(xs, ys, z)


def slice_measures(xs, ys, z, factor: float = 2.0) -> dict:
    """What a student can read off a slice, all relative to its centre's loss L0 (the trained network's):

    - `basin_radius`: how far from the centre (slice units) the loss stays below `factor` x L0: the
      distance to the nearest grid point at or above it (the slice's half-width if there is none);
    - `below_share`: the share of the slice where the loss is below `factor` x L0;
    - `local_minima`: interior local minima along the two axes through the centre (the 1-D lines along
      d1 and d2): 1 on a convex bowl, more where the surface is chaotic.
    """
    xs, ys, z = np.asarray(xs), np.asarray(ys), np.asarray(z)
    ci, cj = len(ys) // 2, len(xs) // 2
    limit = factor * z[ci, cj]
    gx, gy = np.meshgrid(xs, ys)
    above = z >= limit
    radius = float(np.hypot(gx, gy)[above].min()) if above.any() else float(min(np.abs(xs).max(), np.abs(ys).max()))
    minima = sum(_local_minima(line) for line in (z[ci, :], z[:, cj]))
    return {"basin_radius": radius, "below_share": float((~above).mean()), "local_minima": int(minima)}


def _local_minima(values: np.ndarray) -> int:
    """Interior points strictly below both neighbours."""
    v = np.asarray(values)
    return int(np.sum((v[1:-1] < v[:-2]) & (v[1:-1] < v[2:])))


def path_probes() -> list[Probe]:
    """The default probes and a PathRecorder (the Optimization page's; a module-level function pickles)."""
    return default_probes() + [PathRecorder()]
