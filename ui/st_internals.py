"""The Streamlit internals the app relies on, in one place.

Streamlit has no public API for these; an upgrade may move or remove them. `tests/app/test_st_internals.py`
calls each one against the installed Streamlit, so an upgrade that breaks one fails that test by name
instead of a page misbehaving in class.

- `PagesManager.uses_pages_directory`: Streamlit runs a `pages/` folder in its legacy multipage mode
  (each file alone, no router) until some run calls `st.navigation`.
- `Runtime.instance().is_active_session(id)`: whether a browser session is still connected.
- `get_script_run_ctx().session_id`: the id of the browser session running this script.
- `SessionManager.get_active_session_info(id).session._browser_queue`: the messages a session's run has
  produced that the server has not yet taken to send (Streamlit drops them when the next run starts first).
- `get_session_state()._state`: the session state without the stop check `st.session_state` makes on every
  access (after `st.stop()` each access raises StopException again, so a `finally` could never save).
- `SessionState._new_session_state` and `_new_widget_state` at the start of a run: what callbacks set and what
  the browser sent for this run (`fresh_this_run`).
- `SessionState._keys()`, `_key_id_mapper` and `_new_widget_state.widget_metadata`: which session-state keys
  belong to widgets, and of what kind (a button's value cannot be set from session state).
- `get_script_run_ctx().shared.widget_ids_this_run`: the widgets drawn so far in this run.
- `app_session._populate_theme_msg` and `config._config_options`: the theme part of every run's first message,
  and the config it is read from.
- `AppSession._handle_rerun_script_request(client_state)` (a browser's rerun request) and
  `AppSession._handle_scriptrunner_event_on_event_loop` (a run's messages: its `navigation` names the page shown):
  where a fragment rerun asked for a page the browser has left is dropped, and one that carries a change to a
  widget outside its fragment is run as a whole-page rerun (`guard_rerun_requests`).
- `AppSession._session_state._new_widget_state.widget_metadata[id].fragment_id`: the fragment a widget
  was drawn in (None outside every fragment).
- `DeltaGenerator.<widget command>` and the module-level commands bound to `streamlit._main`: wrapped once by
  `draw_widgets_at_their_values` (see there).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time

import streamlit
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime import Runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.state.session_state_proxy import get_session_state

TRACE = os.environ.get("PLAYGROUND_TRACE_RERUNS") == "1"

# Widget value kinds that session state cannot set: buttons and other one-shot triggers, uploaded files.
UNSETTABLE = frozenset(
    {"trigger_value", "string_trigger_value", "json_trigger_value", "chat_input_value", "file_uploader_state_value"}
)


def legacy_pages_mode() -> bool:
    """True while Streamlit would run a pages/ file on its own, without the app's router."""
    return bool(PagesManager.uses_pages_directory)


def leave_legacy_pages_mode() -> None:
    """Send every later run through the router (app.py's st.navigation)."""
    PagesManager.uses_pages_directory = False


def session_id() -> str:
    """The id of the browser session running this script ('' outside a script run)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else ""


def session_alive(sid: str) -> bool:
    """Whether the browser session `sid` is still connected (False without a server, e.g. under AppTest)."""
    if not sid or not Runtime.exists():
        return False
    return bool(Runtime.instance().is_active_session(sid))


def wait_until_sent(timeout: float) -> bool:
    """Wait (asleep) until the server has taken everything this run has drawn so far to send; False on timeout.

    A fragment that reruns on a timer starts its next run as soon as the last one ends when the server is
    busy; Streamlit then drops the last run's messages not yet sent, and the browser sees no redraw at all.
    Waiting here delivers each redraw before the next one starts (True at once without a server, e.g. AppTest).
    """
    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return True
    manager = getattr(Runtime.instance(), "_session_mgr", None)  # AppTest's runtime is a stand-in without one
    info = manager.get_active_session_info(ctx.session_id) if manager is not None else None
    if info is None:
        return True
    queue = info.session._browser_queue
    deadline = time.monotonic() + timeout
    while len(queue):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def cache_theme_messages() -> None:
    """Build the theme part of Streamlit's per-run `new_session` message once per config, not on every run.

    Streamlit rebuilds it from the config for every run, fragment runs included: with a class training it was a
    fifth of the server's event-loop time (docs/benchmarks.md). The config is read once at start here (no file
    watcher), so the message is the same each time; a new config (a new options dict) builds it again.
    """
    from streamlit import config
    from streamlit.runtime import app_session

    original = app_session._populate_theme_msg
    if getattr(original, "streamlit_original", None):  # already built once per config
        return
    built: dict[tuple[str, int], bytes] = {}

    def populate(msg, section: str = "theme") -> None:
        key = (section, id(config._config_options))
        if key not in built:
            fresh = type(msg)()
            original(fresh, section)
            built[key] = fresh.SerializeToString()
        if built[key]:  # an unset theme section leaves the message untouched, as Streamlit does
            msg.MergeFromString(built[key])

    populate.streamlit_original = original
    app_session._populate_theme_msg = populate


def guard_rerun_requests() -> None:
    """Route a browser's rerun requests the way the student meant them (once per process).

    - A fragment rerun asked for a page other than the one the browser was last sent to is dropped. A page
      redrawn while the student clicks to another page sends one more `run_every` timer to the browser after
      the click; that timer's rerun names the page left. Streamlit ran it after the new page and the browser,
      seeing a run of another page start, cleared the page it had just drawn: the new page stayed blank, its
      sidebar alone drawn (the browser tours saw it on a loaded server, behind the Gradient lab training).
    - A fragment rerun that carries a change to a widget outside that fragment runs the whole page. The
      browser sends the widget changes of one moment as one request, named after the first one's fragment: a
      click on Pause or on the Presentation toggle that came with a live chart's own message (a chart asking
      for a full copy) went out as a rerun of the live view alone, so the page never acted on it (a lost click:
      the toggle flipped in the browser, the page stayed as it was).
    """
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.scriptrunner import ScriptRunnerEvent

    if getattr(AppSession._handle_rerun_script_request, "streamlit_original", None):
        return
    request, event = AppSession._handle_rerun_script_request, AppSession._handle_scriptrunner_event_on_event_loop

    def handle_request(self, client_state=None) -> None:
        if client_state is not None:
            page = client_state.page_script_hash
            if not client_state.fragment_id:
                self._playground_page = page  # the page the browser asks for ('' when named by its address)
            elif page and getattr(self, "_playground_page", "") not in ("", page):
                _trace(self, "dropped: a rerun of the page left", client_state)
                return  # a timer of the page the browser has left
            changed = _changed_widgets(self, client_state.widget_states)
            if client_state.fragment_id and _outside(self, changed, client_state.fragment_id):
                _trace(self, "whole page instead of its fragment", client_state, changed)
                whole = type(client_state)()
                whole.CopyFrom(client_state)
                whole.fragment_id = ""
                whole.is_auto_rerun = False
                client_state = whole
            else:
                _trace(self, "request", client_state, changed)
        request(self, client_state)

    def handle_event(self, sender, event_type, *args, **kwargs) -> None:
        message = kwargs.get("forward_msg", args[0] if args else None)
        if (
            event_type == ScriptRunnerEvent.ENQUEUE_FORWARD_MSG
            and sender is self._scriptrunner
            and message is not None
            and message.WhichOneof("type") == "navigation"
        ):  # the page the run shows, as the browser will name it (a page opened by its address, st.switch_page)
            self._playground_page = message.navigation.page_script_hash
        if TRACE and event_type != ScriptRunnerEvent.ENQUEUE_FORWARD_MSG:
            _trace(self, f"{event_type.name.lower()}{'' if sender is self._scriptrunner else ' (a runner replaced)'}")
        event(self, sender, event_type, *args, **kwargs)

    handle_request.streamlit_original = request
    AppSession._handle_rerun_script_request = handle_request
    AppSession._handle_scriptrunner_event_on_event_loop = handle_event


def _trace(session, what: str, client_state=None, changed=()) -> None:
    """With PLAYGROUND_TRACE_RERUNS=1, one line on stderr per rerun request and run event (the browser tests read
    it when a click is not acted on)."""
    if not TRACE:
        return
    line = f"rerun trace {time.time():.3f} session {session.id[:8]}: {what}"
    if client_state is not None:
        names = [w.split("-")[-1] or w for w in changed]
        line += f" fragment={client_state.fragment_id[:8] or '-'} auto={client_state.is_auto_rerun} changed={names}"
    print(line, file=sys.stderr, flush=True)


def _changed_widgets(session, widget_states) -> list[str]:
    """The widgets this request changes: a button or other trigger that fires, and every widget whose state
    differs from the session's last request. A widget the last request did not carry is not counted: the
    browser sends each widget drawn since, at its value as drawn (counted, the first live redraw after every
    page drawn became a run of the whole page)."""
    sent = {w.id: w.SerializeToString(deterministic=True) for w in widget_states.widgets}
    last = getattr(session, "_playground_widgets", {})
    session._playground_widgets = sent
    fired = {w.id for w in widget_states.widgets if _fires(w)}
    return [wid for wid, value in sent.items() if wid in fired or last.get(wid, value) != value]


def _fires(widget_state) -> bool:
    """A trigger (a button's click, a chat message...) set in this request."""
    kind = widget_state.WhichOneof("value")
    if kind not in UNSETTABLE - {"file_uploader_state_value"}:
        return False
    value = getattr(widget_state, kind)
    return bool(value.ListFields()) if hasattr(value, "ListFields") else bool(value)


def _outside(session, widget_ids: list[str], fragment_id: str) -> bool:
    """Whether one of these widgets was drawn outside fragment `fragment_id` (one the server does not know is
    not counted: it has not been drawn yet)."""
    metadata = session._session_state._new_widget_state.widget_metadata
    drawn_in = [metadata[w].fragment_id for w in widget_ids if w in metadata]
    return any(f != fragment_id for f in drawn_in)


# Widget commands -> the argument naming what the widget shows when the browser draws it holding no value for it.
DRAWN_AT = {
    "number_input": "value",
    "slider": "value",
    "select_slider": "value",
    "toggle": "value",
    "checkbox": "value",
    "text_input": "value",
    "selectbox": "index",
    "radio": "index",
    "multiselect": "default",
    "pills": "default",
    "segmented_control": "default",
}


def draw_widgets_at_their_values() -> None:
    """Make every keyed widget carry its session-state value as its default (in place of its value argument).

    Streamlit's default for such a widget is its minimum (a number box, a slider), its first option or off, and
    that default goes into the element the browser gets. The browser shows it whenever it draws the widget
    afresh holding no value for it: it drops held values after a page change or a run whose page lacks the
    widget. A box drawn that way showed its minimum (Points 10, Batch size 1) until the next run, and a Play
    pressed then would have sent the minimums. With the value as default, a widget drawn afresh shows the page's
    setting. A key is the widget's identity (with its range, for a slider), so a changing default makes no new
    widget; and Streamlit takes a keyed widget's value from session state whatever its default, so this changes
    what a widget drawn afresh shows and nothing else. Once per process.
    """
    if getattr(DeltaGenerator, "_drawn_at_values", False):
        return
    for name, arg in DRAWN_AT.items():
        setattr(DeltaGenerator, name, _at_value(getattr(DeltaGenerator, name), name, arg))
        setattr(streamlit, name, getattr(streamlit._main, name))  # st.<name> is bound to the main area at import
    DeltaGenerator._drawn_at_values = True


def _at_value(command, name: str, arg: str):
    signature = inspect.signature(command)

    @functools.wraps(command)
    def draw(self, *args, **kwargs):
        call = signature.bind_partial(self, *args, **kwargs)
        key, state = call.arguments.get("key"), raw_state()
        if (
            isinstance(key, str)
            and key in state
            and (shown := _as_default(name, state[key], call.arguments)) is not None
        ):
            call.arguments[arg] = shown
            return command(*call.args, **call.kwargs)
        return command(self, *args, **kwargs)

    return draw


def _as_default(name: str, value, a: dict):
    """`value` as widget `name`'s default argument, or None when the widget cannot take it as one."""
    if value is None:
        return None
    if name in ("toggle", "checkbox"):
        return value if isinstance(value, bool) else None
    if name == "text_input":
        return value if isinstance(value, str) else None
    if name in ("number_input", "slider"):
        return _number(value, a)
    options = list(a.get("options", ()))
    if name in ("selectbox", "radio"):
        return options.index(value) if value in options else None
    many = name == "multiselect" or a.get("selection_mode") == "multi" or name == "select_slider"
    if many and isinstance(value, (list, tuple)):
        fits = all(v in options for v in value) and (name != "select_slider" or len(value) == 2)
        return (tuple(value) if name == "select_slider" else list(value)) if fits else None
    return value if value in options else None


def _number(value, a: dict):
    """A number (or a slider's pair) of the widget's own type within its range, else None."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return None
    bounds = [a.get(n) for n in ("min_value", "max_value", "step")]
    cast = (
        float if any(isinstance(b, float) for b in bounds) else int if any(isinstance(b, int) for b in bounds) else None
    )
    lo, hi = bounds[0], bounds[1]
    if any((lo is not None and v < lo) or (hi is not None and v > hi) for v in values):
        return None
    if cast is int and any(v != int(v) for v in values):
        return None
    values = [cast(v) for v in values] if cast else values
    return tuple(values) if isinstance(value, (list, tuple)) else values[0]


def raw_state():
    """This session's state past Streamlit's stop check: usable in a `finally` after `st.stop()`."""
    return get_session_state()._state


def fresh_this_run(key: str) -> bool:
    """Whether `key`'s value in session state is this run's own: set by a callback before the run, or sent by the
    browser for a widget it shows. Anything else may be a stale copy Streamlit kept under the key (a value set
    from session state before its widget existed outlives the widget)."""
    state = raw_state()
    if key in state._new_session_state:
        return True
    wid = state._key_id_mapper.get_id_from_key(key, None)
    return wid is not None and wid in state._new_widget_state


def session_keys() -> list[tuple[str, bool]]:
    """Every key in this session's state as (key, is a widget's), a widget's given by its key, not its id."""
    state = raw_state()
    ids = state._key_id_mapper.id_key_mapping
    return [(ids.get(k, k), k in ids) for k in list(state._keys())]


def widget_values(prefix: str, this_run_only: bool = False) -> dict[str, object]:
    """Current values of the settable widgets whose key starts with `prefix` (buttons and uploads left out).

    `this_run_only`: only the widgets drawn so far in this run (a fragment's: reading every widget of the page
    on each live redraw cost a sixth of the server's time with a class training).
    """
    state = raw_state()
    ids = state._key_id_mapper
    meta = state._new_widget_state.widget_metadata
    if this_run_only:
        ctx = get_script_run_ctx()
        drawn = ctx.shared.widget_ids_this_run.snapshot() if ctx else ()
        keys = [k for w in drawn if (k := ids.id_key_mapping.get(w))]
    else:
        keys = [k for k, _ in session_keys()]
    out = {}
    for key in keys:
        if not (isinstance(key, str) and key.startswith(prefix)):
            continue
        wid = ids.get_id_from_key(key, None)
        kind = meta.get(wid) if wid else None
        if kind is None or kind.value_type is None or kind.value_type in UNSETTABLE:
            continue  # not a settable widget, or one known only by id (an uploader's placeholder, seen in AppTest)
        try:
            out[key] = state[key]
        except KeyError:  # a widget whose value the browser has not sent yet
            pass
    return out
