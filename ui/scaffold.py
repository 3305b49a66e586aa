"""The page scaffold: everything a page shares, so a page is its widgets plus its `draw(snapshot)`.

A page module reads top to bottom:

    PAGE = PageDef(
        prefix="pg",                      # every widget key starts with "pg." (spec fields: "pg.data.noise")
        name="playground",                # url path, and the `page` of its lesson presets
        title="Playground",
        caption="Build a network on a 2-D dataset, press Play, ...",
        default="tfp-default",            # the preset a link without settings opens
        load=load,                        # optional: sides -> widgets beyond the spec fields (layer counts)
        views=views, probes=None,         # what the Job computes for draw (core/views/<family>.py)
        actions=(Action("d_step", "D step", ":material/looks_one:", "..."),),   # extra Job.act buttons
        ui_keys=("show_test",),           # UI-only widget values written to the link
    )

    def settings(page: Page) -> list[Spec]:   # the widgets; returns the spec(s) to train (A/B: two)
        with page.section("data", "Data"):
            number_ui(page.prefix, "data.noise", "Noise (%)", slider=True)
        ...
        return [page.spec({"model.hidden": hidden})]   # validated, or the error shown and the page stopped

    def draw(snap: dict) -> None:             # charts from the Job's snapshot; page.job / page.specs for context
        ...

    page = Page(PAGE)
    page.run(settings, draw)                  # the one call

`Page.run` does, in order: the router check; writes back every setting the browser did not send this run
(`ui.state.enter_page`: a page's settings are kept by construction, see ui/state.py); title and caption; on
a session's first visit reads the link (`?preset=`, else the spec keys, B side as `b.<key>`) into the
widgets and says what it could not restore; the lesson box above the charts (the lesson the settings came
from, or "<lesson>, changed"); `settings(page)`; what a widget had to change (`ui.controls.changes`); the
lesson note; the Job (attach, Play/Pause/Step/Reset, the page's `actions` through `job.act`); the URL (`spec`,
`b.` side, `run=`, `ui_keys`, the teacher flags `present=` and `hide=`); then the live view, which
redraws `draw(snapshot)` while the job trains and saves the page's settings each redraw.

Sections named in the link's `?hide=` (e.g. `hide=data,network,training`) are not shown: a locked lesson.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field

import streamlit as st

from core.jobs import Job
from core.presets import PresetError, families, list_presets, load_preset
from core.spec import Spec, from_query, to_query
from ui.controls import changes, controls_ui, preset_select, pressed, spec_from_widgets
from ui.frame import hidden_sections, require_router, teacher_query
from ui.live import apply_action, attach_job, live_view, refusal_ui, status_message
from ui.runs import job_export_ui
from ui.st_internals import raw_state, widget_values
from ui.state import enter_page, forget, job_key, load_into_widgets, page_settings, preset_key, private, save_page


@dataclass(frozen=True)
class Action:
    """An extra button that runs `job.act(name)` while the job is paused (e.g. the GAN's D step)."""

    name: str  # a trainer ACTION
    label: str
    icon: str
    help: str = ""
    done: Callable[[dict], str] | None = None  # snapshot()["action"] -> a toast, or None


@dataclass(frozen=True)
class PageDef:
    """What makes a page itself (see the module docstring)."""

    prefix: str
    name: str
    title: str
    caption: str
    default: str
    load: Callable[[list[Spec]], None] | None = None
    views: Callable | None = None
    probes: Callable | None = None
    actions: tuple[Action, ...] = ()
    ui_keys: tuple[str, ...] = ()
    title_of: Callable[[str | None], str] | None = None


@dataclass
class Page:
    """The running page: its definition, the spec it started from, and (after `settings`) its specs and job."""

    d: PageDef
    job: Job | None = None
    specs: list[Spec] = field(default_factory=list)

    @property
    def base(self) -> Spec:
        """The default lesson's spec: fields the page has no widget for keep these values."""
        return load_preset(self.d.default).spec

    def run(self, settings: Callable[[Page], Iterable[Spec]], draw: Callable[[dict], None]) -> None:
        """Draw the whole page (see the module docstring)."""
        _run(self, settings, draw)

    @property
    def prefix(self) -> str:
        return self.d.prefix

    def key(self, name: str) -> str:
        """The widget key of a page-level name ("show_test" -> "pg.show_test")."""
        return f"{self.d.prefix}.{name}"

    @property
    def preset(self):
        """The lesson preset the settings came from, or None."""
        name = st.session_state.get(preset_key(self.prefix))
        return load_preset(name) if name else None

    def spec(self, overrides: dict | None = None, *, prefix: str | None = None, base: Spec | None = None) -> Spec:
        """The validated spec of the widgets (plus `overrides`); on a bad value the page says which and stops."""
        spec, error = spec_from_widgets(prefix or self.prefix, base or self.base, overrides)
        if error:
            st.error(f"Cannot use these settings: {error}")
            st.stop()
        return spec

    @contextmanager
    def section(self, name: str, label: str, expanded: bool = True, sidebar: bool = True):
        """A group of controls (an expander); hidden when the link's `hide=` names it."""
        if name in hidden_sections():
            with st.container(key=f"{self.prefix}-hidden-{name}"):
                yield
            return
        with st.sidebar if sidebar else st.container():
            with st.expander(label, expanded=expanded):
                yield

    def load(self, sides: list[Spec]) -> None:
        """Put one spec (or the sides A, B, C) into the page's widgets; the end of the run remembers them as the
        lesson's (`lesson_changed`)."""
        load_into_widgets(self.prefix, sides[-1])
        if self.d.load:
            self.d.load(sides)
        st.session_state[private(self.prefix, "lesson_values")] = None
        st.session_state[private(self.prefix, "setting_keys")] = set()

    def lesson_changed(self) -> bool:
        """Whether the student has changed a setting since the lesson (or link) was loaded. A setting is a widget
        the page's `settings` draws (in any run since): the widgets its `draw` shows look at the run, and a value
        they show (the weight box's live weight, the race's last step) is no change to the lesson."""
        loaded = st.session_state.get(private(self.prefix, "lesson_values")) or {}
        drawn = st.session_state.get(private(self.prefix, "setting_keys")) or set()
        now = page_settings(self.prefix)
        skip = {self.key(n) for n in ("speed", *self.d.ui_keys)}
        return any(
            st.session_state.get(k, now.get(k)) != v
            for k, v in loaded.items()
            if k in drawn and k not in skip and not k.startswith(f"{self.prefix}._")
        )


SIDE_KEYS = ("", "b.", "c.")  # link key prefixes of sides A, B and C (a page trains up to three side by side)


def _sides_of_preset(preset) -> list[Spec]:
    other = preset.compare_spec(preset.spec)
    return [other, preset.spec] if other is not None else [preset.spec]


def _from_link(page: Page) -> list[str]:
    """Read the session's first link into the widgets; returns what could not be restored."""
    q = st.query_params.to_dict()
    problems = []
    if "preset" in q:
        try:
            preset = load_preset(q["preset"])
            if preset.page != page.d.name:
                raise KeyError(q["preset"])
            st.session_state[preset_key(page.prefix)] = preset.name
            page.load(_sides_of_preset(preset))
            return []
        except (KeyError, PresetError):
            problems.append(f"there is no lesson {q['preset']!r} on this page; its default lesson is shown")
    elif any(k == "seed" or "." in k for k in q):
        a, problems = from_query({k: v for k, v in q.items() if not k.startswith(SIDE_KEYS[1:])})
        sides = [a]
        for i, side in enumerate(SIDE_KEYS[1:], start=1):  # B, C: only after the ones before them
            if len(sides) < i or not any(k.startswith(side) for k in q):
                continue
            spec, more = from_query({k[len(side) :]: v for k, v in q.items() if k.startswith(side)})
            sides.append(spec)
            problems += [f"{chr(ord('A') + i)}: {p}" for p in more]
        # The network a link is for: the family it names, else the spec's default (a link leaves out defaults).
        named = {q.get(f"{side}model.family", Spec().model.family) for side in SIDE_KEYS[: len(sides)]}
        strange = named - families(page.d.name)
        if not strange:
            for name in page.d.ui_keys:
                if name in q:
                    st.session_state[page.key(name)] = _ui_value(q[name])
            page.load(sides)
            return problems
        problems = [
            f"the link is for a {', '.join(sorted(strange))} network, which this page does not train; "
            "its default lesson is shown"
        ]
    preset = load_preset(page.d.default)
    st.session_state[preset_key(page.prefix)] = preset.name
    page.load(_sides_of_preset(preset))
    return problems


def _ui_value(raw: str):
    return {"1": True, "0": False}.get(raw, raw)


def _on_preset(page: Page, key: str) -> None:
    name = st.session_state.get(key)
    if name in {p.name for p in list_presets(page.d.name)}:
        _load_lesson(page, name)


def _load_lesson(page: Page, name: str) -> None:
    st.session_state[preset_key(page.prefix)] = name
    page.load(_sides_of_preset(load_preset(name)))


def lesson_note(page: Page) -> None:
    """The lesson's title and text above the charts (and whether the student has changed its settings)."""
    preset = page.preset
    if preset:
        since = " You have changed its settings since; Reload lesson loads them again." * page.lesson_changed()
        st.info(f"**{preset.title}.** {preset.lesson}{since}", icon=":material/school:")


def lesson_box(page: Page) -> None:
    """The lesson box above the charts, showing the lesson the settings came from, and Reload lesson, which loads
    that lesson afresh once the student has changed one of its settings (the note below then says so). It is as
    wide as the page, so a lesson's whole title reads in it (a sidebar's box cut the longer ones), and a presenter
    switches lessons without the sidebar.

    A browser sends every widget's value with each request, as it holds it: a request sent before a run reached
    the browser carries the box as it was before that run. Had the run set the box's value, Streamlit would take
    the old value for a choice of that lesson and load it over what the student had just done (CI saw the
    Optimization race come back after a click on Backpropagation, when the box was set on every run). So the box
    shows the lesson by its own identity: when the lesson changes other than through the box (a link, a dataset
    of the student's own, the Playground's network taken), the page draws a new box (a new key) holding it, and a
    value sent for the old box is a value for a widget that is gone, which Streamlit ignores.
    """
    preset = page.preset
    want = preset.name if preset else None
    stem, count = private(page.prefix, "preset_choice") + ".", private(page.prefix, "lesson_box")
    key = f"{stem}{st.session_state.get(count, 0)}"
    if st.session_state.get(key) != want:
        forget(page.prefix, stem)
        st.session_state[count] = st.session_state.get(count, 0) + 1
        key = f"{stem}{st.session_state[count]}"
        st.session_state[key] = want
    changed = preset is not None and page.lesson_changed()
    box, again = st.columns([6, 1], vertical_alignment="bottom")
    with box:
        preset_select(page.d.name, key, lambda: _on_preset(page, key))
    again.button(
        "Reload lesson",
        icon=":material/restart_alt:",
        key=private(page.prefix, "reload_lesson"),
        on_click=lambda: _load_lesson(page, preset.name),
        disabled=not changed,
        help="Load the lesson's settings again: your changes to them are lost.",
        width="stretch",
    )


def sync_url(page: Page, job: Job | None) -> None:
    """Write the specs, the run (if one is attached), the page's UI values and the teacher flags to the address
    bar. A page that stops before it has a job (Transfer before pretraining) calls it with None."""
    a = page.specs[0]
    want = {"data.name": a.data.name} | to_query(a)
    for side, spec in zip(SIDE_KEYS[1:], page.specs[1:]):
        want |= {f"{side}{k}": v for k, v in to_query(spec).items()}
    for name in page.d.ui_keys:
        value = st.session_state.get(page.key(name))
        if value not in (None, False, ""):
            want[name] = "1" if value is True else str(value)
    want |= ({"run": job.id} if job is not None else {}) | teacher_query()
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def _actions_ui(page: Page, job: Job) -> None:
    if not page.d.actions:
        return
    cols = st.columns([1] * len(page.d.actions) + [3])
    for col, act in zip(cols, page.d.actions):
        if col.button(
            act.label, icon=act.icon, key=page.key(act.name), disabled=job.running, width="stretch", help=act.help
        ):
            msg = job.act(act.name)
            if msg:
                st.info(msg)
            elif act.done:
                st.toast(act.done(job.snapshot().get("action") or {}))
    cols[-1].caption(" ".join(a.help for a in page.d.actions if a.help))


def _note_settings(prefix: str) -> None:
    """Add the widgets drawn so far this run (the page's `settings`) to the page's settings since the lesson loaded,
    for `lesson_changed`; past Streamlit's stop check, as `save_page` (a page may stop in its settings)."""
    state, key = raw_state(), private(prefix, "setting_keys")
    state[key] = (state[key] if key in state and state[key] else set()) | set(widget_values(f"{prefix}.", True))


def _run(page: Page, settings: Callable[[Page], Iterable[Spec]], draw: Callable[[dict], None]) -> None:
    d = page.d
    require_router()
    enter_page(d.prefix)
    action = pressed(d.prefix)  # this run's only: a run that stops before the controls drops it
    st.title(d.title)
    st.caption(d.caption)
    if private(d.prefix, "initial") not in st.session_state:
        # Marked read only once every setting is in: a run can be interrupted at any session-state access (a
        # browser's rerun request), and one marked first left the rest of the lesson unread, every widget at
        # its minimum (a tour of the pages saw it).
        problems = _from_link(page)
        st.session_state[private(d.prefix, "initial")] = True
        for p in problems:
            st.warning(f"Ignored a bad setting in the link: {p}", icon=":material/link_off:")
    notes = st.empty()
    lesson = st.container()  # the lesson box and its note, above the page's own widgets
    with lesson:
        lesson_box(page)
    try:
        page.specs = list(settings(page))
    finally:  # also when `settings` stops the page (Transfer before pretraining)
        _note_settings(d.prefix)
    changed = changes(d.prefix)
    if changed:
        notes.warning("Changed to fit this page: " + "; ".join(changed), icon=":material/tune:")
    with lesson:
        lesson_note(page)
    title = st.session_state.get(preset_key(d.prefix)) or d.name
    kw = {"views": d.views, "probes": d.probes, "title": title}
    job = attach_job(d.prefix, page.specs, **kw)
    if job is None:
        st.stop()
    job = apply_action(d.prefix, job, action, page.specs, **kw)
    controls_ui(d.prefix, job.running)  # for the state after the control pressed
    refusal_ui(d.prefix)
    page.job = job
    _actions_ui(page, job)
    sync_url(page, job)
    st.session_state[job_key(d.prefix)] = job.id

    def _draw(snap: dict) -> None:
        status_message(snap)
        draw(snap)
        save_page(live=True)  # a widget inside the live view may have changed without a full run

    live_view(d.prefix, job, _draw)
    job_export_ui(d.prefix, job)
