"""Autoencoders: model shapes and parameter counts, the KL term, AUC against scikit-learn, determinism,
the anomaly split, divergence, views and presets."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import precision_score, recall_score, roc_auc_score

from core.anomaly import corrupt_images, noise_images, precision_recall, roc_auc, roc_curve
from core.autoencoder import AeTrainer, kl_divergence, pixel_errors, recon_loss
from core.charts import ae as charts
from core.models import count_params
from core.models.autoencoder import build_autoencoder
from core.probes import GradNormProbe
from core.spec import Spec, SpecError, from_dict, to_dict, validate
from core.trainers import make_trainer
from core.views.ae import STEPS, SWEEP, ae_views, pca_2d


def tiny(**kw) -> Spec:
    """A small, fast autoencoder on 300 digits."""
    base = {
        "model.family": "ae",
        "data.name": "digits",
        "data.n": 300,
        "data.normalize": "none",
        "data.batch_size": 32,
        "ae.hidden": (16,),
        "train.optimizer": "adam",
        "train.lr": 0.01,
        "train.epochs": 3,
        "seed": 1,
    }
    return Spec().with_(**(base | kw))


# ---------------------------------------------------------------------------- models


@pytest.mark.parametrize("arch", ["dense", "conv"])
@pytest.mark.parametrize("variational", [False, True])
@pytest.mark.parametrize("size,hidden,channels", [(8, (), (4,)), (13, (32, 16), (8, 16, 32)), (28, (64,), (4, 8))])
def test_shapes_and_parameter_counts_match_pytorch(arch, variational, size, hidden, channels):
    """The output has the input's shape, the code has `bottleneck` units, and the arithmetic count is PyTorch's."""
    spec = tiny(
        **{
            "data.name": "shapes",
            "data.image_size": size,
            "ae.arch": arch,
            "ae.variational": variational,
            "ae.hidden": hidden,
            "ae.channels": channels,
            "ae.bottleneck": 5,
        }
    )
    model = build_autoencoder(spec)
    x = torch.rand(3, 1, size, size)
    logits, z, mu, logvar = model(x, torch.randn(3, 5))
    assert logits.shape == x.shape and z.shape == (3, 5) and mu.shape == (3, 5)
    assert (logvar is not None) == variational
    assert count_params(spec) == sum(p.numel() for p in model.parameters())
    names = [n for n, _ in model.named_layers()]
    assert names[-1] == "output" and "code" in names and ("logvar" in names) == variational


def test_dense_parameter_count_by_hand():
    """64 -> 16 -> 2 -> 16 -> 64: (64*16+16) + (16*2+2) + (2*16+16) + (16*64+64) = 2,210."""
    assert count_params(tiny(**{"ae.hidden": (16,), "ae.bottleneck": 2})) == 2210
    # a VAE adds the log-variance head: 16*2 + 2
    assert count_params(tiny(**{"ae.hidden": (16,), "ae.bottleneck": 2, "ae.variational": True})) == 2210 + 34


def test_vae_uses_the_reparameterisation():
    """z = mu + exp(logvar/2) * eps, and the gradient reaches the encoder through the sample."""
    model = build_autoencoder(tiny(**{"ae.variational": True}))
    x, eps = torch.rand(4, 1, 8, 8), torch.randn(4, 2)
    _, z, mu, logvar = model(x, eps)
    assert torch.allclose(z, mu + torch.exp(0.5 * logvar) * eps)
    z.sum().backward()
    assert model.logvar.weight.grad.abs().sum() > 0
    _, z0, mu0, _ = model(x)  # no eps: the mean
    assert torch.equal(z0, mu0)


# ---------------------------------------------------------------------------- losses


def test_kl_matches_the_closed_form_and_torch_distributions():
    """KL(N(mu, s^2) || N(0, 1)) = 0.5 (mu^2 + s^2 - 1 - log s^2) per unit, summed, batch mean."""
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 3), torch.randn(6, 3)
    hand = (
        sum(
            0.5 * (m**2 + math.exp(lv) - 1 - lv)
            for row_m, row_v in zip(mu.tolist(), logvar.tolist())
            for m, lv in zip(row_m, row_v)
        )
        / 6
    )
    assert kl_divergence(mu, logvar).item() == pytest.approx(hand, rel=1e-5)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    oracle = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert kl_divergence(mu, logvar).item() == pytest.approx(oracle.item(), rel=1e-5)
    assert kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0.0  # q = prior


def test_total_loss_is_the_negative_elbo_per_pixel():
    """With bce and weight 1 the loss is (summed bce + KL) / pixels, batch mean."""
    trainer = make_trainer(tiny(**{"ae.variational": True}))
    x = trainer.data.x_train[:8]
    logits, _, mu, logvar = trainer.model(x, torch.randn(8, 2))
    total, recon, kl = trainer.losses(logits, x, mu, logvar)
    bce_sum = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 8
    assert total.item() == pytest.approx(((bce_sum + kl) / 64).item(), rel=1e-5)
    assert recon_loss("mse", logits, x).item() == pytest.approx(((torch.sigmoid(logits) - x) ** 2).mean().item())


# ---------------------------------------------------------------------------- anomaly scoring


def test_auc_and_roc_equal_scikit_learn():
    """Our AUC and ROC points equal scikit-learn's on the same scores, ties included."""
    from sklearn.metrics import roc_curve as sk_roc

    rng = np.random.default_rng(0)
    for _ in range(50):
        normal = rng.normal(0, 1, rng.integers(1, 40)).round(rng.integers(0, 3))
        anomalous = rng.normal(rng.uniform(-1, 2), 1, rng.integers(1, 40)).round(rng.integers(0, 3))
        y, s = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))], np.r_[normal, anomalous]
        assert roc_auc(normal, anomalous) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        fpr, tpr, _ = roc_curve(normal, anomalous)
        sk_fpr, sk_tpr, _ = sk_roc(y, s, drop_intermediate=False)
        assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)
    assert roc_auc(np.array([0.1, 0.2]), np.array([0.3, 0.4])) == 1.0
    assert roc_auc(np.array([0.5]), np.array([0.5])) == 0.5  # a tie counts one half
    assert math.isnan(roc_auc(np.array([]), np.array([1.0])))


def test_trainer_auc_equals_scikit_learn_on_its_own_scores():
    """The epoch record's auc is scikit-learn's roc_auc_score of the trainer's reconstruction errors."""
    trainer = make_trainer(tiny(**{"ae.normal_classes": (0, 1)}))
    rec = trainer.run_epoch()
    s = trainer.anomaly_scores()
    y = np.r_[np.zeros(len(s["normal"])), np.ones(len(s["anomalous"]))]
    assert rec["auc"] == pytest.approx(roc_auc_score(y, np.r_[s["normal"], s["anomalous"]]), abs=1e-12)
    noise = s["kind"] == "noise"
    assert rec["auc_noise"] == pytest.approx(
        roc_auc_score(
            np.r_[np.zeros(len(s["normal"])), np.ones(noise.sum())], np.r_[s["normal"], s["anomalous"][noise]]
        )
    )
    # the scores are each image's mean squared pixel error, measured again here with the model
    x = trainer.anomaly["normal"][:5]
    trainer.model.eval()
    with torch.no_grad():
        again = ((torch.sigmoid(trainer.model(x)[0]) - x) ** 2).mean((1, 2, 3)).numpy()
    assert np.allclose(s["normal"][:5], again, atol=1e-6)


def test_precision_and_recall_equal_scikit_learn():
    rng = np.random.default_rng(1)
    normal, anomalous = rng.normal(0, 1, 30), rng.normal(1, 1, 20)
    y, s = np.r_[np.zeros(30), np.ones(20)], np.r_[normal, anomalous]
    for t in (-1.0, 0.3, 0.9, 2.0):
        pr = precision_recall(normal, anomalous, t)
        assert pr["precision"] == pytest.approx(precision_score(y, s >= t))
        assert pr["recall"] == pytest.approx(recall_score(y, s >= t))
        assert pr["false_alarms"] == pytest.approx(np.mean(normal >= t))
    assert math.isnan(precision_recall(normal, anomalous, 99.0)["precision"])  # nothing flagged


def test_anomaly_split_never_trains_on_anomalous_classes():
    """Training and validation hold only the normal classes; 'other' anomalies are exactly the rest of the test set."""
    trainer = make_trainer(tiny(**{"ae.normal_classes": (3, 7), "data.val_frac": 0.5}))
    ex = trainer.data.extra
    assert set(ex["labels_train"]) == {3, 7} and set(ex["labels_val"]) <= {3, 7}
    assert len(trainer.data.x_train) == len(ex["labels_train"]) == trainer.n_train
    # every batch the trainer draws comes from the filtered set
    seen = torch.cat([trainer._next_batch()[1] for _ in range(trainer.steps_per_epoch)])
    assert set(seen.tolist()) <= {3, 7}
    kinds = trainer.anomaly["kind"]
    labels_test = ex["labels_test"]
    assert (kinds == "other").sum() == (~np.isin(labels_test, [3, 7])).sum()
    assert len(trainer.anomaly["normal"]) == np.isin(labels_test, [3, 7]).sum()


def test_noise_and_corrupted_images():
    gen = torch.Generator().manual_seed(0)
    noise = noise_images(5, 8, gen)
    assert noise.shape == (5, 1, 8, 8) and 0 <= noise.min() and noise.max() <= 1
    clean = torch.zeros(4, 1, 8, 8)
    bad = corrupt_images(clean, gen)
    assert torch.equal(clean, torch.zeros(4, 1, 8, 8))  # copies, not in place
    assert ((bad == 1).flatten(1).sum(1) == 9).all()  # a 3 x 3 square (40 % of 8, rounded) at full brightness
    assert pixel_errors(bad, clean).tolist() == pytest.approx([9 / 64] * 4)


# ---------------------------------------------------------------------------- training


def test_training_lowers_the_reconstruction_loss():
    trainer = make_trainer(tiny(**{"train.epochs": 8}))
    hist = [trainer.run_epoch() for _ in range(8)]
    assert hist[-1]["val_recon"] < 0.85 * hist[0]["val_recon"]
    assert {"recon_loss", "train_loss", "val_loss", "train_recon", "val_recon", "auc"} <= hist[-1].keys()


def test_same_seed_same_curves():
    """Same spec, same seed: identical records (denoising noise and VAE samples included); another seed differs."""
    spec = tiny(**{"ae.variational": True, "ae.noise": 0.3, "ae.normal_classes": (1, 2)})
    a = [make_trainer(spec).run_epoch() for _ in range(1)][0]
    t = make_trainer(spec)
    b = t.run_epoch()
    assert a == b
    c = make_trainer(spec.with_(seed=2)).run_epoch()
    assert c["loss"] != a["loss"]


def test_denoising_feeds_noisy_inputs_and_clean_targets():
    trainer = make_trainer(tiny(**{"ae.noise": 0.5}))
    x = trainer.data.x_train[:16]
    noisy = trainer._inputs(x)
    assert not torch.equal(noisy, x) and noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy - x).std() > 0.2


def test_denoising_is_evaluated_on_fixed_noisy_inputs():
    """val_noisy_mse is the noisy inputs' error against the clean images, the same draw every epoch."""
    trainer = make_trainer(tiny(**{"ae.noise": 0.5, "train.epochs": 4}))
    a, b = trainer.run_epoch(), trainer.run_epoch()
    x = trainer.data.x_val
    noisy = (x + 0.5 * trainer._eval_noise["val"]).clamp(0, 1)
    assert a["val_noisy_mse"] == b["val_noisy_mse"] == pytest.approx(float(((noisy - x) ** 2).mean()), rel=1e-5)
    assert b["val_denoised_mse"] < b["val_noisy_mse"]
    clean = make_trainer(tiny()).run_epoch()
    assert "val_noisy_mse" not in clean


def test_every_chart_labels_both_axes():
    """Every autoencoder chart with axes labels both; image charts carry a title."""
    trainer = make_trainer(tiny(**{"ae.variational": True, "ae.bottleneck": 3, "ae.normal_classes": (0, 1)}))
    trainer.run_epoch()
    v, hist = ae_views(trainer), trainer.history
    names = [str(i) for i in range(10)]
    for fig in (
        charts.ae_loss_figure(hist, "bce"),
        charts.kl_figure(hist, 1.0),
        charts.auc_figure(hist, ["other", "noise", "corrupt"]),
        charts.latent_figure(v["latent"], names),
        charts.error_histogram_figure(v["scores"], 0.05),
        charts.roc_figure(v["roc"], (0.1, 0.5)),
    ):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text, fig.layout.title.text
    assert "PCA projection of the 3-D code" in charts.latent_figure(v["latent"], names).layout.title.text
    for fig in (
        charts.reconstruction_figure(v["examples"], False),
        charts.interpolation_figure(v["interp"], v["examples"][0], 3, 1),
        charts.sweep_figure(v["sweep"]),
    ):
        assert fig.layout.title.text and fig.data[0].source.startswith("data:image/png")


def test_divergence_stops_with_a_message_and_keeps_history():
    """Momentum SGD at LR 10 on a linear autoencoder blows up: training stops with 'diverged at step N' and
    the first epoch's record stays."""
    spec = tiny(**{"train.optimizer": "momentum", "train.lr": 10.0, "ae.activation": "linear", "train.epochs": 20})
    trainer = make_trainer(spec, [GradNormProbe()])
    while not trainer.done:
        trainer.run_epoch()
    assert trainer.status == "diverged" and trainer.message.startswith("diverged at step")
    assert trainer.epoch < 20 and trainer.history[0]["epoch"] == 1 and math.isfinite(trainer.history[0]["loss"])


def test_an_overflowing_vae_sample_stops_training():
    """A log-variance so large that the sampled code is inf stops at the next step; earlier epochs stay."""
    trainer = make_trainer(tiny(**{"ae.variational": True}))
    trainer.run_epoch()
    with torch.no_grad():
        trainer.model.logvar.bias.fill_(1e4)
    trainer.run_epoch()
    assert trainer.done and trainer.status == "diverged" and trainer.message.startswith("diverged at step")
    assert trainer.history[0]["epoch"] == 1 and math.isfinite(trainer.history[0]["loss"])


def test_a_class_without_images_is_a_spec_error():
    with pytest.raises(SpecError, match="ae.normal_classes"):
        validate(tiny(**{"ae.normal_classes": (10,)}))
    with pytest.raises(SpecError, match="data.normalize"):
        validate(tiny(**{"data.normalize": "standard"}))
    with pytest.raises(SpecError, match="data.name"):
        validate(tiny(**{"data.name": "circle"}))
    with pytest.raises(SpecError, match="ae.bottleneck"):
        validate(tiny(**{"ae.bottleneck": 1}))


def test_spec_round_trip():
    spec = tiny(**{"ae.normal_classes": (0, 4), "ae.anomalies": ("noise",), "ae.variational": True})
    assert from_dict(to_dict(spec)) == spec
    assert isinstance(make_trainer(spec), AeTrainer)


# ---------------------------------------------------------------------------- views


def test_views_shapes_and_pca():
    trainer = make_trainer(tiny(**{"ae.bottleneck": 6, "ae.variational": True, "ae.noise": 0.2}))
    trainer.run_epoch()
    v = ae_views(trainer)
    k = len(v["example_classes"])
    assert v["examples"].shape == (3, k, 8, 8)  # original, noisy, reconstruction
    assert v["latent"]["pca"] and v["latent"]["points"].shape[1] == 2 and 0 < v["latent"]["explained"] <= 1
    assert v["interp"]["images"].shape == (k * (k - 1) // 2, STEPS, 8, 8)
    assert v["sweep"]["images"].shape == (SWEEP * SWEEP, 8, 8)
    assert v["roc"]["auc"] == pytest.approx(trainer.history[-1]["auc"])


def test_interpolation_ends_are_the_reconstructions():
    trainer = make_trainer(tiny())
    v = ae_views(trainer)
    recon = v["examples"][-1]
    assert np.allclose(v["interp"]["images"][0, 0], recon[0], atol=1e-5)
    assert np.allclose(v["interp"]["images"][0, -1], recon[1], atol=1e-5)


def test_pca_matches_scikit_learn():
    from sklearn.decomposition import PCA

    codes = np.random.default_rng(0).normal(size=(50, 5)) * [3, 2, 1, 0.5, 0.1]
    pts, explained = pca_2d(codes)
    sk = PCA(2).fit(codes)
    assert explained == pytest.approx(sk.explained_variance_ratio_.sum())
    ref = sk.transform(codes)
    for i in range(2):  # equal up to each component's sign
        assert np.allclose(np.abs(pts[:, i]), np.abs(ref[:, i]), atol=1e-4)


def test_presets_validate_and_build():
    from core.presets import list_presets

    names = {p.name for p in list_presets("autoencoders")}
    assert names == {"ae-latent-2d", "denoising-ae", "vae-digits", "ae-anomaly"}
    for p in list_presets("autoencoders"):
        assert isinstance(make_trainer(validate(p.spec)), AeTrainer)


def test_runner_records_for_ae_anomaly_carry_auc(capsys, tmp_path):
    """`python -m core run ae-anomaly`: every record and the summary carry the ROC AUC."""
    import json

    from core.__main__ import main

    out = tmp_path / "m.jsonl"
    assert main(["run", "ae-anomaly", "--steps", "16", "--out", str(out), "--quiet"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and all(0.0 <= r["auc"] <= 1.0 for r in records)
    assert {"auc_other", "auc_noise", "auc_corrupt"} <= records[-1].keys()
    summary = json.loads(capsys.readouterr().out)
    assert summary["auc"] == records[-1]["auc"]
