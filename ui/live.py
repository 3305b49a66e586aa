"""The glue between a page and its background Job: attach, rebuild, act, and redraw live.

A page calls `attach_job` with the specs its widgets describe, `apply_action` with the pressed
control, then `live_view` with a draw function that reads only the job's snapshot.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from core.engine import needs_rebuild
from core.jobs import Job
from core.spec import Spec, SpecError
from ui.state import manager

POLL_S = 0.4


def attach_job(prefix: str, specs: list[Spec], *, views=None, probes=None, title: str = "") -> Job | None:
    """The page's job for `specs`: the same one across reruns and refreshes (?run=), rebuilt when needed.

    Changes to live fields (LR, L1/L2, clipping, patience, epochs) are applied to the running
    network; any other change builds a new network and says so.
    """
    jm = manager()
    key = f"{prefix}._job"
    job = jm.get(st.session_state.get(key))
    if job is None:
        # A refresh re-attaches to its run (?run=); a link shared while its owner still has the page
        # open gets its own run with the same settings, so one student's Pause never stops another's.
        job = jm.get(st.query_params.get("run"))
        if job is not None and job.owner != _session_id() and _session_alive(job.owner):
            job = None
    if job is not None and len(job.trainers) != len(specs):
        job = None
    if job is not None:
        old = [t.spec for t in job.trainers]
        if old != specs:
            if any(needs_rebuild(o, s) for o, s in zip(old, specs)):
                trained = any(t.step_count for t in job.trainers)
                if st.session_state.get(key) == job.id:
                    jm.discard(job.id)
                job = None
                if trained:
                    st.toast("Settings changed: a new network was built.", icon=":material/autorenew:")
            else:
                _apply_live(job, specs)
    if job is None:
        job = _create(prefix, specs, views, probes, title)
    if job is not None:
        job.owner = _session_id()
        st.session_state[key] = job.id
        st.session_state.setdefault("_job_pages", {})[job.id] = st.session_state.get("_current_page")
        job.set_speed(st.session_state.get(f"{prefix}.speed", 1))
    return job


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else ""


def _session_alive(session_id: str) -> bool:
    from streamlit.runtime import Runtime

    try:
        return bool(session_id) and Runtime.instance().is_active_session(session_id)
    except (RuntimeError, AttributeError):  # no runtime (AppTest, bare mode)
        return False


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
            st.info(msg)
    elif action == "pause":
        job.pause()
    elif action == "step":
        msg = job.step(1)
        if msg:
            st.info(msg)
    elif action == "reset":
        manager().discard(job.id)
        job = _create(prefix, specs, kw.get("views"), kw.get("probes"), kw.get("title", ""))
        if job is not None:
            st.session_state[f"{prefix}._job"] = job.id
            st.session_state.setdefault("_job_pages", {})[job.id] = st.session_state.get("_current_page")
    return job


def live_view(prefix: str, job: Job, draw: Callable[[dict], None]) -> None:
    """Redraw `draw(snapshot)` every POLL_S seconds while the job trains; once more when it stops."""
    running = job.running

    @st.fragment(run_every=POLL_S if running else None)
    def _view():
        job.touch()
        snap = job.snapshot()
        draw(snap)
        flag = f"{prefix}._was_running"
        was = st.session_state.get(flag, False)
        st.session_state[flag] = snap["running"]
        if was and not snap["running"]:
            st.rerun()  # stop polling and refresh the controls (Play instead of Pause)

    _view()


def status_message(snap: dict) -> None:
    """Show why training stopped: diverged, early stop, finished, or an error."""
    if snap["error"]:
        st.error(f"Training stopped with an error: {snap['error']}. The charts keep what was trained.")
    for i, run in enumerate(snap["runs"]):
        who = f"{'AB'[i]}: " if len(snap["runs"]) > 1 else ""
        if run["status"] == "diverged":
            st.error(
                f"{who}Training {run['message']}. The loss became too large to represent; the charts keep the history. Lower the learning rate and press Reset."
            )
        elif run["status"] == "early_stopped":
            st.info(f"{who}{run['message']}.")
        elif run["status"] == "done":
            st.success(f"{who}Training {run['message']}.")
