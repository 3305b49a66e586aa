"""The 2-D datasets follow TF Playground's formulas: counts, label rules, noise scaling, split."""

import numpy as np
import pytest

from core.data.dataset import make_dataset, make_points
from core.data.toy import multigauss_label
from core.registry import DATASETS
from core.spec import Spec


def gen(name, n=500, noise=0.0, seed=0, classes=3):
    return DATASETS[name].make(n, noise, np.random.default_rng(seed), classes)


def test_circle_label_rule_and_radii():
    pts, y = gen("circle")
    r = np.hypot(pts[:, 0], pts[:, 1])
    assert len(pts) == 500 and y.sum() == 250
    assert (r[y == 1] < 2.5).all()  # inside half the radius: positive
    assert ((r[y == 0] >= 3.5) & (r[y == 0] <= 5)).all()  # ring from 0.7 to 1 radius: negative


def test_circle_noise_flips_labels_near_the_border():
    pts, y = gen("circle", n=2000, noise=0.5)
    r = np.hypot(pts[:, 0], pts[:, 1])
    # the label is the noisy point's radius: some inner points are labelled negative
    assert 0 < ((r < 2.5) & (y == 0)).sum() < 500


def test_xor_label_is_sign_of_product_and_padding():
    pts, y = gen("xor")
    x1, x2 = pts[:, 0], pts[:, 1]
    assert np.array_equal(y, (x1 * x2 >= 0).astype(int))
    assert (np.abs(pts) >= 0.3).all() and (np.abs(pts) <= 5.3).all()


def test_gauss_variance_scales_from_half_to_four():
    for noise, variance in ((0.0, 0.5), (0.5, 4.0)):
        pts, y = gen("gauss", n=20000, noise=noise)
        pos = pts[y == 1]
        assert np.allclose(pos.mean(0), (2, 2), atol=0.1)
        assert np.allclose(pos.var(0), variance, rtol=0.06)
        assert np.allclose(pts[y == 0].mean(0), (-2, -2), atol=0.1)


def test_spiral_points_lie_on_two_arms_without_noise():
    pts, y = gen("spiral", n=200)
    i = np.arange(100)
    r = i / 100 * 5
    t = 1.75 * i / 100 * 2 * np.pi
    assert np.allclose(pts[:100], np.stack([r * np.sin(t), r * np.cos(t)], 1))
    assert np.allclose(pts[100:], -pts[:100], atol=1e-9)  # second arm turned by pi
    assert y[:100].all() and not y[100:].any()


def test_plane_label_is_sum_over_ten():
    pts, y = gen("plane", n=1200)
    assert np.allclose(y, pts.sum(1) / 10)
    assert (np.abs(pts) <= 6).all()


def test_multigauss_bumps():
    assert multigauss_label(np.array([-4.0]), np.array([2.5]))[0] == 1
    assert multigauss_label(np.array([0.0]), np.array([2.5]))[0] == -1
    assert multigauss_label(np.array([0.0]), np.array([-1.5]))[0] == pytest.approx(0.5)
    _, y = gen("multigauss", n=1200)
    assert y.min() >= -1 and y.max() <= 1


@pytest.mark.parametrize("name,classes", [("blobs", 3), ("spiral_k", 5), ("moons", 2)])
def test_class_sets_have_balanced_labels(name, classes):
    _, y = gen(name, n=300, classes=classes)
    counts = np.bincount(y)
    assert len(counts) == classes and counts.max() - counts.min() <= 1


def test_same_seed_same_points_other_seed_other_points():
    a = make_points("spiral", 500, 10, seed=3)
    b = make_points("spiral", 500, 10, seed=3)
    c = make_points("spiral", 500, 10, seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_split_and_features():
    spec = Spec().with_(**{"data.train_frac": 0.3, "data.features": ("x1", "x2", "x1x2", "sin_x1")})
    d = make_dataset(spec)
    assert len(d.x_train) == 150 and len(d.x_val) == 350
    p = d.points_train
    assert np.allclose(d.x_train[:, 2].numpy(), p[:, 0] * p[:, 1], atol=1e-5)
    assert np.allclose(d.x_train[:, 3].numpy(), np.sin(p[:, 0]), atol=1e-6)


def test_half_mse_uses_plus_minus_one_targets():
    d = make_dataset(Spec().with_(**{"train.loss": "half_mse"}))
    assert set(d.y_train.flatten().tolist()) == {-1.0, 1.0}
