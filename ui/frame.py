"""The sidebar frame shared by every page: device, training slots, share link, heartbeat."""

from __future__ import annotations

import streamlit as st
import torch

from ui import st_internals
from ui.state import CURRENT_PAGE, JOB_PAGES, manager


def sidebar_frame(current_page: str) -> None:
    """Device and server load in the sidebar, the heartbeat that keeps jobs alive, and pausing of
    jobs that belong to pages the user has left (a page switch leaves no thread training)."""
    jm = manager()
    st.session_state[CURRENT_PAGE] = current_page
    for job_id, page in st.session_state.get(JOB_PAGES, {}).items():
        job = jm.get(job_id)
        if job is not None and page != current_page and job.running:
            job.pause()
    with st.sidebar:
        _heartbeat()
        with st.expander("Server", expanded=False):
            gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
            st.caption(f"CPU threads per run: {torch.get_num_threads()} · GPU: {gpu}")
            st.caption(f"Runs training now: {jm.running_count()} of {jm.max_running} slots")
            st.caption("Share: the address bar holds every setting and the seed; copy it to share this exact run.")


@st.fragment(run_every=20)
def _heartbeat() -> None:
    """Tell the JobManager this browser is still open, even while its jobs are paused."""
    jm = manager()
    for key, value in list(st.session_state.items()):
        if isinstance(key, str) and key.endswith("._job"):
            jm.get(value)


def require_router() -> None:
    """Make sure the page runs under app.py's router, even on a fresh server's first direct link.

    Streamlit runs a `pages/` folder in its legacy multipage mode (each file alone, no router) until
    some run calls st.navigation; a student opening a shared /playground link first would get a page
    without the app's navigation. Turning the legacy mode off and rerunning sends the run through app.py.
    """
    if st_internals.legacy_pages_mode():
        st_internals.leave_legacy_pages_mode()
        st.rerun()
