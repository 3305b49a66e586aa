"""AppTest fixtures: start from app.py; stop every job a test started."""

import os
import time
from pathlib import Path

import pytest
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SCRIPTS = ScriptCache()  # shared by every AppTest run (see `app`)
# AppTest runs the app in this process and these tests look inside its trainers, so jobs train in threads here.
# Worker processes are tested in tests/core/test_workers.py and by the browser tests, whose servers use them.
os.environ.setdefault("PLAYGROUND_WORKERS", "0")


@pytest.fixture
def app(monkeypatch):
    """An AppTest of the whole app (router included), stopped jobs afterwards."""
    from streamlit.runtime.pages_manager import PagesManager

    init = PagesManager.__init__

    def routed_init(self, *args, **kwargs):
        # AppTest starts every run in Streamlit's legacy pages/ mode; a running server leaves it after the
        # first st.navigation call. Start where the server is, so every run goes through app.py's router.
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", routed_init)
    # AppTest compiles app.py and the page again on every run (a new ScriptCache each time, with Streamlit's
    # "magic" rewrite): a fifth of a run's time. The files do not change during the tests: compile them once.
    monkeypatch.setattr(app_test, "ScriptCache", lambda: SCRIPTS)
    monkeypatch.setattr(local_script_runner, "ScriptCache", lambda: SCRIPTS)
    at = AppTest.from_file(APP, default_timeout=60)
    yield at
    from ui.state import manager

    manager().stop_all()
    manager.clear()


def no_exception(at: AppTest) -> None:
    """Fail with the page's exception text when it shows one."""
    assert not at.exception, [e.message for e in at.exception]


def chart_figures(at) -> list[dict]:
    """Every chart on the page as a Plotly figure dict: st.plotly_chart and live charts (ui/plotly_live.py)."""
    import json

    figs = [json.loads(el.proto.spec) for el in at.get("plotly_chart")]
    for el in at.get("bidi_component"):
        proto = el.proto
        raw = proto.mixed.json if proto.WhichOneof("data") == "mixed" else proto.json
        payload = json.loads(raw) if raw else {}
        if isinstance(payload, str):  # live charts send their payload as one JSON text
            payload = json.loads(payload)
        if payload.get("full"):  # a script run sends each live chart whole
            figs.append({"data": payload["traces"], "layout": payload["layout"]})
    return figs


def open_page(at, path: str, **query):
    """Open the page at `path` with a link's query (`preset=...`, spec keys, teacher flags) in a new session, as a
    browser opening that link would; fails on an exception."""
    for k, v in query.items():
        if v is not None:
            at.query_params[k] = v
    at.run()
    at.switch_page(path).run()
    no_exception(at)
    return at


def lesson_box(at, prefix: str):
    """The page's lesson box (its key changes when the lesson changes other than through it: ui/scaffold.py)."""
    return next(b for b in at.selectbox if (b.key or "").startswith(f"{prefix}._preset_choice."))


def choose_lesson(at, prefix: str, name: str):
    """Choose the lesson `name` in the page's sidebar box; its note must be shown, with no exception."""
    from core.presets import load_preset

    lesson_box(at, prefix).select(name).run()
    no_exception(at)
    assert any(load_preset(name).title in i.value for i in at.info), name
    return at


def chart_titles(at) -> list[str]:
    """Titles of the Plotly charts on the page."""
    titles = []
    for fig in chart_figures(at):
        title = fig.get("layout", {}).get("title", {})
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


def wait_idle(at, prefix: str, timeout: float = 60.0):
    """Wait until the page's job (`prefix`) has stopped training (a Step or a run in the background), then rerun
    the page, as its next redraw would; returns the job."""
    from ui.state import manager

    job = manager().get(at.session_state[f"{prefix}._job"])
    end = time.time() + timeout
    while job.running and time.time() < end:
        time.sleep(0.05)
    at.run()
    return job
