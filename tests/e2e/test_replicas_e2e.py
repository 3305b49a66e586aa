"""Browser test: two replicas behind nginx (deploy/nginx.conf) on one PostgreSQL store, then one of them dies."""

import re
import time

import numpy as np
import pytest

from core.store import Store
from tests.e2e.conftest import EPOCH, IDLE, assert_no_exception, open_page, pause_training, set_number
from tests.e2e.deployment import COOKIE, deployment

pytestmark = pytest.mark.e2e
PRETRAINED = re.compile(r"^Pretrained on .+ for \d+ epochs: source test accuracy")  # the caption over step 2


def csv_text(n: int = 60) -> str:
    """A separable table: three numbers and a label."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3))
    rows = "".join(f"{a:.4f},{b:.4f},{c:.4f},{'a' if a + b + c > 0 else 'b'}\n" for a, b, c in x)
    return "f0,f1,f2,kind\n" + rows


def on_replica(browser, dep, i: int):
    """A new browser (its own cookies) that the balancer keeps on replica i, and one tab in it."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": dep.key_for(i), "url": dep.url}])
    return context, context.new_page()


def wait_for_run(store: Store, status: str, timeout: float = 60.0, **where) -> dict:
    """The run with `status` (and the given fields) once the store holds it."""
    end = time.time() + timeout
    while time.time() < end:
        found = [
            r for r in store.list_runs(limit=100) if r["status"] == status and all(r[k] == v for k, v in where.items())
        ]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"no {status} run {where} in {[(r['source'], r['status']) for r in store.list_runs()]}")


def pick_run(page, run_id: str) -> str:
    """On the Runs page, open a run in the Manage tab; returns its detail line (page · status · epochs · ... · id)."""
    page.get_by_role("tab", name="Manage").click()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Run").click()
    page.get_by_role("option").filter(has_text=f"({run_id[:6]})").first.click()
    page.get_by_role("button", name="Continue training from its weights").wait_for(timeout=60000)
    detail = page.locator('[data-testid="stCaptionContainer"]').filter(has_text=re.compile(f" · id {run_id}$"))
    detail.wait_for(timeout=60000)
    return detail.inner_text()


@pytest.fixture(scope="module")
def dep():
    """PostgreSQL, two replicas and nginx, for this module."""
    with deployment(replicas=2) as d:
        yield d


def test_two_replicas_share_runs_tables_and_weights_and_one_survives_the_other(dep, browser, tmp_path):
    """Train on replica A through nginx; replica B lists the run and opens its shared link with the CSV table and
    the pretrained weights; kill A: its page reconnects to B and finds the run interrupted, ready to continue."""
    store = Store(dep.database)
    a_url, b_url = dep.replicas[0][1], dep.replicas[1][1]
    ctx_a, page_a = on_replica(browser, dep, 0)
    ctx_b, page_b = on_replica(browser, dep, 1)
    try:
        # Replica A: upload a CSV on the Playground, train three epochs, pause (the weights are saved).
        resp = page_a.goto(f"{dep.url}/playground?preset=tfp-default")
        assert resp.headers["x-playground-replica"] in a_url
        page_a.wait_for_selector(IDLE, timeout=60000)
        page_a.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").click()
        page_a.get_by_role("option", name="Your own data (CSV)").click()
        csv = tmp_path / "mine.csv"
        csv.write_text(csv_text())
        page_a.locator('input[type="file"]').set_input_files(str(csv))
        page_a.get_by_text("60 rows").first.wait_for(timeout=60000)
        set_number(page_a, "Epochs", 100000)  # still training when Pause is pressed, however fast this machine
        page_a.get_by_role("button", name="Play").click()
        page_a.wait_for_function(f"({EPOCH})() >= 3", timeout=120000)
        pause_training(page_a)
        run = wait_for_run(store, "paused", source="playground")
        assert run["spec"]["data"]["name"] == "table"
        assert store.load_weights(run["id"]) is not None
        shared_link = re.sub(r"[?&]run=[^&]*", "", page_a.url)

        # Replica A pretrains the transfer body (one epoch).
        transfer = f"{dep.url}/transfer?preset=transfer-10-labels&transfer.pretrain_epochs=1"
        page_a2 = ctx_a.new_page()
        open_page(page_a2, transfer)
        page_a2.get_by_role("button", name="Pretrain", exact=True).click()
        page_a2.get_by_text(PRETRAINED).wait_for(timeout=180000)
        page_a2.close()

        # Replica B (a second browser): the run is in Runs; the shared link opens with its table; the
        # transfer page starts from the weights A pretrained.
        resp = page_b.goto(f"{dep.url}/runs")
        assert resp.headers["x-playground-replica"] in b_url
        page_b.wait_for_selector(IDLE, timeout=60000)
        assert " · paused · " in pick_run(page_b, run["id"])
        open_page(page_b, shared_link)
        page_b.get_by_text("60 rows").first.wait_for(timeout=60000)
        assert page_b.get_by_text("no uploaded table").count() == 0
        assert_no_exception(page_b)
        open_page(page_b, transfer)
        page_b.get_by_text(PRETRAINED).wait_for(timeout=60000)
        assert page_b.get_by_role("button", name="Pretrain", exact=True).count() == 0

        # Kill replica A. B keeps serving; A's page reconnects (to B) and shows its table again.
        dep.kill(0)
        assert dep.served_by(dep.key_for(1)) == b_url
        page_a.get_by_text("60 rows").first.wait_for(timeout=120000)
        page_a.wait_for_selector(IDLE, timeout=120000)
        page_a.goto(f"{dep.url}/runs")
        page_a.wait_for_selector(IDLE, timeout=60000)
        assert " · interrupted · " in pick_run(page_a, run["id"])
        assert store.get_run(run["id"])["status"] == "interrupted"
        page_a.get_by_role("button", name="Continue training from its weights").click()
        page_a.wait_for_url(re.compile(r"/playground\?.*run="), timeout=60000)
        page_a.get_by_text("60 rows").first.wait_for(timeout=60000)
        page_a.wait_for_selector(IDLE, timeout=60000)
        page_a.get_by_role("button", name="Play").click()
        page_a.wait_for_function(f"({EPOCH})() >= 1", timeout=120000)
        continued = wait_for_run(store, "running", source="playground")
        assert continued["title"].endswith("(continued)") and continued["pid"] != run["pid"]
        assert_no_exception(page_a)
    finally:
        ctx_a.close()
        ctx_b.close()
        store.close()
