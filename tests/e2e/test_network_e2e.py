"""Browser test: the Playground's network diagram changes while training; a weight edit changes the surface."""

import pytest

from tests.e2e.conftest import IDLE, assert_no_exception, open_page, read_settled, read_when, rerun_done

pytestmark = pytest.mark.e2e

# JS: a fingerprint of the chart titled `title`: its images (the diagram's neuron tiles) or its heatmap values.
PRINT_OF = """(title) => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const t = el.layout && el.layout.title && el.layout.title.text;
    if (!t || !t.startsWith(title) || el.closest('[data-stale="true"]') !== null) continue;
    const imgs = (el.layout.images || []).map(i => i.source.length + ':' + i.source.slice(-40)).join('|');
    const z = el.data && el.data[0] && el.data[0].z;  // plain rows, or base64 {dtype, bdata, shape}
    const zs = !z ? '' : (z.bdata ? z.bdata : JSON.stringify(Array.from(z, r => Array.from(r))));
    return imgs + '#' + (el.layout.images || []).length + '#' + zs.length + ':' + zs.slice(0, 2000);
  }
  return '';
}"""


def test_diagram_changes_while_training_and_a_weight_edit_changes_the_surface(server, page):
    """Play: the neuron tiles change; Pause, set a first-layer weight: the decision surface changes."""
    open_page(page, f"{server}/playground?preset=tfp-default")
    before = read_when(page, PRINT_OF, "Network", ok="v => v.length > 0", timeout=60000)
    assert before.split("#")[1] == str(2 + 4 + 2 + 1)  # x1, x2 inputs; 4 and 2 hidden neurons; one output
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({PRINT_OF})('Network') !== {before!r}", timeout=60000)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector(IDLE, timeout=30000)
    surface = read_settled(page, PRINT_OF, "Decision surface", ok="v => v.length > 0")  # after Pause's redraw
    page.get_by_text("Edit a weight", exact=True).click()
    weight = page.get_by_label("weight (now", exact=False)
    weight.fill("9")
    rerun_done(page, lambda: weight.press("Enter"))
    page.get_by_role("button", name="Set", exact=True).click()
    read_when(page, PRINT_OF, "Decision surface", ok=f"v => v.length > 0 && v !== {surface!r}")
    assert_no_exception(page)


def test_lr_finder_suggests_a_rate(server, page):
    """The LR finder draws its curve and offers its suggestion as one click."""
    open_page(page, f"{server}/playground?preset=tfp-default")
    page.get_by_text("Learning-rate finder", exact=True).click()
    page.get_by_role("button", name="Run the LR finder").click()
    page.wait_for_function(f"({PRINT_OF})('Learning-rate finder').length > 0", timeout=60000)
    page.get_by_role("button", name="Use learning rate").click()
    page.wait_for_selector(IDLE, timeout=30000)
    assert_no_exception(page)
