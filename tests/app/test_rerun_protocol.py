"""Rerun requests a browser sends while a page redraws live run what the student meant (Streamlit's own protocol
against a real server, no browser).

- A page switch while the page left still redraws: the browser can send one more of the left page's `run_every`
  reruns after the click (its timer was set by a message already on its way). Streamlit ran that rerun after the
  new page, and the browser, seeing a run of another page start, cleared the page it had just drawn.
- A click outside the live view sent in the same moment as a message of a chart inside it: the browser sends
  both as one rerun of the live view alone, and the page never acted on the click.

`ui.st_internals.guard_rerun_requests` drops the first and runs the second as a whole-page rerun; these tests
send the requests as that browser did.
"""

import asyncio

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.app.protocol import app_server, connect, receive, rerun, until_quiet

APP = """
import time
import streamlit as st
from ui.st_internals import guard_rerun_requests

if {guard}:
    guard_rerun_requests()


def left():
    @st.fragment(run_every=0.2)
    def live():
        st.write("live view of the page left")

    live()


def new():
    time.sleep(1.0)  # a page that takes a moment to draw: the left page's rerun arrives meanwhile
    st.write("the new page")
    if st.toggle("Presentation mode", key="present"):  # outside the live view, as the sidebar's toggle
        st.write("presenting")

    @st.fragment(run_every=0.5)
    def live():
        st.write("live view of the new page")

    live()


st.navigation([st.Page(left, title="Left", url_path="left", default=True), st.Page(new, title="New", url_path="new")]).run()
"""


async def switch_while_the_left_page_redraws(url: str) -> tuple[list[str], list[str], dict[str, str]]:
    """Open the default page, then send a switch to the new page and, right after, the left page's timer rerun.
    Returns the pages of the runs that started after the switch, the texts drawn then, and the pages' hashes."""
    async with connect(url) as ws:
        await ws.send(rerun(page_name=""))
        pages, fragment = {}, None
        while fragment is None or not pages:
            msg = await receive(ws, 60)
            if msg.WhichOneof("type") == "navigation":  # the default page's address is ""
                pages = {p.page_script_hash: p.url_pathname or "left" for p in msg.navigation.app_pages}
            if msg.WhichOneof("type") == "auto_rerun":
                fragment = msg.auto_rerun.fragment_id
        by_path = {path: h for h, path in pages.items()}
        await ws.send(rerun(page_script_hash=by_path["new"]))
        await ws.send(rerun(page_script_hash=by_path["left"], fragment_id=fragment, is_auto_rerun=True))
        started, texts = [], []
        for msg in await until_quiet(ws):
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                started.append(pages.get(msg.new_session.page_script_hash, "?"))
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                if msg.delta.new_element.WhichOneof("type") == "markdown":
                    texts.append(msg.delta.new_element.markdown.body)
        return started, texts, pages


async def open_by_address_then_redraw(url: str) -> list[list[str]]:
    """Open the new page by its address (no page hash yet), then send its own timer's rerun as the browser does
    (with the page's hash from the navigation message). Returns the fragments of each run that started then."""
    async with connect(url) as ws:
        await ws.send(rerun(page_name="new"))
        page, fragment, finished = None, None, False
        while not (page and fragment and finished):
            msg = await receive(ws, 60)
            kind = msg.WhichOneof("type")
            page = msg.navigation.page_script_hash if kind == "navigation" else page
            fragment = msg.auto_rerun.fragment_id if kind == "auto_rerun" else fragment
            finished = finished or kind == "script_finished"
        await ws.send(rerun(page_script_hash=page, fragment_id=fragment, is_auto_rerun=True))
        return [
            list(m.metadata.run.fragment_ids) for m in await until_quiet(ws) if m.WhichOneof("type") == "new_session"
        ]


async def toggle_sent_with_the_live_view(url: str) -> tuple[list[list[str]], list[str]]:
    """Open the new page, then send the toggle's change named after the live view's fragment, as the browser does
    when the toggle's click and a chart's message go out together. Returns the fragments of each run that started
    then (an empty list: the whole page) and the texts drawn."""
    async with connect(url) as ws:
        await ws.send(rerun(page_name="new"))
        page, fragment, toggle, finished = None, None, None, False
        while not (page and fragment and toggle and finished):
            msg = await receive(ws, 60)
            kind = msg.WhichOneof("type")
            page = msg.navigation.page_script_hash if kind == "navigation" else page
            fragment = msg.auto_rerun.fragment_id if kind == "auto_rerun" else fragment
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                toggle = msg.delta.new_element.checkbox.id or toggle
            finished = finished or kind == "script_finished"

        def live_view_rerun(on: bool, auto: bool) -> bytes:
            request = BackMsg()
            request.rerun_script.page_script_hash = page
            request.rerun_script.fragment_id = fragment
            request.rerun_script.is_auto_rerun = auto
            state = request.rerun_script.widget_states.widgets.add()
            state.id, state.bool_value = toggle, on
            return request.SerializeToString()

        await ws.send(live_view_rerun(on=False, auto=True))  # a timer's rerun: the toggle as drawn
        await until_quiet(ws, 1.5)
        await ws.send(live_view_rerun(on=True, auto=False))  # the click, named after the live view
        runs, texts = [], []
        for msg in await until_quiet(ws):
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                runs.append(list(msg.metadata.run.fragment_ids))
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                if msg.delta.new_element.WhichOneof("type") == "markdown":
                    texts.append(msg.delta.new_element.markdown.body)
        return runs, texts


@pytest.fixture(scope="module", params=[True, False], ids=["guarded", "streamlit alone"])
def server(request, tmp_path_factory):
    with app_server(APP.format(guard=request.param), tmp_path_factory.mktemp("app")) as url:
        yield request.param, url


@pytest.fixture
def switch(server):
    guarded, url = server
    return guarded, asyncio.run(switch_while_the_left_page_redraws(url))


def test_a_rerun_of_the_page_left_does_not_clear_the_new_page(switch):
    guarded, (started, texts, pages) = switch
    assert set(pages.values()) == {"left", "new"}
    if guarded:
        assert started == ["new"], started  # no run of the page left: the browser keeps the new page drawn
        assert "the new page" in texts
    else:  # what the guard is for: Streamlit alone starts a run of the page left, which clears the new page
        assert "left" in started, started  # (once Streamlit drops such reruns itself, this fails: the guard can go)


def test_a_page_opened_by_its_address_keeps_redrawing(server):
    """The browser names a page opened from a link by its address, then by the hash the navigation gave it: the
    page's own timer reruns are run, guard or not."""
    _, url = server
    runs = asyncio.run(open_by_address_then_redraw(url))
    assert runs and runs[0], runs  # a run of the fragment alone started


def test_a_click_outside_the_live_view_sent_with_it_runs_the_whole_page(server):
    guarded, url = server
    runs, texts = asyncio.run(toggle_sent_with_the_live_view(url))
    if guarded:
        assert [] in runs, runs  # a run of the whole page
        assert "presenting" in texts, texts  # the page acted on the toggle
    else:  # what the guard is for: Streamlit alone reruns the live view only, and the toggle does nothing
        assert runs and all(runs), runs
        assert "presenting" not in texts
