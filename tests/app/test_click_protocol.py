"""A click that reaches the server while a run is ending is acted on (Streamlit's own protocol against a real server,
no browser).

With Streamlit's fast reruns a click starts a new run at once beside the one in progress; when that one ended
in the same moment, it cleared the buttons' clicks of the session state both share, and the new run found its
button not pressed: Step, Play or Pause did nothing (the browser suite saw it about once a run; the server's
rerun trace showed the old run ending 2 ms after the new one started). The window is too narrow to hit on
purpose, so the project's `.streamlit/config.toml` turns fast reruns off and this test checks that it costs
nothing: a click that arrives while a run is busy still runs, once that run is over.
"""

import asyncio
import tomllib
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg

from tests.app.protocol import app_server, connect, receive, rerun, until_quiet

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"

APP = """
import time
import streamlit as st

time.sleep(1.5)  # a run that takes a moment before its button
if st.button("Step", key="step"):
    st.write("stepped")
time.sleep(0.5)  # and ends with no Streamlit call: the click arrives meanwhile
"""


async def click_while_the_run_ends(url: str) -> list[str]:
    """Open the app, click Step as soon as it is drawn (its run still going); the texts drawn afterwards."""
    async with connect(url) as ws:
        await ws.send(rerun(page_name=""))
        button = None
        while not button:
            msg = await receive(ws, 60)
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                button = msg.delta.new_element.button.id or None
        click = BackMsg()
        pressed = click.rerun_script.widget_states.widgets.add()
        pressed.id, pressed.trigger_value = button, True
        await ws.send(click.SerializeToString())
        return [
            m.delta.new_element.markdown.body
            for m in await until_quiet(ws)
            if m.WhichOneof("type") == "delta" and m.delta.new_element.WhichOneof("type") == "markdown"
        ]


def fast_reruns_in_the_project() -> bool:
    return tomllib.loads(CONFIG.read_text()).get("runner", {}).get("fastReruns", True)


def test_a_click_during_the_end_of_a_run_is_acted_on(tmp_path):
    assert not fast_reruns_in_the_project()
    with app_server(APP, tmp_path, env={"STREAMLIT_RUNNER_FAST_RERUNS": "false"}) as url:
        texts = asyncio.run(click_while_the_run_ends(url))
    assert "stepped" in texts, texts
