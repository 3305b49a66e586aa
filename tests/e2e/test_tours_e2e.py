"""Browser tours over every page in ui/pages.py: a page comes back as it was left, whatever the order of visits.

Generic: a page added to ui/pages.py is toured without a test of its own. On each return the sidebar's
widgets show the values they had when the page was left, the address is the same, no error or exception is
shown, and a training page shows its Play or Pause (the Transfer page: Pretrain until it has pretrained).
"""

import random
import time

import pytest

from tests.e2e.conftest import IDLE, STARTS, WATCH_RUN, open_page, pause_training, rerun_done, start_training
from ui.pages import PAGES

pytestmark = pytest.mark.e2e

HOME = "Home"
TITLES = [HOME] + [p.title for p in PAGES]
PATHS = {HOME: "/"} | {p.title: f"/{p.name}" for p in PAGES}
TRAINS = {p.title for p in PAGES if p.trains}
SEEDS = (1, 2, 3)

# JS: every sidebar widget's key (or label) and what it shows (text, input values, ticks, slider positions);
# null while a widget is still a loading skeleton or the sidebar is being redrawn.
SIDEBAR = """() => {
  const side = document.querySelector('[data-testid="stSidebarUserContent"]');
  if (!side || side.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')) return null;
  const out = {};
  side.querySelectorAll('[data-testid="stElementContainer"]').forEach((el, i) => {
    if (!el.querySelector('input, textarea, [role="slider"], [data-testid="stWidgetLabel"]')) return;
    const key = Array.from(el.classList).find(c => c.startsWith('st-key-')) || 'widget ' + i;
    const inputs = Array.from(el.querySelectorAll('input, textarea'))
      .map(x => (x.type === 'checkbox' || x.type === 'radio') ? String(x.checked) : x.value);
    const sliders = Array.from(el.querySelectorAll('[role="slider"]')).map(s => s.getAttribute('aria-valuenow'));
    out[key] = [el.textContent.replace(/\\s+/g, ' ').trim(), ...inputs, ...sliders].join(' | ');
  });
  return out;
}"""
# JS: the main area's title (each page draws one first), '' while it has none.
TITLE = """() => { const h = document.querySelector('[data-testid="stMain"] h1'); return h ? h.innerText : ''; }"""
# JS: the text of every error box and exception shown in the main area.
PROBLEMS = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stException"], [data-testid="stMain"] [data-testid="stAlertContentError"]'))
  .filter(e => e.closest('[data-stale="true"]') === null).map(e => e.innerText.slice(0, 300))"""
# JS: what the page shows, for a failure's message: script state, address, elements drawn in the main area and
# the sidebar (stale ones apart) and the main area's first words.
SEEN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const count = sel => document.querySelectorAll(sel + ' [data-testid="stElementContainer"]').length;
  const stale = sel => document.querySelectorAll(sel + ' [data-stale="true"]').length;
  const main = document.querySelector('[data-testid="stMain"]');
  return `script ${app && app.getAttribute('data-test-script-state')}, at ${location.pathname}, `
    + `main ${count('[data-testid="stMain"]')} elements (${stale('[data-testid="stMain"]')} stale), `
    + `sidebar ${count('[data-testid="stSidebarUserContent"]')} (${stale('[data-testid="stSidebarUserContent"]')} stale), `
    + `main reads "${main ? main.innerText.replace(/\\s+/g, ' ').slice(0, 160) : ''}"`;
}"""


def orders() -> list[tuple[str, list[str]]]:
    """The tours: page order, reverse, and three seeded random orders."""
    out = [("page order", TITLES), ("reverse order", TITLES[::-1])]
    for seed in SEEDS:
        shuffled = TITLES[:]
        random.Random(seed).shuffle(shuffled)
        out.append((f"random order (seed {seed})", shuffled))
    return out


class Tour:
    """One browser session visiting pages through the sidebar; remembers each page as it was left."""

    def __init__(self, page):
        self.page = page
        self.left: dict[str, tuple[dict, str]] = {}  # title -> (sidebar widgets, address) when last left
        self.problems: list[str] = []
        self.here = HOME

    def state(self) -> tuple[dict, str]:
        """The sidebar's widgets and the address, once every widget is drawn."""
        widgets = self.page.wait_for_function(SIDEBAR, timeout=30000).json_value()
        return widgets, self.page.url

    def go(self, title: str, why: str) -> None:
        """Leave the current page (remembering it), open `title` from the navigation and check it."""
        if title == self.here:
            return
        self.left[self.here] = self.state()
        self.page.evaluate(WATCH_RUN)
        before = self.page.evaluate(TITLE)
        self.page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
        self.here = title
        try:  # the server has switched pages (it sets the path), then the run is over
            self.page.wait_for_function(f"() => location.pathname === {PATHS[title]!r}", timeout=60000)
            try:  # the page's own run has started and ended (a page that trains may rarely look idle: then below)
                # Seen running, or drawn with its own title: a busy browser may apply a short run's start and end
                # in one go, and the state seen never reads "running" (a 15 s wait each time, 6 times a tour).
                ran = f"""(before) => document.querySelector('{IDLE}') !== null
                    && (window.__ran || ({TITLE})() !== before)"""
                self.page.wait_for_function(ran, arg=before, timeout=15000)
            except Exception:  # noqa: BLE001, S110
                pass
            self.page.wait_for_selector(IDLE, timeout=60000)
        except Exception as e:  # noqa: BLE001 (a timeout: say where)
            raise AssertionError(f"{title} ({why}) did not open: still at {self.page.url}") from e
        self.check(title, why)

    def check(self, title: str, why: str) -> None:
        """The page shows what it showed when left: widgets, address, no error, its Play or Pause."""
        where = f"{title} ({why})"
        if title in self.left:
            same = f"""([want, url]) => {{ const s = ({SIDEBAR})();
                if (s === null || location.href !== url) return false;
                const keys = Object.keys(s);
                return keys.length === Object.keys(want).length && keys.every(k => s[k] === want[k]); }}"""
            try:  # waits out the page's own address update and its widgets' first drawing
                self.page.wait_for_function(same, arg=list(self.left[title]), timeout=4000)
            except Exception:  # noqa: BLE001 (a timeout: say what differs)
                widgets, url = self.state()
                before, addr = self.left[title]
                diff = {k: (before.get(k), widgets.get(k)) for k in sorted(set(before) | set(widgets))}
                diff = {k: v for k, v in diff.items() if v[0] != v[1]}
                if diff:
                    self.problems.append(f"{where}: sidebar widgets changed (before, after): {diff}")
                if url != addr:
                    self.problems.append(f"{where}: address {addr} became {url}")
        self.page.wait_for_selector(IDLE, timeout=60000)
        shown = self.page.evaluate(PROBLEMS)
        if shown:
            self.problems.append(f"{where}: shows {shown}")
        if title in TRAINS:
            try:
                self.page.wait_for_function(
                    f"({STARTS})().length > 0", timeout=90000
                )  # a first CNN visit behind 2 trainings
            except Exception:  # noqa: BLE001
                seen = self.page.evaluate(SEEN)
                try:  # how much longer it takes, if it comes at all: says whether the page is slow or stuck
                    t0 = time.monotonic()
                    self.page.wait_for_function(f"({STARTS})().length > 0", timeout=120000)
                    later = f"shown {time.monotonic() - t0:.0f} s later"
                except Exception:  # noqa: BLE001
                    later = f"not shown 120 s later either ({self.page.evaluate(SEEN)})"
                self.problems.append(f"{where}: no Play, Pause or Pretrain button in 90 s ({seen}); {later}")


def set_seed(page, value: int) -> None:
    """Type a seed into the sidebar's first Seed box (if the page has one), so the page differs from its defaults."""
    box = page.locator('[data-testid="stSidebar"]').get_by_label("Seed", exact=True)
    if box.count():
        if not box.first.is_visible():  # in a collapsed group of controls
            groups = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]')
            groups.filter(has=page.get_by_label("Seed", exact=True)).locator("summary").first.click()
        box.first.fill(str(value))
        rerun_done(page, lambda: box.first.press("Enter"))


@pytest.fixture
def tour(server, browser):
    """A new browser session on the Home page."""
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    open_page(page, server)
    yield Tour(page)
    context.close()


def test_every_order_of_visits_keeps_every_page(tour):
    """Set each page's seed, then tour in page order, in reverse and in three random orders: every return as left."""
    for i, title in enumerate(TITLES):
        tour.go(title, "first visit")
        set_seed(tour.page, 4000 + i)
    for why, order in orders():
        for title in order:
            tour.go(title, why)
    assert not tour.problems, "\n".join(tour.problems)


def test_a_tour_with_runs_in_progress_keeps_every_page(tour):
    """Press Play on each training page and leave it training; on return it is as left and shows Play or Pause."""
    for title in TITLES:
        tour.go(title, "first visit, then Play")
        start_training(tour.page)
    for title in TITLES:
        tour.go(title, "back to a page left training")
        pause_training(tour.page)
    assert not tour.problems, "\n".join(tour.problems)
