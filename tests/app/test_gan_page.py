"""AppTest: the GAN page through the app's router (presets, slow motion, training, bad settings)."""

import time

from tests.app.conftest import chart_titles, no_exception, open_page


def open_gan(at, preset: str | None = None):
    """Open the page (optionally with ?preset=)."""
    return open_page(at, "pages/gan.py", preset=preset)


def test_gan_page_shows_plane_and_curves(app):
    """The page opens on the ring GAN with the plane, the loss and D-output charts, and no exception."""
    at = open_gan(app)
    assert at.title[0].value == "GAN"
    titles = chart_titles(at)
    for t in ("Real and generated samples", "Losses", "D(real) and D(fake)", "Mode coverage"):
        assert t in titles, titles
    assert any(b.label == "D step" for b in at.button) and any(b.label == "G step" for b in at.button)


def test_slow_motion_steps_count(app):
    """D step leaves the step counter; G step advances it by one."""
    at = open_gan(app)
    step = next(m for m in at.metric if m.label == "Step")
    assert step.value == "0"
    at.button(key="gan.d_step").click().run()
    no_exception(at)
    assert next(m for m in at.metric if m.label == "Step").value == "0"
    at.button(key="gan.g_step").click().run()
    no_exception(at)
    assert next(m for m in at.metric if m.label == "Step").value == "1"


def test_step_trains_one_epoch(app):
    """The Step button trains one epoch: the epoch counter and the loss history move."""
    at = open_gan(app)
    at.button(key="gan.step").click().run()
    for _ in range(50):  # the job trains in its thread; AppTest needs another run to see it
        time.sleep(0.1)
        at.run()
        if next(m for m in at.metric if m.label == "Epoch").value == "1":
            break
    no_exception(at)
    assert next(m for m in at.metric if m.label == "Epoch").value == "1"
    assert next(m for m in at.metric if m.label == "D loss").value != "-"


def test_digits_preset_shows_sample_grid(app):
    """?preset=gan-digits shows the fixed-noise sample grid (one image) and the DCGAN controls."""
    at = open_gan(app, "gan-digits")
    assert "Generated digits (fixed noise)" in chart_titles(at)
    assert at.selectbox(key="gan.gan.arch").value == "dcgan"


def test_bad_link_is_a_warning_not_a_traceback(app):
    """A link with an unknown loss is reported as a warning and the page still trains the default GAN."""
    app = open_page(app, "pages/gan.py", **{"gan.loss": "bogus", "data.name": "grid"})
    assert any("Ignored a bad setting" in w.value for w in app.warning)
    assert app.selectbox(key="gan.data.name").value == "grid"


def test_every_target_and_architecture_draws(app):
    """Each target distribution (and the MLP digits GAN) builds and draws without an exception."""
    at = open_gan(app)
    for name in ("grid", "gan_spiral", "gan_moons", "line", "gaussian", "gan_digits"):
        at.selectbox(key="gan.data.name").select(name).run()
        no_exception(at)
        titles = chart_titles(at)
        assert ("Generated digits (fixed noise)" if name == "gan_digits" else "Real and generated samples") in titles
        assert ("Mode coverage" in titles) == (name in ("grid", "gaussian")), (name, titles)
    at.selectbox(key="gan.gan.arch").select("mlp").run()
    no_exception(at)
    assert "Generated digits (fixed noise)" in chart_titles(at)
