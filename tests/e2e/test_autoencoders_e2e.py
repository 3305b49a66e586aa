"""Browser test: the Autoencoders page trains live; the anomaly threshold moves precision and recall."""

import pytest

from tests.e2e.conftest import IDLE, POINTS_OF, assert_no_exception, open_page

pytestmark = pytest.mark.e2e

# A hash of the first live (non-stale) chart whose title starts with `prefix`, or null.
SIGNATURE = """(prefix) => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const raw = el.layout && el.layout.title && el.layout.title.text;
    const t = raw && raw.replace(/<[^>]+>/g, '');
    if (t && t.startsWith(prefix) && el.closest('[data-stale="true"]') === null && el.data && el.data.length) {
      const s = JSON.stringify(el.data.map(d => d.source || d.x || ''));
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
      return String(h);
    }
  }
  return null;
}"""

# The shown value of the metric labelled `label`, or null.
METRIC = """(label) => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
    .find(e => e.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === label);
  return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null;
}"""


def test_play_changes_reconstructions_and_latent_map(server, page):
    """Open the 2-D lesson, press Play: the loss curve grows, reconstructions and the latent map change."""
    open_page(page, f"{server}/autoencoders?preset=ae-latent-2d")
    page.wait_for_function(f"({SIGNATURE})('Reconstructions') !== null", timeout=60000)
    recon0 = page.evaluate(SIGNATURE, "Reconstructions")
    latent0 = page.evaluate(SIGNATURE, "Latent space")
    assert page.evaluate(POINTS_OF, "Reconstruction loss") == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Reconstruction loss') >= 3", timeout=90000)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector(IDLE, timeout=30000)
    page.wait_for_function(f"({SIGNATURE})('Reconstructions') !== null", timeout=30000)
    assert page.evaluate(SIGNATURE, "Reconstructions") != recon0
    assert page.evaluate(SIGNATURE, "Latent space") != latent0
    assert_no_exception(page)


def test_threshold_slider_changes_precision_and_recall(server, page):
    """On the anomaly lesson, train to the end, then move the threshold: recall and false alarms change."""
    open_page(page, f"{server}/autoencoders?preset=ae-anomaly")
    page.get_by_role("button", name="Play").click()
    # The lesson's 60 epochs take seconds: let the run finish rather than race a Pause click.
    page.wait_for_selector("text=Training finished 60 epochs", timeout=120000)
    page.wait_for_selector(IDLE, timeout=60000)
    page.wait_for_function(f"({METRIC})('Recall') !== null", timeout=30000)
    page.wait_for_function(f"({SIGNATURE})('ROC curve') !== null", timeout=30000)  # drawn after the final rerun
    before = (page.evaluate(METRIC, "Recall"), page.evaluate(METRIC, "False alarms"))
    slider = page.get_by_role("slider", name="Threshold", exact=False)
    slider.focus()
    for _ in range(40):  # 40 steps of 0.5 percentile: from the 95th down to the 75th
        slider.press("ArrowLeft")
    page.wait_for_function(
        f"({METRIC})('False alarms') !== null && ({METRIC})('False alarms') !== {before[1]!r}", timeout=30000
    )
    after = (page.evaluate(METRIC, "Recall"), page.evaluate(METRIC, "False alarms"))
    assert after[1] != before[1]
    assert float(after[0].rstrip("%")) >= float(before[0].rstrip("%"))  # a lower threshold catches at least as many
    assert_no_exception(page)
