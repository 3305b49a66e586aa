"""AppTest: the Autoencoders page through the app's router (presets, training, VAE, anomaly threshold)."""

import time

from tests.app.conftest import chart_titles, no_exception, open_page


def open_ae(at, preset: str | None = None):
    """Open the page (optionally with ?preset=)."""
    return open_page(at, "pages/autoencoders.py", preset=preset)


def metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def test_page_opens_with_charts(app):
    """The default (2-D code) page shows the loss, reconstructions, latent map and interpolation."""
    at = open_ae(app)
    assert at.title[0].value == "Autoencoders"
    titles = chart_titles(at)
    for t in ("Reconstruction loss", "Latent space (the 2-D code)"):
        assert t in titles, titles
    assert any(t.startswith("Reconstructions:") for t in titles)
    assert any(t.startswith("Interpolation") for t in titles)


def test_step_trains_one_epoch(app):
    at = open_ae(app)
    at.button(key="ae.step").click().run()
    deadline = time.monotonic() + 90  # one epoch on a loaded machine
    while time.monotonic() < deadline:
        time.sleep(0.1)
        at.run()
        if metric(at, "Epoch") == "1":
            break
    no_exception(at)
    assert metric(at, "Epoch") == "1" and metric(at, "Validation recon loss") != "-"


def test_vae_shows_kl_and_sweep_and_pca(app):
    """VAE on with an 8-D code: the KL chart, the decoded latent plane and a PCA-labelled latent map appear."""
    at = open_ae(app)
    at.toggle(key="ae.ae.variational").set_value(True).run()
    at.number_input(key="ae.ae.bottleneck").set_value(8).run()
    no_exception(at)
    titles = chart_titles(at)
    assert any(t.startswith("KL divergence") for t in titles)
    assert any(t.startswith("Decoded latent plane") for t in titles)
    assert any("PCA projection of the 8-D code" in t for t in titles), titles
    assert at.number_input(key="ae.ae.kl_weight").value == 1.0


def test_anomaly_threshold_changes_precision_and_recall(app):
    """On the anomaly preset the histogram and ROC show; moving the threshold changes precision and recall."""
    at = open_ae(app, "ae-anomaly")
    titles = chart_titles(at)
    assert "Reconstruction error: normal vs anomalous" in titles
    assert any(t.startswith("ROC curve (AUC") for t in titles)
    at.slider(key="ae.threshold").set_value(99.0).run()
    high = (metric(at, "Precision"), metric(at, "Recall"), metric(at, "False alarms"))
    at.slider(key="ae.threshold").set_value(60.0).run()
    low = (metric(at, "Precision"), metric(at, "Recall"), metric(at, "False alarms"))
    no_exception(at)
    assert high[1] != low[1] and high[2] != low[2]
    assert low[2] == "40.0%" or low[2].startswith("4")  # about 40 % of normal images lie above the 60th percentile


def test_conv_on_shapes_draws(app):
    """The convolutional autoencoder on the shapes set builds and draws."""
    at = open_ae(app)
    at.selectbox(key="ae.ae.arch").select("conv").run()
    at.selectbox(key="ae.data.name").select("shapes").run()
    no_exception(at)
    assert "Reconstruction loss" in chart_titles(at)
    assert "Latent space (the 2-D code)" in chart_titles(at)


def test_bad_link_is_a_warning_not_a_traceback(app):
    """A link with a code of size 1 is reported and skipped; the page keeps the link's other settings."""
    query = {"model.family": "ae", "data.name": "digits", "data.normalize": "none", "ae.bottleneck": "1"}
    app = open_page(app, "pages/autoencoders.py", **query, **{"ae.variational": "1"})
    assert any("Ignored a bad setting" in w.value and "ae.bottleneck" in w.value for w in app.warning)
    assert app.toggle(key="ae.ae.variational").value is True
