"""The glue between a page and its background Job: attach, rebuild, act, and redraw live.

A page calls `attach_job` with the specs its widgets describe, `apply_action` with the pressed
control, then `live_view` with a draw function that reads only the job's snapshot.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import streamlit as st

from core.engine import needs_rebuild
from core.jobs import BUSY, Job
from core.spec import Spec, SpecError
from ui.plotly_live import ensure_loader
from ui.st_internals import session_alive, session_id, wait_until_sent
from ui.state import CURRENT_PAGE, JOB_PAGES, job_key, manager, private

POLL_S = 0.15  # up to 6-7 redraws a second while a job trains (each takes some of the interval)
# Redraws a second for the whole server: with many students training, each page's interval stretches so the
# server's redraw work stays bounded (~25 ms of CPU each for the Playground, and as much again to send it) and
# training keeps the rest. Fewer redraws train faster: at 20 students, 20 a second give each page a redraw
# every second, 12 every 1.5 s with more training (docs/benchmarks.md). A teacher may set it.
SERVER_REDRAWS_S = 20.0
MAX_POLL_S = 1.5
POLL_LEVELS = (POLL_S, 0.25, 0.5, 1.0, MAX_POLL_S)
SEND_WAIT_S = 1.0  # a redraw waits at most this long for the server to send it before the run ends
SETTLE_TRIES = 20  # a page drawn idle waits up to 2 s (0.1 s a try) for its job's snapshot from a worker
# Streamlit fades an element while its rerun is on the way ("stale"). A live view reruns every POLL_S and
# its charts update in place, so the fade would only make every chart blink: it is switched off here.
LIVE_CSS = """<style>
[class*="st-key-"][class*="-live"] [data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>"""
TRACE = os.environ.get("PLAYGROUND_TRACE_REDRAW") == "1"  # bench/bench_live.py reads the redraw times on stderr


def attach_job(prefix: str, specs: list[Spec], *, views=None, probes=None, title: str = "") -> Job | None:
    """The page's job for `specs`: the same one across reruns and refreshes (?run=), rebuilt when needed.

    Changes to live fields (LR, L1/L2, clipping, patience, epochs) are applied to the running
    network; any other change builds a new network and says so.
    """
    jm = manager()
    key = job_key(prefix)
    job = jm.get(st.session_state.get(key))
    if job is None:
        # A refresh re-attaches to its run (?run=); a link shared while its owner still has the page
        # open gets its own run with the same settings, so one student's Pause never stops another's.
        job = jm.get(st.query_params.get("run"))
        if job is not None and job.owner != session_id() and session_alive(job.owner):
            job = None
    if job is not None and len(job.specs) != len(specs):
        job = None
    if job is not None and job.views_fn is None and views is not None:
        job.adopt_views(views)  # a continued run's job was made on the Runs page, without this page's views
    if job is not None:
        old = job.specs
        if old != specs:
            if any(needs_rebuild(o, s) for o, s in zip(old, specs)):
                trained = job.trained
                if st.session_state.get(key) == job.id:
                    jm.discard(job.id)
                job = None
                if trained:
                    st.toast("Settings changed: a new network was built.", icon=":material/autorenew:")
            else:
                _apply_live(job, specs)
    if job is None:
        job = _create(prefix, specs, views, probes, title)
    if job is not None and views is not None and job.views_fn is not views:
        job.adopt_views(views)  # a run continued from the Runs page was built without this page's views
    if job is not None:
        job.owner = session_id()
        st.session_state[key] = job.id
        st.session_state.setdefault(JOB_PAGES, {})[job.id] = st.session_state.get(CURRENT_PAGE)
        job.set_speed(st.session_state.get(f"{prefix}.speed", 0))
    return job


def _create(prefix, specs, views, probes, title) -> Job | None:
    kwargs = {"views": views, "title": title, "source": st.session_state.get("_current_page") or "app"}
    if probes is not None:
        kwargs["probes"] = probes
    try:
        return manager().create(specs, **kwargs)
    except SpecError as e:
        st.error(f"Cannot build this network: {e}")
    except RuntimeError as e:  # e.g. CUDA out of memory while building
        st.error(f"Cannot build this network: {e}")
    return None


def _apply_live(job: Job, specs: list[Spec]) -> None:
    was_running = job.running
    job.pause()
    for _ in range(100):  # the thread finishes its current epoch, then idles
        if not job.running:
            break
        time.sleep(0.02)
    try:
        job.apply_live(specs)
    except SpecError as e:
        st.error(str(e))
        return
    if was_running:
        job.play()


def apply_action(prefix: str, job: Job | None, action: str | None, specs: list[Spec], **kw) -> Job | None:
    """Carry out Play / Pause / Step / Reset; returns the (possibly new) job."""
    if job is None or action is None:
        return job
    if action == "play":
        msg = job.play()
        if msg:
            _refused(prefix, msg)
    elif action == "pause":
        job.pause()
    elif action == "step":
        msg = job.step(1)
        if msg:
            _refused(prefix, msg)
    elif action == "reset":
        manager().discard(job.id)
        job = _create(prefix, specs, kw.get("views"), kw.get("probes"), kw.get("title", ""))
        if job is not None:
            st.session_state[job_key(prefix)] = job.id
            st.session_state.setdefault(JOB_PAGES, {})[job.id] = st.session_state.get(CURRENT_PAGE)
    return job


def server_redraws() -> tuple[float, str]:
    """The server's redraws a second (PLAYGROUND_REDRAWS_S, read at call time), and what is wrong with it, if any."""
    raw = os.environ.get("PLAYGROUND_REDRAWS_S", "").strip()
    if not raw:
        return SERVER_REDRAWS_S, ""
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 1 <= value <= 1000:
        return (
            SERVER_REDRAWS_S,
            f"PLAYGROUND_REDRAWS_S={raw!r} is not a number from 1 to 1000; {SERVER_REDRAWS_S:g} is used.",
        )
    return value, ""


def poll_interval(running_jobs: int, current: float | None = None) -> float:
    """Seconds between redraws: POLL_S, stretched in steps when many jobs train at once so the server keeps up.

    20 students training on a 2-core server at 6 redraws a second each would need more CPU than
    there is, and every session would lag behind; at 20 running jobs each page redraws once a second.
    A page that changes its interval reruns whole (the browser's timer is set by a full run), so the
    interval moves in a few steps, and `current` (the page's interval now) is kept until the class has
    shrunk well below the next step down: a student pressing Play and Pause does not rerun every page.
    """
    want = running_jobs / server_redraws()[0]
    level = next((x for x in POLL_LEVELS if x >= want), MAX_POLL_S)
    if current in POLL_LEVELS and level < current:
        lower = POLL_LEVELS[POLL_LEVELS.index(current) - 1]
        if want > 0.8 * lower:
            return current
    return level


def _refused(prefix: str, msg: str) -> None:
    """Keep why Play/Step did not start for `refusal_ui` (the page reruns after every control)."""
    st.session_state[private(prefix, "refused")] = msg


def refusal_ui(prefix: str) -> None:
    """Why the last Play/Step did not start, and what the student can do about it."""
    msg = st.session_state.pop(private(prefix, "refused"), "")
    if msg == BUSY:
        st.warning(
            f"All {manager().max_running} training slots of this server are in use (the class's running cap). "
            "Pause a run you are not watching, or wait a moment and press Play again; the Server box in the "
            "sidebar shows how many are training.",
            icon=":material/hourglass_top:",
        )
    elif msg:
        st.info(msg)


def live_view(prefix: str, job: Job, draw: Callable[[dict], None]) -> None:
    """Redraw `draw(snapshot)` every poll_interval() seconds while the job trains; once more when it stops."""
    running = job.running
    ensure_loader()
    poll_key = f"{prefix}._poll_s"
    interval = poll_interval(manager().running_count(), st.session_state.get(poll_key))
    st.session_state[poll_key] = interval

    @st.fragment(run_every=interval if running else None)
    def _view():
        t0, c0 = time.perf_counter(), time.thread_time()
        job.touch()
        snap = job.snapshot()
        for _ in range(SETTLE_TRIES):  # an idle page is drawn once: wait for the worker's answer (0.1 s a try)
            if running or not snap.get("stale"):
                break
            snap = job.snapshot()
        if snap["running"] and poll_interval(manager().running_count(), interval) != interval:
            st.rerun()  # the class grew or shrank: the whole page reruns to set the browser's new interval
        st.html(LIVE_CSS)
        # The redraw takes its turn with the training threads (core/turns.py): Python runs one thread at a time,
        # and a redraw competing with them for it slowed training to a crawl with a class on the server.
        # Alone on the server (one job training) it does not wait: its own job's slice would only delay it.
        me, turns = object(), manager().turns
        shared = manager().running_count() > 1 and not manager().workers  # workers train elsewhere
        if shared:
            turns.take(me)
        try:
            with st.container(key=f"{prefix}-live"):
                draw(snap)
        finally:
            if shared:
                turns.give(me)
        flag = f"{prefix}._was_running"
        was = st.session_state.get(flag, False)
        st.session_state[flag] = snap["running"]
        wall, cpu = 1000 * (time.perf_counter() - t0), 1000 * (time.thread_time() - c0)
        sent = wait_until_sent(SEND_WAIT_S)
        if TRACE:
            at = f"session {session_id()} at {time.time():.3f}"
            wait = 1000 * (time.perf_counter() - t0) - wall
            print(
                f"live redraw {wall:.1f} ms, cpu {cpu:.1f} ms, sent after {wait:.1f} ms{'' if sent else ' (not yet)'}, {at}",
                file=sys.stderr,
                flush=True,
            )
        if (was or running) and not snap["running"]:
            # Stop polling and refresh the controls (Play instead of Pause, Step enabled again). `running`: the
            # page was drawn while the job trained; an epoch of Step can end before this view's first redraw.
            st.rerun()
        elif not running and (snap["running"] or snap.get("stale")):
            # Drawn as idle, so nothing would redraw it, but the job trains (a worker's heartbeat sent just before
            # a Step said it was idle) or its snapshot is from before the Step (stale): the page showed the epoch
            # before the Step for good (a browser test saw it). Run again with the job's state as it is now.
            st.rerun()

    _view()


def last_evaluated(history: list[dict]) -> dict:
    """The latest record with whole-set metrics (train_/val_*); while live, evaluation runs on a cadence."""
    return next((r for r in reversed(history) if "train_loss" in r or "val_loss" in r), {})


def status_message(snap: dict) -> None:
    """Show why training stopped: diverged, early stop, finished, or an error."""
    if snap["status"] == "interrupted":
        st.warning(snap["error"], icon=":material/restart_alt:")
    elif snap["error"]:
        st.error(f"Training stopped with an error: {snap['error']}. The charts keep what was trained.")
    runs = snap["runs"]
    same = len({(r["status"], r["message"]) for r in runs}) == 1  # e.g. every run finished: say it once
    for i, run in enumerate(runs[:1] if same else runs):
        who = f"{chr(ord('A') + i)}: " if len(runs) > 1 and not same else ""
        if run["status"] == "diverged":
            st.error(
                f"{who}Training {run['message']}. The loss became too large to represent; the charts keep the history. Lower the learning rate and press Reset."
            )
        elif run["status"] == "early_stopped":
            st.info(f"{who}{run['message']}.")
        elif run["status"] == "done":
            st.success(f"{who}Training {run['message']}.")
