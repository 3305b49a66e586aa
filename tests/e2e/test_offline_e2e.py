"""Browser test: the app needs nothing but its own server (a classroom network may be offline or filtered)."""

import pytest

from tests.e2e.conftest import IDLE, STARTS, assert_no_exception, open_page, pause_training, read_when, start_training
from ui.pages import PAGES

pytestmark = pytest.mark.e2e

# JS: the largest epoch the page shows (a metric labelled "... epoch ..." or a progress text "epoch N of M").
EPOCHS = """() => {
  let best = -1;
  for (const m of document.querySelectorAll('[data-testid="stMain"] [data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    if (label && /epoch/i.test(label.innerText))
      best = Math.max(best, parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')));
  }
  for (const p of document.querySelectorAll('[data-testid="stMain"] [data-testid="stProgress"]')) {
    const n = /epoch (\\d+)/i.exec(p.innerText);
    if (n) best = Math.max(best, parseInt(n[1]));
  }
  return best;
}"""


def test_every_page_opens_and_trains_without_leaving_the_server(server, browser):
    """Open Home and every page, train each a few epochs: the browser asks nothing of any other origin."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    try:
        open_page(page, server)
        for info in PAGES:
            open_page(page, f"{server}/{info.name}")
            pressed = start_training(page)
            if pressed == "Pretrain":  # Transfer: pretrain, then train the target task
                read_when(page, f"() => ({STARTS})().includes('Play')", ok="v => v", timeout=180000)
                pressed = start_training(page)
            if pressed:
                read_when(page, EPOCHS, ok="v => v >= 2", timeout=120000)
                pause_training(page)
            page.wait_for_selector(IDLE, timeout=60000)
            assert_no_exception(page)
    finally:
        context.close()
    own = (server + "/", "blob:" + server + "/", "data:")
    assert len(requests) > 10  # the recorder saw the app's own requests
    assert [u for u in requests if not u.startswith(own)] == []
