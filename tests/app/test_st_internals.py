"""The Streamlit internals the app relies on (ui/st_internals.py) exist in the installed Streamlit."""

import math
import tomllib
from pathlib import Path

from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.state.session_state import SessionState
from streamlit.testing.v1 import AppTest

from core.data.upload import MAX_UPLOAD_BYTES
from ui import st_internals

ROOT = Path(__file__).resolve().parents[2]


def test_internals_exist():
    """Every private name ui/st_internals.py touches is still there (an upgrade that removes one fails here)."""
    assert isinstance(PagesManager.uses_pages_directory, (bool, type(None)))
    assert callable(Runtime.instance) and callable(Runtime.exists)
    assert hasattr(Runtime, "is_active_session")
    state = SessionState()
    assert hasattr(state, "_key_id_mapper") and hasattr(state._key_id_mapper, "get_id_from_key")
    assert hasattr(state._new_widget_state, "widget_metadata")
    assert hasattr(state, "_new_session_state") and callable(state._keys)
    # guard_rerun_requests (its behaviour: tests/app/test_page_switch_protocol.py)
    assert callable(AppSession._handle_rerun_script_request)
    assert callable(AppSession._handle_scriptrunner_event_on_event_loop)


def test_legacy_mode_switch_round_trips():
    before = PagesManager.uses_pages_directory
    try:
        PagesManager.uses_pages_directory = True
        assert st_internals.legacy_pages_mode()
        st_internals.leave_legacy_pages_mode()
        assert not st_internals.legacy_pages_mode()
    finally:
        PagesManager.uses_pages_directory = before


def test_session_helpers_outside_a_server():
    """No script run: no session id, and no session is alive (no exception either)."""
    assert st_internals.session_id() == ""
    assert st_internals.session_alive("") is False
    assert st_internals.session_alive("no-such-session") is False


def test_widget_values_keeps_settable_widgets_only():
    """Inside a real script run: sliders and toggles are kept; buttons and uploads (unsettable) are not."""
    script = """
import streamlit as st
from ui.st_internals import widget_values
st.slider("s", 0, 10, key="p.s")
st.toggle("t", key="p.t")
st.button("b", key="p.b")
st.file_uploader("u", key="p.u")
st.session_state["seen"] = widget_values("p.")
"""
    at = AppTest.from_string(script).run()
    at.slider(key="p.s").set_value(7).run()
    assert at.session_state["seen"] == {"p.s": 7, "p.t": False}


def test_widget_values_of_this_run_only_reads_the_fragments_widgets():
    """Only the widgets drawn so far in this run are read (in a fragment run: the fragment's own)."""
    script = """
import streamlit as st
from ui.st_internals import widget_values
@st.fragment
def live():
    st.slider("inside", 0, 10, key="p.in")
    st.session_state["seen"] = widget_values("p.", this_run_only=True)
live()
st.slider("drawn later", 0, 10, key="p.out")
"""
    at = AppTest.from_string(script).run()
    assert at.session_state["seen"] == {"p.in": 0}
    at.slider(key="p.in").set_value(4).run()
    assert at.session_state["seen"] == {"p.in": 4}


def test_raw_state_is_readable_after_st_stop():
    """After st.stop() every st.session_state access raises again; the raw state still reads and writes (the
    settings of a page that stops early are saved)."""
    script = """
import streamlit as st
from ui.st_internals import raw_state, widget_values
st.slider("s", 0, 10, key="p.s")
try:
    st.stop()
finally:
    state = raw_state()
    state["saved"] = widget_values("p.")
"""
    at = AppTest.from_string(script).run()
    at.slider(key="p.s").set_value(3).run()
    assert at.session_state["saved"] == {"p.s": 3}


def test_fresh_this_run_tells_sent_and_set_values_from_stale_copies():
    """A widget the browser shows and a value a callback set are this run's; a key whose widget was not drawn
    last run is not (Streamlit may keep a stale copy under it)."""
    script = """
import streamlit as st
from ui.st_internals import fresh_this_run
st.session_state["seen"] = {k: fresh_this_run(k) for k in ("p.shown", "p.hidden", "p.set")}
st.slider("shown", 0, 10, key="p.shown", on_change=lambda: st.session_state.update({"p.set": 1}))
if st.session_state.get("draw_hidden", True):
    st.slider("hidden", 0, 10, key="p.hidden")
"""
    at = AppTest.from_string(script).run()
    at.session_state["draw_hidden"] = False
    at.run()
    at.slider(key="p.shown").set_value(5).run()
    assert at.session_state["seen"] == {"p.shown": True, "p.hidden": False, "p.set": True}


def test_keyed_widgets_are_drawn_with_their_value_as_default():
    """What a browser shows in a widget it draws afresh (its default) is the widget's value, for every kind of
    setting widget, in place of a default given; a value the widget could not take as one and unkeyed widgets are
    left as they are; a default that follows the value makes no new widget (the value typed stays)."""
    script = """
import streamlit as st
from ui.st_internals import draw_widgets_at_their_values
draw_widgets_at_their_values()
c = st.columns(2)[1]
c.number_input("n", 1, 1000, key="p.n")
st.number_input("f", 0.0, 1.0, key="p.f")
st.number_input("out", 0, 5, key="p.out")
st.number_input("given", 0, 100, 50, key="p.given")
st.slider("s", 0.0, 1.0, key="p.s")
st.select_slider("ss", [1, 2, 5, 0], key="p.ss")
st.toggle("t", key="p.t")
st.text_input("ti", key="p.ti")
st.selectbox("sb", ["a", "b", "c"], key="p.sb")
st.radio("r", range(3), key="p.r")
st.multiselect("m", ["x", "y", "z"], key="p.m")
st.pills("pi", ["u", "v"], selection_mode="multi", key="p.pi")
st.segmented_control("sc", ["g", "h"], key="p.sc")
st.number_input("free", 0, 10)
"""
    at = AppTest.from_string(script)
    values = {"p.n": 500, "p.f": 0.25, "p.out": 9, "p.given": 7, "p.s": 0.5, "p.ss": 5, "p.t": True, "p.ti": "hi",
              "p.sb": "c", "p.r": 2, "p.m": ["z", "x"], "p.pi": ["v"], "p.sc": "h"}  # fmt: skip
    for k, v in values.items():
        at.session_state[k] = v
    at.run()
    at.run()  # a rerun, as after a click: the browser sends the values, none is set from the state
    w = {x.key: x for x in at._tree if getattr(x, "key", None)}
    assert w["p.n"].proto.default == 500 and w["p.f"].proto.default == 0.25
    assert w["p.out"].proto.default == 0  # 9 is outside 0-5: Streamlit's own default (the page says so, see controls)
    assert w["p.given"].proto.default == 7
    assert list(w["p.s"].proto.default) == [0.5] and list(w["p.ss"].proto.default) == [2]
    assert w["p.t"].proto.default is True and w["p.ti"].proto.default == "hi"
    assert w["p.sb"].proto.default == 2 and w["p.r"].proto.default == 2
    assert list(w["p.m"].proto.default) == [2, 0] and list(w["p.pi"].proto.default) == [1]
    assert list(w["p.sc"].proto.default) == [1]
    assert at.number_input[-1].proto.default == 0  # unkeyed: untouched
    ids = {k: x.id for k, x in w.items()}
    at.number_input(key="p.n").set_value(42).run()
    w = {x.key: x for x in at._tree if getattr(x, "key", None)}
    assert {k: x.id for k, x in w.items()} == ids
    assert at.number_input(key="p.n").value == 42 and w["p.n"].proto.default == 42


def test_wait_until_sent_returns_at_once_without_a_server():
    """Under AppTest (no Runtime) and outside a run there is nothing to wait for."""
    assert st_internals.wait_until_sent(0.5) is True


def test_cached_theme_messages_are_the_ones_streamlit_builds():
    """Every theme section of a run's first message is what Streamlit itself writes from the project's config."""
    from streamlit import config
    from streamlit.proto.NewSession_pb2 import NewSession
    from streamlit.runtime import app_session

    installed = app_session._populate_theme_msg  # a page run in this process may have installed it already
    original = getattr(installed, "streamlit_original", installed)
    app_session._populate_theme_msg = original
    try:
        st_internals.cache_theme_messages()
        cached = app_session._populate_theme_msg
        st_internals.cache_theme_messages()  # a second call keeps the first wrapper
        assert app_session._populate_theme_msg is cached is not original
        for section in ["theme"] + [f"theme.{c.value}" for c in config.CustomThemeCategories]:
            theirs = NewSession()
            original(theirs.custom_theme, section)
            for _ in range(2):  # built once, then from the cache
                ours = NewSession()
                cached(ours.custom_theme, section)
                assert ours == theirs, section
        built = NewSession()
        cached(built.custom_theme)
        assert built.custom_theme.primary_color == "#4E79A7"  # .streamlit/config.toml
    finally:
        app_session._populate_theme_msg = installed


def test_upload_cap_matches_the_server_setting():
    """The server refuses uploads the CNN page would refuse anyway (server.maxUploadSize is in MB)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == math.ceil(MAX_UPLOAD_BYTES / 10**6)
