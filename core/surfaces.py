"""Classic 2-D test surfaces for racing optimisers: f(p) of a 2-parameter tensor, with its minimum.

Each entry holds the function (PyTorch ops, so autograd gives the gradient), the start point its
lessons use, the plotting window, and the minimum value (every minimum of Himmelblau is 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Surface:
    label: str
    f: Callable[[torch.Tensor], torch.Tensor]  # p (2,) -> scalar
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    f_min: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    help: str = ""


def ravine(p):
    """0.5 (x^2 + 50 y^2): curvature 50 times larger across the valley than along it."""
    return 0.5 * (p[0] ** 2 + 50.0 * p[1] ** 2)


def rosenbrock(p):
    """(1 - x)^2 + 100 (y - x^2)^2: a curved, flat-bottomed valley."""
    return (1 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


def beale(p):
    """Beale's function: flat plateaus and sharp ridges."""
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def saddle(p):
    """x^2 + y^4/4 - y^2/2: a saddle at the origin between two minima at (0, +-1)."""
    return p[0] ** 2 + 0.25 * p[1] ** 4 - 0.5 * p[1] ** 2


def himmelblau(p):
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima, all of value 0."""
    return (p[0] ** 2 + p[1] - 11) ** 2 + (p[0] + p[1] ** 2 - 7) ** 2


SURFACES = {
    "ravine": Surface(
        "Ravine (ill-conditioned quadratic)",
        ravine,
        (-9.0, 1.5),
        ((0.0, 0.0),),
        0.0,
        (-10.0, 10.0),
        (-2.5, 2.5),
        "0.5 (x² + 50 y²): steep walls, a gentle floor (condition number 50)",
    ),
    "rosenbrock": Surface(
        "Rosenbrock",
        rosenbrock,
        (-1.5, 2.0),
        ((1.0, 1.0),),
        0.0,
        (-2.0, 2.0),
        (-1.0, 3.0),
        "(1 - x)² + 100 (y - x²)²: a banana-shaped valley with a flat floor",
    ),
    "beale": Surface(
        "Beale",
        beale,
        (1.0, 1.4),
        ((3.0, 0.5),),
        0.0,
        (-4.5, 4.5),
        (-4.5, 4.5),
        "plateaus and steep ridges; minimum at (3, 0.5)",
    ),
    "saddle": Surface(
        "Saddle",
        saddle,
        (-2.0, 0.001),
        ((0.0, 1.0), (0.0, -1.0)),
        -0.25,
        (-2.5, 2.5),
        (-1.8, 1.8),
        "x² + y⁴/4 - y²/2: flat at the saddle (0, 0); minima at (0, ±1)",
    ),
    "himmelblau": Surface(
        "Himmelblau",
        himmelblau,
        (0.0, 0.0),
        ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)),
        0.0,
        (-5.0, 5.0),
        (-5.0, 5.0),
        "(x² + y - 11)² + (x + y² - 7)²: four minima of value 0",
    ),
}


def surface_grid(name: str, k: int = 121) -> dict:
    """The surface's values on a k x k grid over its window: xs (k,), ys (k,), z (k, k) with z[i, j] = f(xs[j], ys[i])."""
    s = SURFACES[name]
    xs = torch.linspace(*s.x_range, k, dtype=torch.float64)
    ys = torch.linspace(*s.y_range, k, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    z = s.f(torch.stack([gx, gy]))
    return {"xs": xs.numpy(), "ys": ys.numpy(), "z": z.numpy()}
