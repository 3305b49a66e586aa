"""Browser test: the CNN page trains live and its feature maps change."""

import pytest

from tests.e2e.conftest import EPOCH, IDLE, SIGNATURE, assert_no_exception, open_page, read_when

pytestmark = pytest.mark.e2e

MAPS = "Feature maps, conv 1"


def test_train_and_feature_maps_change(server, page):
    """Open the digits lesson, press Play: epochs advance, feature maps and filters change, no exception."""
    open_page(page, f"{server}/cnn?preset=cnn-digits")
    maps0 = read_when(page, SIGNATURE, MAPS, timeout=60000)
    filters0 = read_when(page, SIGNATURE, "First-layer filters")
    read_when(page, SIGNATURE, "Feature maps, conv 2")
    read_when(page, SIGNATURE, "Confusion matrix")
    assert read_when(page, EPOCH) == 0
    page.get_by_role("button", name="Play").click()
    read_when(page, EPOCH, ok="v => v >= 3", timeout=90000)
    read_when(page, SIGNATURE, MAPS, ok=f"v => v !== null && v !== {maps0!r}")
    # The lesson's 15 epochs take seconds: let the run finish rather than race a Pause click.
    page.wait_for_selector("text=Training finished 15 epochs", timeout=120000)
    page.wait_for_selector(IDLE, timeout=60000)
    assert read_when(page, EPOCH) == 15
    read_when(page, SIGNATURE, "First-layer filters", ok=f"v => v !== null && v !== {filters0!r}")
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
    page.wait_for_selector(IDLE, timeout=60000)
    read_when(page, SIGNATURE, "Prediction")  # drawn, not read mid-redraw (it once read null here)
    read_when(page, SIGNATURE, MAPS)
    assert_no_exception(page)
