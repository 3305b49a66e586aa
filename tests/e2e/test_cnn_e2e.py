"""Browser test: the CNN page trains live and its feature maps change."""

import pytest

from tests.e2e.conftest import EPOCH, IDLE, assert_no_exception, open_page

pytestmark = pytest.mark.e2e

# A signature of the first live (non-stale) chart whose title starts with `prefix`, or null.
SIGNATURE = """(prefix) => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const raw = el.layout && el.layout.title && el.layout.title.text;
    const t = raw && raw.replace(/<[^>]+>/g, '');
    if (t && t.startsWith(prefix) && el.closest('[data-stale="true"]') === null && el.data && el.data.length) {
      const s = JSON.stringify(el.data[0].z || el.data[0].y || el.data[0].source || '');
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
      return String(h);
    }
  }
  return null;
}"""

MAPS = "Feature maps, conv 1"


def test_train_and_feature_maps_change(server, page):
    """Open the digits lesson, press Play: epochs advance, feature maps and filters change, no exception."""
    open_page(page, f"{server}/cnn?preset=cnn-digits")
    page.wait_for_function(f"({SIGNATURE})('{MAPS}') !== null", timeout=60000)
    maps0 = page.evaluate(SIGNATURE, MAPS)
    filters0 = page.evaluate(SIGNATURE, "First-layer filters")
    assert page.evaluate(SIGNATURE, "Feature maps, conv 2") is not None
    assert page.evaluate(SIGNATURE, "Confusion matrix") is not None
    assert page.evaluate(EPOCH) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({EPOCH})() >= 3", timeout=90000)
    page.wait_for_function(f"({SIGNATURE})('{MAPS}') !== '{maps0}'", timeout=30000)
    # The lesson's 15 epochs take seconds: let the run finish rather than race a Pause click.
    page.wait_for_selector("text=Training finished 15 epochs", timeout=120000)
    page.wait_for_selector(IDLE, timeout=60000)
    assert page.evaluate(EPOCH) == 15
    assert page.evaluate(SIGNATURE, "First-layer filters") != filters0
    assert_no_exception(page)


def test_invalid_stack_is_refused_with_the_layer_named(server, page):
    """A kernel larger than its input shows an error naming the layer, not a traceback."""
    open_page(page, f"{server}/cnn?preset=cnn-digits")
    kernel = page.get_by_label("Kernel").first
    kernel.fill("15")
    kernel.press("Enter")
    page.wait_for_selector("text=model.layers[0].kernel", timeout=30000)
    assert_no_exception(page)


def test_upload_an_image(server, page, tmp_path):
    """Upload a PNG: the page converts it and shows the prediction and feature maps of that picture."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(img).ellipse([25, 15, 95, 105], outline="black", width=12)  # a hand-drawn zero
    path = tmp_path / "zero.png"
    img.save(path)
    open_page(page, f"{server}/cnn?preset=cnn-digits")
    page.get_by_text("Upload", exact=True).click()
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached", timeout=30000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    # An upload has no true class: its chart is titled just "Input" (a test image's says "Input (true class: 5)").
    exact_input = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(el =>
        el.layout && el.layout.title && el.layout.title.text.replace(/<[^>]+>/g, '') === 'Input')"""
    page.wait_for_function(exact_input, timeout=60000)
    assert page.evaluate(SIGNATURE, "Prediction") is not None
    page.wait_for_selector(IDLE, timeout=60000)
    assert page.evaluate(SIGNATURE, MAPS) is not None
    assert_no_exception(page)
