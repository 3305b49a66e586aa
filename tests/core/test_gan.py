"""GAN core: targets, networks, losses on known inputs, one-sided updates, mode coverage, views, presets."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.data.gan_targets import EXTENT, digit_images, make_gan_dataset, mode_centers, mode_std, sample_target
from core.gan import GanTrainer, gradient_penalty, mode_coverage
from core.models.gan import build_gan
from core.probes import GradNormProbe
from core.registry import GAN_LOSSES
from core.spec import Spec, SpecError, validate
from core.trainers import make_trainer
from core.views.gan import d_grid, g_arrows, gan_views

LOSSES = {k: (v.d, v.g) for k, v in GAN_LOSSES.items()}  # name -> (D loss, G loss)


def tiny(name="ring", **kw) -> Spec:
    """A small, fast GAN spec."""
    base = {
        "data.name": name,
        "data.gan_samples": 64,
        "data.batch_size": 16,
        "gan.gen_hidden": (8, 8),
        "gan.disc_hidden": (8, 8),
        "train.epochs": 3,
        "seed": 3,
    }
    return Spec().with_(**(base | kw))


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def grads(module):
    return [None if p.grad is None else p.grad.clone() for p in module.parameters()]


def same_grads(a, b):
    return all(
        (x is None and y is None) or (x is not None and y is not None and torch.equal(x, y)) for x, y in zip(a, b)
    )


# ---------------------------------------------------------------------------- targets


@pytest.mark.parametrize("name", ["ring", "grid", "gaussian"])
def test_mixture_samples_sit_on_their_components(name):
    """Every mixture sample is near a centre, each component gets its share, and the spread is the std."""
    x = sample_target(name, 20000, torch.Generator().manual_seed(0)).numpy()
    centers, std = mode_centers(name), mode_std(name)
    dist = np.linalg.norm(x[:, None] - centers[None], axis=2)
    nearest = dist.argmin(1)
    counts = np.bincount(nearest, minlength=len(centers))
    assert counts.min() > 0.8 * len(x) / len(centers)
    resid = x - centers[nearest]
    assert abs(resid.std() - std) < 0.05 * std
    assert np.abs(x).max() < EXTENT


def test_mixture_centres():
    """Ring: 8 centres at radius 2; grid: 25 centres on -2..2; gaussian: one centre."""
    ring = mode_centers("ring")
    assert ring.shape == (8, 2) and np.allclose(np.linalg.norm(ring, axis=1), 2.0)
    grid = mode_centers("grid")
    assert grid.shape == (25, 2) and set(np.unique(grid)) == {-2, -1, 0, 1, 2}
    assert mode_centers("gaussian").shape == (1, 2)
    assert mode_centers("gan_spiral") is None


def test_curves_have_their_shape():
    """Line points lie near y = x/2; moons split in two halves; spiral radius grows from 0.3 to 2.6."""
    gen = torch.Generator().manual_seed(1)
    line = sample_target("line", 5000, gen).numpy()
    assert np.abs(line[:, 1] - line[:, 0] / 2).mean() < 0.1 and np.abs(line[:, 0]).max() < 2.3
    spiral = sample_target("gan_spiral", 5000, gen).numpy()
    r = np.linalg.norm(spiral, axis=1)
    assert 0.1 < r.min() < 0.5 and 2.4 < r.max() < 2.9
    moons = sample_target("gan_moons", 5000, gen).numpy()
    assert np.abs(moons).max() < EXTENT and 0.4 < (moons[:, 1] > 0).mean() < 0.75


def test_dataset_is_seeded_and_sized():
    """The same seed gives the same real samples; gan_samples sets their number; y is zeros."""
    a, b = make_gan_dataset(tiny()), make_gan_dataset(tiny())
    assert torch.equal(a.x_train, b.x_train) and a.x_train.shape == (64, 2)
    assert not torch.equal(a.x_train, make_gan_dataset(tiny(seed=4)).x_train)
    assert torch.all(a.y_train == 0) and len(a.x_val) == 0


def test_digits_in_range():
    """Digits are (1797, 1, S, S) in [-1, 1] with both ends used; upscaling keeps the range."""
    x = digit_images(8)
    assert x.shape == (1797, 1, 8, 8) and x.min() == -1 and x.max() == 1
    assert digit_images(16).shape == (1797, 1, 16, 16) and digit_images(16).abs().max() <= 1


# ---------------------------------------------------------------------------- networks


@pytest.mark.parametrize(
    "name,arch,shape",
    [("ring", "mlp", (2,)), ("gan_digits", "mlp", (1, 8, 8)), ("gan_digits", "dcgan", (1, 8, 8))],
)
def test_build_gan_shapes(name, arch, shape):
    """G maps noise to a sample of the target's shape (images in [-1, 1]); D gives one score per sample."""
    spec = validate(tiny(name, **{"gan.arch": arch, "gan.noise_dim": 5}))
    G, D = build_gan(spec)
    x = G(torch.randn(4, 5))
    assert x.shape == (4, *shape) and D(x).shape == (4, 1)
    if len(shape) == 3:
        assert x.abs().max() <= 1


def test_dcgan_on_2d_is_an_error():
    """The DCGAN architecture needs an image set: a clear SpecError, not a crash."""
    with pytest.raises(SpecError, match="gan.arch"):
        validate(tiny("ring", **{"gan.arch": "dcgan"}))


# ---------------------------------------------------------------------------- losses


R = torch.tensor([[2.0], [-1.0]])
Fk = torch.tensor([[0.5], [-3.0]])


def test_losses_on_known_inputs():
    """Each loss against its formula computed by hand (or by PyTorch's BCE)."""
    s = torch.sigmoid
    bce = F.binary_cross_entropy(s(R), torch.ones_like(R)) + F.binary_cross_entropy(s(Fk), torch.zeros_like(Fk))
    d, g = LOSSES["minimax"]
    assert torch.allclose(d(R, Fk), bce)
    assert torch.allclose(g(Fk), torch.log(1 - s(Fk)).mean())
    _, g = LOSSES["nonsaturating"]
    assert torch.allclose(g(Fk), -torch.log(s(Fk)).mean())
    d, g = LOSSES["lsgan"]
    assert math.isclose(float(d(R, Fk)), 0.5 * ((1 + 4) / 2) + 0.5 * ((0.25 + 9) / 2))
    assert math.isclose(float(g(Fk)), 0.5 * ((0.25 + 16) / 2))
    d, g = LOSSES["wgan_gp"]
    assert math.isclose(float(d(R, Fk)), (0.5 - 3) / 2 - (2 - 1) / 2)
    assert math.isclose(float(g(Fk)), 1.25)
    d, g = LOSSES["hinge"]
    assert math.isclose(float(d(R, Fk)), (0 + 2) / 2 + (1.5 + 0) / 2)
    assert math.isclose(float(g(Fk)), 1.25)


def test_gradient_penalty_of_a_linear_critic():
    """D(x) = w.x has gradient w everywhere: the penalty is (|w| - 1)^2 (0 for a unit w)."""
    D = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[3.0, 4.0]]))
    real, fake, eps = torch.randn(6, 2), torch.randn(6, 2), torch.rand(6)
    assert math.isclose(float(gradient_penalty(D, real, fake, eps).detach()), 16.0, rel_tol=1e-6)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[0.6, 0.8]]))
    assert float(gradient_penalty(D, real, fake, eps).detach()) < 1e-10


# ---------------------------------------------------------------------------- updates


@pytest.mark.parametrize("loss", list(LOSSES))
def test_d_step_leaves_g_unchanged_and_g_step_leaves_d_unchanged(loss):
    """A D update changes D only (G's weights, BN buffers, grads kept); a G update changes G only."""
    t = make_trainer(tiny(**{"gan.loss": loss, "gan.gen_batchnorm": True, "gan.disc_dropout": 0.2}), [GradNormProbe()])
    assert isinstance(t, GanTrainer)
    t.step()  # every net has gradients now
    g0, d0, gg0 = state(t.G), state(t.D), grads(t.G)
    t.d_step()
    assert same(state(t.G), g0) and same_grads(grads(t.G), gg0)
    assert not same(state(t.D), d0)
    g1, d1, dg1 = state(t.G), state(t.D), grads(t.D)
    t.g_step()
    assert same(state(t.D), d1) and same_grads(grads(t.D), dg1)
    assert not same(state(t.G), g1)


def test_one_step_is_d_steps_d_updates_and_one_g_update():
    """A step with d_steps = 3 runs three D updates and one G update."""
    t = make_trainer(tiny(**{"gan.d_steps": 3}))
    t.step()
    assert (t.d_updates, t.g_updates, t.step_count) == (3, 1, 1)
    t.d_step()
    assert (t.d_updates, t.g_updates, t.step_count) == (4, 1, 1)
    t.g_step()
    assert (t.d_updates, t.g_updates, t.step_count) == (4, 2, 2)


def test_epoch_record_and_grad_norms():
    """An epoch record has the GAN metrics; grad_norm lists G's layers then D's, matching .grad norms."""
    probe = GradNormProbe()
    t = make_trainer(tiny(), [probe])
    rec = t.run_epoch()
    for key in ("loss", "d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "modes_total", "high_quality"):
        assert key in rec, key
    assert rec["loss"] == pytest.approx(rec["g_loss"], rel=1e-5)
    assert rec["modes_total"] == 8 and 0 <= rec["d_real"] <= 1
    assert list(rec["grad_norm"]) == ["G.layer1", "G.layer2", "G.output", "D.layer1", "D.layer2", "D.output"]
    t.step()
    direct = {f"G.{n}": float(m.weight.grad.norm()) for n, m in t.G.named_layers()}
    direct |= {f"D.{n}": float(m.weight.grad.norm()) for n, m in t.D.named_layers()}
    assert probe.last_values == pytest.approx(direct, rel=1e-5)


def test_same_seed_same_curves():
    """The same spec trains to the same losses."""
    a, b = make_trainer(tiny()), make_trainer(tiny())
    ra, rb = a.run_epoch(), b.run_epoch()
    assert ra["d_loss"] == rb["d_loss"] and ra["g_loss"] == rb["g_loss"]


def test_divergence_is_reported():
    """A NaN loss stops training with 'diverged at step N' and keeps the history."""
    t = make_trainer(tiny())
    t.run_epoch()
    with torch.no_grad():
        t.D.output.weight.fill_(math.nan)
    while not t.done:
        t.step()
    assert t.status == "diverged" and t.message.startswith("diverged at step ")
    assert len(t.history) >= 1


# ---------------------------------------------------------------------------- mode coverage


def test_mode_coverage_constructed_sets():
    """All modes, one mode, none, and a share of far-away samples."""
    centers, std = mode_centers("ring"), 0.1
    gen = np.random.default_rng(0)
    every = np.repeat(centers, 50, 0) + gen.normal(0, std / 2, (400, 2))
    cov = mode_coverage(every, centers, std)
    assert cov["modes_covered"] == 8 and cov["high_quality"] == 1.0 and cov["modes_total"] == 8
    one = np.repeat(centers[:1], 400, 0)
    cov = mode_coverage(one, centers, std)
    assert cov["modes_covered"] == 1 and cov["high_quality"] == 1.0 and cov["mode_counts"][0] == 400
    none = np.zeros((400, 2))  # the ring's centre: far from every mode
    cov = mode_coverage(none, centers, std)
    assert cov["modes_covered"] == 0 and cov["high_quality"] == 0.0
    # Half the samples far away, half on 4 modes: 4 covered (50 each >= 1/4 * 400/8 = 12.5), 50 % quality.
    half = np.concatenate([np.repeat(centers[:4], 50, 0), np.zeros((200, 2))])
    cov = mode_coverage(half, centers, std)
    assert cov["modes_covered"] == 4 and cov["high_quality"] == 0.5


def test_mode_coverage_threshold_is_a_quarter_of_the_fair_share():
    """A mode with 12 of 400 samples (fair share 50, threshold 12.5) is not covered; 13 is."""
    centers = mode_centers("ring")
    base = np.repeat(centers[:1], 388, 0)
    assert mode_coverage(np.concatenate([base, np.repeat(centers[1:2], 12, 0)]), centers, 0.1)["modes_covered"] == 1
    base = np.repeat(centers[:1], 387, 0)
    assert mode_coverage(np.concatenate([base, np.repeat(centers[1:2], 13, 0)]), centers, 0.1)["modes_covered"] == 2


# ---------------------------------------------------------------------------- views


def test_heatmap_is_d_on_the_grid():
    """The heatmap equals sigmoid(D(x)) computed directly at every grid point."""
    t = make_trainer(tiny())
    t.run_epoch()
    grid = d_grid(t, n=12)
    gx, gy = np.meshgrid(grid["xs"], grid["ys"])
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1))
    t.D.eval()
    with torch.no_grad():
        direct = torch.sigmoid(t.D(pts))[:, 0].numpy().reshape(12, 12)
    t.D.train()
    assert np.allclose(grid["value"], direct, atol=1e-6) and grid["range"] == (0.0, 1.0)


def test_score_heatmaps_are_centred_where_d_is_undecided():
    """Scores: lsgan centred on 0.5, hinge on 0, the critic on the mean of its real and fake scores."""
    for loss, expect in (("lsgan", 0.5), ("hinge", 0.0), ("wgan_gp", None)):
        t = make_trainer(tiny(**{"gan.loss": loss}))
        grid = d_grid(t, n=8)
        lo, hi = grid["range"]
        if expect is None:
            t.D.eval()
            with torch.no_grad():
                real = t.D(t.data.x_train[:400]).mean()
                fake = t.D(t.generate(t.fixed_z[:400])).mean()
            t.D.train()
            expect = float(real + fake) / 2
        assert grid["mid"] == pytest.approx(expect, abs=1e-5)
        assert (lo + hi) / 2 == pytest.approx(expect, abs=1e-5)
        assert np.abs(grid["value"] - expect).max() == pytest.approx((hi - lo) / 2, rel=1e-5)


def test_arrows_are_minus_the_generator_loss_gradient():
    """Each arrow is -dL_G/dx at its fake sample (non-saturating: -d softplus(-D(x))/dx)."""
    t = make_trainer(tiny())
    z = t.fixed_z[:5]
    arrows = g_arrows(t, z)
    x = t.generate(z).requires_grad_(True)
    t.D.eval()
    (gx,) = torch.autograd.grad(F.softplus(-t.D(x)).sum(), x)
    t.D.train()
    assert np.allclose(arrows["push"], -gx.numpy(), atol=1e-6)
    assert np.allclose(arrows["points"], x.detach().numpy())


def test_views_2d_and_digits():
    """2-D views hold real, fake, grid, arrows and coverage; digits views hold one mosaic image."""
    t = make_trainer(tiny())
    v = gan_views(t)
    assert v["real"].shape[1] == 2 and v["fake"].shape[1] == 2 and v["grid"]["value"].shape == (80, 80)
    assert v["coverage"]["modes_total"] == 8
    d = make_trainer(tiny("gan_digits", **{"gan.arch": "dcgan", "gan.gen_hidden": (16,), "gan.disc_hidden": (16,)}))
    v = gan_views(d)
    assert list(v) == ["mosaic"] and v["mosaic"].dtype == np.uint8 and v["mosaic"].ndim == 2


# ---------------------------------------------------------------------------- presets


def test_gan_presets_load_and_a_preset_runs(tmp_path):
    """The four GAN presets validate; gan-ring runs a few steps through the headless runner."""
    import json
    import subprocess
    import sys

    from core.presets import list_presets

    names = {p.name for p in list_presets("gan")}
    assert {"gan-ring", "gan-mode-collapse", "wgan-gp-ring", "gan-digits"} <= names
    for p in list_presets("gan"):
        validate(p.spec)
    out = tmp_path / "m.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "run", "gan-ring", "--steps", "40", "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "PLAYGROUND_DATA": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["steps"] == 40 and math.isfinite(summary["loss"])
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert recs and "modes_covered" in recs[-1] and "d_real" in recs[-1]
