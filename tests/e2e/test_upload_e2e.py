"""Browser test: your own CSV on the Playground: upload, pick the label, Play, the projection; a bad file."""

import numpy as np
import pytest

from tests.e2e.conftest import (
    EPOCH,
    IDLE,
    POINTS_OF,
    assert_no_exception,
    open_page,
    pause_training,
    read_settled,
    read_when,
)

pytestmark = pytest.mark.e2e

# JS: the value shown on the "Epochs per redraw" slider.
SPEED = """() => (Array.from(document.querySelectorAll('[data-testid="stSlider"]'))
  .map(e => e.innerText.split('\\n').filter(Boolean)).find(t => t[0] === 'Epochs per redraw') || [])[1]"""


def write_csv(path, n: int = 120) -> None:
    """Label first, then three number columns; the label is which side of a plane a row lies on."""
    x = np.random.default_rng(0).normal(size=(n, 3))
    kind = np.where(x @ [1.0, -1.0, 0.5] > 0, "yes", "no")
    rows = "".join(f"{k}," + ",".join(f"{v:.4f}" for v in r) + "\n" for k, r in zip(kind, x))
    path.write_text("kind,width,height,depth\n" + rows)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label`."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_selector(IDLE, timeout=60000)


def test_upload_pick_the_label_play_and_see_the_projection(server, page, tmp_path):
    """Upload a CSV, pick its label column, press Play: training runs and the projection charts are drawn;
    then a file that is not UTF-8 shows its message and the trained network stays."""
    good = tmp_path / "rows.csv"
    write_csv(good)
    open_page(page, f"{server}/playground?preset=tfp-default")
    choose(page, "Dataset", "Your own data (CSV)")
    page.wait_for_selector("text=Upload a CSV file", timeout=30000)
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(str(good))
    page.wait_for_selector("text=120 rows", timeout=30000)
    page.wait_for_selector(IDLE, timeout=60000)
    choose(page, "Label or target column", "kind")  # the last column (a number) was picked by default
    page.wait_for_selector("text=2 classes", timeout=30000)
    assert read_when(page, SPEED) == "full speed"  # the controls came back with the speed the page had
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({POINTS_OF})('Loss') >= 5", timeout=60000)
    page.wait_for_function(f"({POINTS_OF})('Your data: kind') > 0", timeout=60000)
    page.wait_for_function(f"({POINTS_OF})('The network\\'s prediction') > 0", timeout=60000)
    pause_training(page)
    page.wait_for_selector(IDLE, timeout=60000)
    epoch = read_settled(page, EPOCH)  # after the redraw that follows Pause
    assert epoch >= 5
    assert "data.table=" in page.url and "data.target=kind" in page.url
    bad = tmp_path / "latin.csv"
    bad.write_bytes("kind,größe\nja,1\n".encode("latin-1"))
    upload.set_input_files(str(bad))
    page.wait_for_selector("text=not a UTF-8 text file", timeout=30000)
    page.wait_for_selector(IDLE, timeout=60000)
    assert read_when(page, EPOCH) == epoch  # the trained network is still shown, not rebuilt
    assert read_when(page, POINTS_OF, "Your data: kind") > 0
    assert_no_exception(page)
