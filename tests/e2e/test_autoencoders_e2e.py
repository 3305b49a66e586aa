"""Browser test: the Autoencoders page trains live; the anomaly threshold moves precision and recall."""

import pytest

from tests.e2e.conftest import IDLE, POINTS_OF, SIGNATURE, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e

# JS: the text of the metric labelled exactly `label`, or null.
METRIC = """(label) => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
    .find(e => e.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === label);
  return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null;
}"""


def test_play_changes_reconstructions_and_latent_map(server, page):
    """Open the 2-D lesson, press Play: the loss curve grows, reconstructions and the latent map change."""
    open_page(page, f"{server}/autoencoders?preset=ae-latent-2d")
    recon0 = read_when(page, SIGNATURE, "Reconstructions", timeout=60000)
    latent0 = read_when(page, SIGNATURE, "Latent space")
    assert read_when(page, POINTS_OF, "Reconstruction loss") == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Reconstruction loss') >= 3", timeout=90000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=30000)
    read_when(page, SIGNATURE, "Reconstructions", ok=f"v => v !== null && v !== {recon0!r}")
    read_when(page, SIGNATURE, "Latent space", ok=f"v => v !== null && v !== {latent0!r}")
    assert_no_exception(page)


def test_threshold_slider_changes_precision_and_recall(server, page):
    """On the anomaly lesson, train to the end, then move the threshold: recall and false alarms change."""
    open_page(page, f"{server}/autoencoders?preset=ae-anomaly")
    page.get_by_role("button", name="Play").click()
    # The lesson's 60 epochs take seconds: let the run finish rather than race a Pause click.
    page.wait_for_selector("text=Training finished 60 epochs", timeout=120000)
    page.wait_for_selector(IDLE, timeout=60000)
    read_when(page, SIGNATURE, "ROC curve")  # drawn after the final rerun
    both = f"() => [({METRIC})('Recall'), ({METRIC})('False alarms')]"  # read in one step: from the same run
    before = read_when(page, both, ok="v => v[0] !== null && v[1] !== null")
    slider = page.get_by_role("slider", name="Threshold", exact=False)
    slider.focus()
    for _ in range(40):  # 40 steps of 0.5 percentile: from the 95th down to the 75th
        slider.press("ArrowLeft")
    after = read_when(page, both, ok=f"v => v[0] !== null && v[1] !== null && v[1] !== {before[1]!r}")
    assert float(after[0].rstrip("%")) >= float(before[0].rstrip("%"))  # a lower threshold catches at least as many
    assert_no_exception(page)
