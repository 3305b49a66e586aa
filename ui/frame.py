"""The frame shared by every page: teacher controls, device and server load, heartbeat, router check.

Teacher controls travel in the link, so a teacher can hand out one address:
- `?present=1` (or the sidebar's "Presentation mode" toggle): larger fonts and numbers for a projector,
  the sidebar (with its controls) collapsed so the charts take the whole width.
- `?hide=data,network,training`: a locked lesson; those groups of controls are not shown (like
  TensorFlow Playground's hide-controls link). The names are the pages' sections (`Page.section`).
"""

from __future__ import annotations

import streamlit as st
import torch

from core.budget import budgets
from ui import st_internals
from ui.live import server_redraws
from ui.state import CURRENT_PAGE, HIDE, JOB_PAGES, PRESENT, manager, store, worker_processes

SECTIONS = ("data", "features", "network", "training", "augmentation", "generator", "discriminator", "sides")

# No number or label is cut with "...": a metric's value shrinks with its column (a container query: 20 % of
# the metric's width holds about nine characters; never below the body text) and wraps at spaces; labels
# (a widget's too), captions and buttons wrap; so do the options of a segmented control or pills (they would
# scroll sideways, the last ones out of sight).
TEXT_CSS = """
<style>
.stApp [data-testid="stMetric"] { container-type: inline-size; }
.stApp [data-testid="stMetricValue"] { font-size: max(1rem, min(2.25rem, 20cqi)); }
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] *,
.stApp [data-testid="stMetricLabel"], .stApp [data-testid="stMetricLabel"] *,
.stApp [data-testid="stMetricDelta"] *, .stApp button *, .stApp [data-testid="stCaptionContainer"] *,
.stApp [data-testid="stWidgetLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
.stApp [data-testid="stMetricValue"] * { font-size: inherit !important; }
.stApp [data-testid="stButtonGroup"] > div { flex-wrap: wrap; overflow-x: visible; }
</style>
"""
PRESENT_CSS = """
<style>
html, .stApp { font-size: 21px; }
.stApp [data-testid="stMetricValue"] { font-size: max(1rem, min(2.6rem, 20cqi)) !important; }
.stApp [data-testid="stMarkdownContainer"] p, .stApp [data-testid="stCaptionContainer"] { font-size: 1.1rem; }
.stApp h1 { font-size: 2.6rem; }
.stApp [data-testid="stMain"] input, .stApp [data-testid="stMain"] textarea,
.stApp [data-testid="stMain"] [data-baseweb="select"] { font-size: 1rem; }
</style>
"""
HIDE_CSS = "<style>{}</style>"


def read_teacher_flags() -> None:
    """Read `present=` (once per session: the toggle owns it afterwards) and `hide=` (whenever a link has it)."""
    if PRESENT not in st.session_state:
        st.session_state[PRESENT] = st.query_params.get("present") == "1"
    if HIDE not in st.session_state or "hide" in st.query_params:
        raw = st.query_params.get("hide", "")
        st.session_state[HIDE] = tuple(s for s in (x.strip() for x in raw.split(",")) if s in SECTIONS)


def presenting() -> bool:
    """Presentation mode is on."""
    return bool(st.session_state.get(PRESENT))


def hidden_sections() -> tuple[str, ...]:
    """The control groups a locked-lesson link hides."""
    return st.session_state.get(HIDE, ())


def teacher_query() -> dict[str, str]:
    """The teacher flags as URL keys (every page writes them back, so they stay in the link)."""
    q = {}
    if presenting():
        q["present"] = "1"
    if hidden_sections():
        q["hide"] = ",".join(hidden_sections())
    return q


def sidebar_frame(current_page: str) -> None:
    """Teacher controls, device and server load in the sidebar, the heartbeat that keeps jobs alive,
    and pausing of jobs that belong to pages the user has left (a page switch leaves no thread training)."""
    jm = manager()
    st.session_state[CURRENT_PAGE] = current_page
    for job_id, page in st.session_state.get(JOB_PAGES, {}).items():
        job = jm.get(job_id)
        if job is not None and page != current_page and job.running:
            job.pause()
    st.html(TEXT_CSS + (PRESENT_CSS if presenting() else ""))
    hidden = [f'[class*="-hidden-{s}"]' for s in hidden_sections()]  # every page's section of that name
    if hidden:
        st.html(HIDE_CSS.format(", ".join(hidden) + " { display: none; }"))
    with st.sidebar:
        _heartbeat()
        st.toggle(
            "Presentation mode",
            key=PRESENT,
            help="Larger fonts and charts for a projector; the sidebar starts collapsed. In a link: ?present=1",
        )
        with st.expander("Server", expanded=False):
            server_box()


def server_box() -> None:
    """What this server allows one run, how many runs are training now on it and, with a shared store,
    in the whole deployment."""
    jm = manager()
    b = budgets()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    running = jm.running_count()
    st.markdown(f"**Runs training now: {running} of {jm.max_running}** on this server")
    if store().shared:  # several replicas: each has its own slots; the store sees them all
        per_process = store().running_by_process()
        st.caption(
            f"The whole deployment: {sum(per_process.values())} training on {len(per_process)} server "
            "processes (read from the shared store; runs of the command-line runner count too)."
        )
    if running >= jm.max_running:
        st.warning(
            "Every training slot is taken: Play waits until a run pauses or finishes. Pause runs you are not watching."
        )
    st.caption(
        f"One run may use up to {b.params:,} parameters, {b.memory_mb:,.0f} MB of memory per step, "
        f"{b.step_gflop:g} GFLOP per training step and {b.eval_gflop:g} GFLOP per evaluation. "
        "A network over one of these is refused with what to shrink. (A teacher sets them with the "
        "PLAYGROUND_MAX_* environment variables.)"
    )
    redraws, problem = server_redraws()
    st.caption(
        f"Redraws a second for the whole server: {redraws:g} (PLAYGROUND_REDRAWS_S); each page slows down to share them."
    )
    if problem:
        st.warning(problem)
    workers, problem = worker_processes()
    if workers:
        st.caption(
            f"Training runs in {workers} worker processes (PLAYGROUND_WORKERS; 0 trains in the server itself); "
            "a worker that fails takes only its own runs with it."
        )
    else:
        st.caption("Training runs in the server process itself (PLAYGROUND_WORKERS=0).")
    if problem:
        st.warning(problem)
    st.caption(f"CPU threads per run: {torch.get_num_threads()} · GPU: {gpu}")
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
