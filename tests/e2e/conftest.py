"""Browser fixtures: a real `streamlit run` on 127.0.0.1 and Playwright driving Debian's Chromium."""

import contextlib
import json
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e import server as server_process

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


_free_port = server_process.free_port
stop_streamlit = server_process.stop


def start_streamlit(env: dict | None = None, port: int | None = None):
    """A `streamlit run app.py` on 127.0.0.1 (its own empty data folder unless `env` names one) and its base URL,
    once it answers."""
    return server_process.start(env=env, port=port)


@contextlib.contextmanager
def streamlit_server(env: dict | None = None):
    """Base URL of a streamlit server on 127.0.0.1 with its own empty run store unless `env` names a data folder
    (stopped on exit)."""
    try:
        proc, url = server_process.start(env=env)
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield url
    finally:
        server_process.stop(proc)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Base URL of a streamlit server started for this test session (stopped at the end). Its store holds the
    Transfer page's default pretrained weights: the pages' tests train it without pretraining it each time (its
    own test pretrains a lesson of its own)."""
    data = server_process.pretrained_data(tmp_path_factory.getbasetemp().parent)
    with streamlit_server(env={"PLAYGROUND_DATA": str(data)}) as url:
        yield url


@pytest.fixture(scope="module")
def fresh_server():
    """A server of its own for one test module: its run store holds only what the module trains."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium through Playwright (playwright cannot download a browser here)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# JS: what a student sees, for a failed test's report: the address, every number field's label and value (a
# field's text is not in innerText), and the page's text.
SEEN = """() => {
  const fields = Array.from(document.querySelectorAll('[data-testid="stNumberInput"]')).map(el => {
    const label = el.querySelector('label'), input = el.querySelector('input');
    return (label ? label.innerText : '?') + ' = ' + (input ? input.value : '?');
  });
  return [location.href, document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state'),
          fields.join('; '), document.body.innerText].join('\\n');
}"""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test's report says what its page showed when it failed (a CI log keeps no screenshot)."""
    outcome = yield
    report = outcome.get_result()
    pg = getattr(item, "funcargs", {}).get("page")
    if report.when != "call" or not report.failed or pg is None:
        return
    try:
        seen = pg.evaluate(SEEN)
    except Exception as e:  # the page itself may be gone
        seen = f"(the page could not be read: {e})"
    report.sections.append(("what the page showed", seen[:4000]))


@pytest.fixture
def page(browser):
    """A fresh wide browser tab."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def open_page(page, url: str) -> None:
    """Go to url and wait until the app has rendered and its script is idle."""
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"]', timeout=60000)
    page.wait_for_selector(IDLE, timeout=60000)
    # Idle is not done: a fresh server's first link runs twice (ui/frame.py `require_router`), idle for some 15 ms
    # between them, and a test acting then acts on a page the second run is still drawing.
    for _ in range(3):
        page.evaluate(WATCH_RUN)
        page.wait_for_timeout(150)
        if page.evaluate(f"() => !window.__ran && document.querySelector('{IDLE}') !== null"):
            return
        page.wait_for_selector(IDLE, timeout=60000)


# JS: note in window.__ran whether the script runs from now on (a rerun may start and end between two polls).
WATCH_RUN = """() => {
  window.__ran = false;
  const running = () => document.querySelector('[data-testid="stApp"][data-test-script-state="running"]') !== null;
  if (window.__watch) window.__watch.disconnect();
  // The whole document is watched: an app element drawn anew (a page switch) would leave an observer on it blind.
  window.__watch = new MutationObserver(records => {
    if (records.some(r => r.oldValue === 'running') || running()) window.__ran = true;
  });
  window.__watch.observe(document.documentElement, {subtree: true, attributes: true, attributeOldValue: true,
    attributeFilter: ['data-test-script-state']});
}"""


def rerun_done(page, action, timeout=60000) -> None:
    """Do `action()` (a click, a key) and wait until the rerun it starts has finished.

    Waiting for the idle script alone right after a click can pass before the rerun has even started.
    """
    page.evaluate(WATCH_RUN)
    action()
    page.wait_for_function(f"() => window.__ran && document.querySelector('{IDLE}') !== null", timeout=timeout)


def read_when(page, fn: str, arg=None, ok: str = "v => v !== null && v !== undefined && v !== -1", timeout=30000):
    """The value of the JS function `fn(arg)` once `ok(value)` holds, checked and read in one step.

    A chart or metric read once right after a rerun or a click may be mid-redraw (faded, emptied, or not yet
    drawn); this waits for the value instead, and returns the very value that passed the check.
    """
    check = f"(arg) => {{ const v = ({fn})(arg); return ({ok})(v) ? {{v}} : null; }}"
    return page.wait_for_function(check, arg=arg, timeout=timeout).json_value()["v"]


def read_settled(page, fn: str, arg=None, ok: str = "v => v !== null && v !== undefined && v !== -1", ms=1000):
    """`read_when`'s value once it has stayed the same for `ms` milliseconds (a run's last redraw is over)."""
    value = read_when(page, fn, arg, ok)
    while True:
        page.wait_for_timeout(ms)
        again = read_when(page, fn, arg, ok)
        if again == value:
            return value
        value = again


def assert_no_exception(page) -> None:
    """Fail with the text of any Streamlit exception box on the page."""
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()[:500]


# JS: the first Plotly chart titled `title` (tags stripped) that is drawn and not being redrawn (a stale chart
# is faded while its page reruns); undefined when there is none.
CHART = """(title) => Array.from(document.querySelectorAll('.js-plotly-plot')).find(el => {
  const t = el.layout && el.layout.title && el.layout.title.text;
  return t && t.replace(/<[^>]+>/g, '') === title && el.closest('[data-stale="true"]') === null;
})"""
# JS: the number of x values of the first trace of the chart titled `title`; -1 if none.
POINTS_OF = f"""(title) => {{
  const el = ({CHART})(title);
  if (!el) return -1;
  return (el.data && el.data.length && el.data[0].x) ? el.data[0].x.length : 0;
}}"""

# JS: the number shown by the first metric whose label starts with `label` (-1 if none, or while it is redrawn).
METRIC = """(label) => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
    .find(e => e.innerText.startsWith(label) && e.closest('[data-stale="true"]') === null);
  return m ? parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')) : -1;
}"""
EPOCH = f"() => ({METRIC})('Epoch')"  # JS: the page's epoch counter

# JS: a hash of the first live (non-stale) chart whose title starts with `prefix`: its images, heatmap values or
# x values, so it changes when the picture does; null while no such chart is drawn.
SIGNATURE = """(prefix) => {
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const raw = el.layout && el.layout.title && el.layout.title.text;
    const t = raw && raw.replace(/<[^>]+>/g, '');
    if (t && t.startsWith(prefix) && el.closest('[data-stale="true"]') === null && el.data && el.data.length) {
      const s = JSON.stringify(el.data.map(d => d.z || d.y || d.source || d.x || ''));
      let h = 0;
      for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
      return String(h);
    }
  }
  return null;
}"""

START = ("Play", "Pause", "Pretrain")  # the buttons that start or pause a page's training (Transfer: Pretrain first)
# JS: the labels of the buttons that start or pause training in the main area (drawn, not stale).
STARTS = f"""() => Array.from(document.querySelectorAll('[data-testid="stMain"] button'))
  .filter(b => b.closest('[data-stale="true"]') === null)
  .map(b => (b.querySelector('[data-testid="stMarkdownContainer"]') || b).innerText.trim()).filter(t => {json.dumps(list(START))}.includes(t))"""

# JS: from now on, note in window.__clicks what each click landed on (its button's text, else the element's tag).
CLICKS = """() => {
  if (!window.__clicks) {
    window.__clicks = [];
    document.addEventListener('click', e => {
      const b = e.target.closest('button');
      window.__clicks.push(b ? b.innerText.trim() : e.target.tagName);
    }, true);
  }
  window.__clicks.length = 0;
}"""


def missed(page, label: str, seconds: int) -> None:
    """Warn (the run's warnings summary lists it) that a click on `label` was not acted on, with where it landed:
    a click that landed elsewhere is the browser's (the page moved), one on the button is the server's."""
    with contextlib.suppress(Exception):  # the page may be mid-redraw: the warning is a clue, not a check
        landed = page.evaluate("() => window.__clicks")
        state = page.evaluate("() => document.querySelector('[data-testid=\"stApp\"]').dataset.testScriptState")
        warnings.warn(
            f"{label} not acted on in {seconds} s at {page.url}: the click landed on {landed}; script {state}; "
            f"the server's last rerun requests and runs:\n{server_process.trace_tail(page.url)}",
            stacklevel=2,
        )


def start_training(page) -> str | None:
    """Press the page's Play (or Pretrain) and wait until it trains; returns the button pressed, or None.

    A click not acted on in 20 s is pressed again, as a student would, at most three times, and named in the
    run's warnings with the server's rerun trace. Found that way: a click sent as a rerun of the live view
    alone (fixed: `ui.st_internals.guard_rerun_requests`); with Streamlit's fast reruns, a run ending beside the
    click's run cleared its click (seen once; turning fast reruns off left the browser waiting on a run).
    """
    labels = page.evaluate(STARTS)
    for label in ("Play", "Pretrain"):
        if label in labels:
            for attempt in range(3):
                press(page, label)
                try:
                    page.wait_for_function(f"!({STARTS})().includes({label!r})", timeout=20000 * (attempt + 1))
                    return label
                except PlaywrightTimeout:
                    missed(page, label, 20 * (attempt + 1))
                    if attempt == 2:
                        raise
    return None


def press(page, label: str) -> None:
    """Click the button `label` (a live page may redraw it under the click: Playwright waits until it is still)."""
    page.evaluate(CLICKS)
    page.get_by_role("button", name=label, exact=True).click(timeout=30000)


def pause_training(page) -> None:
    """Press Pause while the page trains, and wait until it has paused (or finished on its own meanwhile); pressed
    again if not acted on in 20 s (see `start_training`)."""
    for _ in range(5):
        if "Pause" not in page.evaluate(STARTS):
            return
        try:
            press(page, "Pause")
        except PlaywrightTimeout:
            if "Pause" not in page.evaluate(STARTS):
                return  # the run finished on its own meanwhile
            raise
        try:
            page.wait_for_function(f"!({STARTS})().includes('Pause')", timeout=20000)
            return
        except PlaywrightTimeout:
            missed(page, "Pause", 20)
    raise AssertionError("Pause was not acted on in five tries")


def set_number(page, label: str, value, nth: int = 0) -> None:
    """Type `value` into the number input labelled `label` (opening its collapsed group of controls if need be)
    and wait for the rerun it starts."""
    box = page.get_by_label(label, exact=True).nth(nth)
    box.wait_for(state="attached", timeout=30000)
    group = page.locator('[data-testid="stExpander"] details').filter(has=page.get_by_label(label, exact=True))
    if group.count() and group.first.get_attribute("open") is None:
        group.first.locator("summary").click()
    expect(box).to_be_visible(timeout=30000)
    box.fill(str(value))
    rerun_done(page, lambda: box.press("Enter"))
