"""Per-server singletons, the app's private session-state keys, and the spec <-> widget <-> URL plumbing.

Every private (non-widget) session-state key is named here. Widget keys are `<prefix>.<name>`, with
`<prefix>.<section>.<field>` for widgets bound to a spec field; private per-page keys are `<prefix>._<name>`.

A page's settings live in one place per page and browser session: `SETTINGS[prefix]` (plain session state,
which Streamlit never drops), every settable widget value of the page under its widget key. Streamlit drops a
widget's key in any run that does not draw it (a page switch, a control shown only for some choices, a run
stopped early) and may keep a stale copy under it, so the widget key is never the only copy:
`enter_page(prefix)` writes every setting the browser did not send this run back from SETTINGS before the page
draws a widget, and `save_page()` copies the page's widget values into SETTINGS
at the end of every run and live redraw (merged: a value whose widget was not drawn stays). Every keyed widget
is drawn with its value as its default (`st_internals.draw_widgets_at_their_values`), so a widget the browser
draws afresh shows the page's setting, never its minimum. A page gets this from the scaffold without a line of
its own. A refresh starts a new session; the URL (spec, `run=` and a
page's UI values) restores it.
"""

from __future__ import annotations

import dataclasses
import os

import streamlit as st

from core.jobs import JobManager
from core.spec import SECTIONS, Spec
from core.store import Store, shared_store
from ui.st_internals import fresh_this_run, raw_state, session_keys, widget_values

CURRENT_PAGE = "_current_page"  # url path of the page being shown
SHOWN_PREFIX = "_shown_prefix"  # widget prefix of the page this run shows (set by enter_page)
SETTINGS = "_settings"  # prefix -> {widget key: value}: each page's settings, the copy Streamlit never drops
JOB_PAGES = "_job_pages"  # job id -> url path of the page that owns it
PRESENT = "_present"  # presentation mode (the sidebar toggle's key; ?present=1)
HIDE = "_hide"  # control groups a locked-lesson link hides (?hide=data,network)
PARKED = "_parked"  # prefix -> {key: value}: the setting keys of the pages not shown (see `_park`)


# A page's private keys, `<prefix>._<name>` (see `private`):
#   job          the page's job id                  preset      the lesson its settings came from
#   preset_choice.<n> the lesson box (a widget)     initial     the link has been read this session
#   lesson_box   the lesson box's number <n> (a new box each time the lesson changes other than through it)
#   reload_lesson the lesson box's Reload lesson button
#   setting_keys the widgets the page's `settings` has drawn since the lesson loaded (what `lesson_changed` compares)
#   changed      settings a widget had to change    layers, next_uid, new_type   the CNN layer editor
#   was_running  the live view's last state         lesson_values  the settings as the lesson loaded them
#   pressed      the control pressed (Play, Pause, Step, Reset), set by its button's callback


def private(prefix: str, name: str) -> str:
    """A page's private session-state key (not a spec field): `<prefix>._<name>`."""
    return f"{prefix}._{name}"


def job_key(prefix: str) -> str:
    """The page's job id."""
    return private(prefix, "job")


def preset_key(prefix: str) -> str:
    """The lesson preset the page's settings came from (its note is shown)."""
    return private(prefix, "preset")


def start_run() -> None:
    """Forget which page the last run showed (call first in every full run, before the page)."""
    st.session_state.pop(SHOWN_PREFIX, None)


def page_settings(prefix: str) -> dict[str, object]:
    """The page's settings: widget key -> value (the one copy; see the module docstring)."""
    return st.session_state.setdefault(SETTINGS, {}).setdefault(prefix, {})


def enter_page(prefix: str) -> None:
    """Before the page draws a widget: every setting the browser did not send and no callback set this run is
    written from the page's settings (Streamlit dropped it, or kept a stale copy); mark the page as shown (so
    `save_page` saves it). The other pages' keys are parked (see `_park`)."""
    parked = st.session_state.setdefault(PARKED, {})
    for key, value in parked.pop(prefix, {}).items():
        if key not in st.session_state:
            st.session_state[key] = value
    for key, value in page_settings(prefix).items():
        if not fresh_this_run(key):
            st.session_state[key] = value
    st.session_state[SHOWN_PREFIX] = prefix
    _park(prefix, parked)


def _park(prefix: str, parked: dict) -> None:
    """Move the other pages' setting keys (`<prefix>.<name>`, not private ones) out of session state into
    `parked`, until their page is entered again; drop their widgets' values (as Streamlit does at the end of a
    run that did not draw them; the settable ones are in SETTINGS).

    Streamlit scans every session-state key each time a page draws a widget: with every page's settings left
    in place (some 860 keys after a tour), that scan was a quarter of each run's time.
    """
    pages = set(st.session_state.get(SETTINGS, {})) - {prefix}
    for key, widget in session_keys():
        if not isinstance(key, str):
            continue
        head, dot, rest = key.partition(".")
        if not (dot and head in pages and not rest.startswith("_")) or key not in st.session_state:
            continue
        value = st.session_state.pop(key)
        if not widget:  # a setting of the page's spec no widget draws, a value kept by hand
            parked.setdefault(head, {})[key] = value


def forget(prefix: str, start: str) -> None:
    """Drop the settings whose widget key starts with `start` (widgets that will never be drawn again)."""
    settings = page_settings(prefix)
    for key in [k for k in [*settings, *st.session_state] if isinstance(k, str) and k.startswith(start)]:
        settings.pop(key, None)
        st.session_state.pop(key, None)


def save_page(live: bool = False) -> None:
    """Copy the shown page's widget values into its settings (at the end of every run and live redraw).

    Merged, never replaced: a run that stopped before drawing some widgets (or a redraw that draws only the
    live view's, `live=True`) leaves their saved values as they were. A lesson just loaded is remembered as
    loaded (`lesson_values`), so the page can say when the student has changed it.

    It reads and writes the state past Streamlit's stop check (`raw_state`): after `st.stop()` every
    `st.session_state` access raises again, and a run stopped early (Transfer's pretraining step, the
    Playground waiting for a CSV) used to save nothing, so a tour of the pages lost every setting.
    """
    state = raw_state()
    prefix = state[SHOWN_PREFIX] if SHOWN_PREFIX in state else None
    if not prefix:
        return
    if SETTINGS not in state:
        state[SETTINGS] = {}
    settings = state[SETTINGS].setdefault(prefix, {})
    settings.update(widget_values(f"{prefix}.", this_run_only=live))
    lesson = private(prefix, "lesson_values")
    if not live and lesson in state and state[lesson] is None:
        state[lesson] = dict(settings)


@st.cache_resource
def store() -> Store:
    """The run store (one per server process): SQLite, or PostgreSQL when PLAYGROUND_DATABASE_URL is set."""
    return shared_store()


@st.cache_resource
def manager() -> JobManager:
    """The JobManager (one per server): caps running jobs, reaps abandoned ones, stops all at exit."""
    # A class server can allow more simultaneous runs than the default; each takes one CPU thread.
    return JobManager(
        max_running=int(os.environ.get("PLAYGROUND_MAX_RUNS", "8")), store=store(), workers=worker_processes()[0]
    )


def worker_processes() -> tuple[int, str]:
    """Processes that train the jobs (PLAYGROUND_WORKERS; default one per core; 0: threads of the server itself),
    and what is wrong with the setting, if anything."""
    default = os.cpu_count() or 1
    raw = os.environ.get("PLAYGROUND_WORKERS", "").strip()
    if not raw:
        return default, ""
    if raw.isdigit() and int(raw) <= 256:
        return int(raw), ""
    return default, f"PLAYGROUND_WORKERS={raw!r} is not a whole number from 0 to 256; {default} is used."


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
