"""Sessions end cleanly: 100 students open the Playground and press Play, then leave; no thread is left."""

import gc
import threading
import time

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, no_exception

SESSIONS = 100
REAP_EVERY = 5  # sessions that closed since the last reap (the reaper's idle timeout, fast-forwarded)


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("job-") and t.name != "job-reaper"]


def test_100_sessions_pressing_play_leave_no_training_threads(app):
    """Each session presses Play and is closed; the manager's reaper stops and forgets every job."""
    from ui.state import manager

    jm = manager()
    started, most = set(), 0
    for k in range(SESSIONS):
        at = app if k == 0 else AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/playground.py").run()  # a link to the Playground: its first run is the page's
        at.button(key="pg.play").click().run()
        no_exception(at)
        job_id = at.session_state["pg._job"]
        started.add(job_id)
        most = max(most, jm.running_count())
        assert jm.running_count() <= jm.max_running
        del at  # the browser tab is closed: nothing touches its job any more
        if (k + 1) % REAP_EVERY == 0:
            reaped = jm.reap(now=time.time() + jm.idle_timeout + 1)
            assert job_id in reaped
            assert not jm.jobs
            assert not job_threads(), [t.name for t in job_threads()]
    gc.collect()
    assert len(started) == SESSIONS  # every session had its own job
    assert most >= 1  # the Play presses did train
    assert not jm.jobs and jm.running_count() == 0 and not job_threads()
    from ui.state import store

    runs = store().list_runs(limit=10_000)
    trained = {r["id"] for r in runs if r["status"] == "stopped"}
    assert len(trained) >= SESSIONS // REAP_EVERY  # reaped runs are stored as stopped, not left running
    mine = [r for r in runs if r.get("host") != "replica-b" and r["source"] == "playground"]  # not a store test's
    assert not [r for r in mine if r["status"] == "running"]
