"""Talk to a real Streamlit server as a browser does, over its websocket (rerun requests in, messages out)."""

import asyncio
import textwrap
from contextlib import contextmanager
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e import server as server_process


@contextmanager
def app_server(source: str, folder: Path, env: dict | None = None):
    """Serve the one-file app `source` from `folder` (the project importable); yields its URL."""
    (folder / "app.py").write_text(textwrap.dedent(source))
    root = str(Path(__file__).resolve().parents[2])
    proc, url = server_process.start(root=folder, env={"PYTHONPATH": root} | (env or {}))
    try:
        yield url
    finally:
        server_process.stop(proc)


def rerun(**client_state) -> bytes:
    msg = BackMsg()
    for name, value in client_state.items():
        setattr(msg.rerun_script, name, value)
    return msg.SerializeToString()


def connect(url: str):
    return websockets.connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"])


async def receive(ws, timeout: float) -> ForwardMsg:
    msg = ForwardMsg()
    msg.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
    return msg


async def until_quiet(ws, seconds: float = 3) -> list[ForwardMsg]:
    """Every message the server sends until it has been quiet for `seconds`."""
    out = []
    try:
        while True:
            out.append(await receive(ws, seconds))
    except TimeoutError:
        return out
