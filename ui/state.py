"""Per-server singletons, the app's private session-state keys, and the spec <-> widget <-> URL plumbing.

Every private (non-widget) session-state key is named here. Widget keys are `<prefix>.<name>`, with
`<prefix>.<section>.<field>` for widgets bound to a spec field; private per-page keys are `<prefix>._<name>`.

A page's settings survive page switches: Streamlit drops the widget keys of a page that is not shown
(before the next page's run starts), so at the end of every run and live redraw `save_page()` copies
the shown page's widget values into `KEPT` (plain session state, which Streamlit keeps), and
`restore_page(prefix)` puts them back when the page is shown again. A refresh starts a new session; the URL (spec, `run=` and a page's UI values)
restores it.
"""

from __future__ import annotations

import dataclasses
import os

import streamlit as st

# torch.optim imports torch._dynamo on the first optimiser a process builds: 1.3 s of CPU on this machine,
# which the first training page a student opened used to wait for. Imported here, it is paid once, when the
# server loads the app.
import torch._dynamo  # noqa: F401

from core.jobs import JobManager
from core.spec import SECTIONS, Spec
from core.store import Store, shared_store
from ui.st_internals import widget_values

CURRENT_PAGE = "_current_page"  # url path of the page being shown
SHOWN_PREFIX = "_shown_prefix"  # widget prefix of the page this run shows (set by restore_page)
LAST_PREFIX = "_last_prefix"  # widget prefix of the page the last full run showed (None: home)
KEPT = "_kept"  # prefix -> {widget key: value}: each page's settings while it is not shown
JOB_PAGES = "_job_pages"  # job id -> url path of the page that owns it
PRESENT = "_present"  # presentation mode (the sidebar toggle's key; ?present=1)
HIDE = "_hide"  # control groups a locked-lesson link hides (?hide=data,network)


# A page's private keys, `<prefix>._<name>` (see `private`):
#   job          the page's job id                  preset      the lesson its settings came from
#   preset_choice the lesson box (a widget)         initial     the link has been read this session
#   changed      settings a widget had to change    layers, next_uid, new_type   the CNN layer editor
#   was_running  the live view's last state


def private(prefix: str, name: str) -> str:
    """A page's private session-state key (not a spec field): `<prefix>._<name>`."""
    return f"{prefix}._{name}"


def keep(keys) -> None:
    """Keep the values of widgets this run does not draw: Streamlit drops a widget's key at the end of a run that
    did not draw it, unless the key was set from session state in that run."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def job_key(prefix: str) -> str:
    """The page's job id."""
    return private(prefix, "job")


def preset_key(prefix: str) -> str:
    """The lesson preset the page's settings came from (its note is shown)."""
    return private(prefix, "preset")


def start_run() -> None:
    """Note which page the last full run showed (call first in every full run, before the page)."""
    st.session_state[LAST_PREFIX] = st.session_state.pop(SHOWN_PREFIX, None)


def restore_page(prefix: str) -> None:
    """On entering a page, put back every widget value it had when it was left; mark the page as shown.

    All kept values are written, not only the missing ones: a key first set from session state
    (before its widget existed) can outlive its widget with a stale value.
    """
    if st.session_state.get(LAST_PREFIX) != prefix:
        for key, value in st.session_state.get(KEPT, {}).get(prefix, {}).items():
            st.session_state[key] = value
    st.session_state[SHOWN_PREFIX] = prefix


def save_page(live: bool = False) -> None:
    """Copy the shown page's widget values into KEPT (at the end of every run and live redraw).

    It must run while the page's widgets still exist: on a page switch Streamlit has dropped them
    before the next run begins. `live`: a live redraw (a fragment run), where only the widgets it drew
    can have changed; their values are updated and the others kept.
    """
    prefix = st.session_state.get(SHOWN_PREFIX)
    if not prefix:
        return
    kept = st.session_state.setdefault(KEPT, {})
    if live:
        kept.setdefault(prefix, {}).update(widget_values(f"{prefix}.", this_run_only=True))
    else:
        kept[prefix] = widget_values(f"{prefix}.")


@st.cache_resource
def store() -> Store:
    """The run store (one per server process): SQLite, or PostgreSQL when PLAYGROUND_DATABASE_URL is set."""
    return shared_store()


@st.cache_resource
def manager() -> JobManager:
    """The JobManager (one per server): caps running jobs, reaps abandoned ones, stops all at exit."""
    # A class server can allow more simultaneous runs than the default; each takes one CPU thread.
    return JobManager(max_running=int(os.environ.get("PLAYGROUND_MAX_RUNS", "8")), store=store())


def _flat(spec: Spec) -> dict[str, object]:
    out = {"seed": spec.seed}
    for section in SECTIONS:
        for f in dataclasses.fields(SECTIONS[section]):
            out[f"{section}.{f.name}"] = getattr(getattr(spec, section), f.name)
    return out


def load_into_widgets(prefix: str, spec: Spec) -> None:
    """Set every widget key `prefix.section.field` from the spec (tuples become lists)."""
    for k, v in _flat(spec).items():
        st.session_state[f"{prefix}.{k}"] = list(v) if isinstance(v, tuple) else v


def widget_value(prefix: str, dotted: str):
    """Current value of the widget bound to a spec field."""
    return st.session_state.get(f"{prefix}.{dotted}")
