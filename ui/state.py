"""Per-server singletons and the spec <-> widget-state <-> URL plumbing every page shares."""

from __future__ import annotations

import dataclasses
import os

import streamlit as st

from core.jobs import JobManager
from core.presets import load_preset
from core.spec import SECTIONS, Spec, from_query, to_query
from core.store import Store


@st.cache_resource
def store() -> Store:
    """The SQLite run store (one per server)."""
    return Store()


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


def initial_spec(prefix: str, default: Spec) -> Spec:
    """The spec a page starts from: ?preset=, else the URL's spec keys, else `default`. Once per session."""
    key = f"{prefix}._initial"
    if key not in st.session_state:
        q = st.query_params.to_dict()
        spec, problems = default, []
        if "preset" in q:
            try:
                spec = load_preset(q["preset"]).spec
                st.session_state[f"{prefix}._preset"] = q["preset"]
            except KeyError:
                problems.append(f"preset {q['preset']!r} does not exist; the default settings are shown")
        elif any(k == "seed" or "." in k for k in q):
            spec, problems = from_query(q)
        st.session_state[key] = spec
        st.session_state[f"{prefix}._problems"] = problems
        load_into_widgets(prefix, spec)
    for p in st.session_state.pop(f"{prefix}._problems", []):
        st.warning(f"Ignored a bad setting in the link: {p}")
    return st.session_state[key]


def load_into_widgets(prefix: str, spec: Spec) -> None:
    """Set every widget key `prefix.section.field` from the spec (tuples become lists)."""
    for k, v in _flat(spec).items():
        st.session_state[f"{prefix}.{k}"] = list(v) if isinstance(v, tuple) else v


def widget_value(prefix: str, dotted: str):
    """Current value of the widget bound to a spec field."""
    return st.session_state.get(f"{prefix}.{dotted}")


def sync_url(spec: Spec, **extra: str) -> None:
    """Write the spec (and extras such as run=) to the URL, so the address bar is a share link."""
    # The dataset is always written, so a link is never mistaken for "no settings" (the page's own default).
    want = {"data.name": spec.data.name} | to_query(spec) | {k: v for k, v in extra.items() if v}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)
