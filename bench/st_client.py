"""A Streamlit session without a browser: it speaks the app's websocket protocol and draws nothing.

The class benchmark (`python -m bench.bench_live class --clients protocol`) opens N of these to measure
what the server can do for a class whose browsers run on the students' own machines. Each one behaves as
Streamlit's frontend does: it replays the full reruns a real Chromium tab sent (opening the page, typing a
value, pressing a button), and repeats a fragment's rerun on the interval the server asks for (`auto_rerun`, a timer
that fires whether or not the last rerun has come back, as the browser's `setInterval` does).

It records when each fragment run's redraw came, the fragment runs that came empty, and the last value of
every `st.metric`.
"""

from __future__ import annotations

import asyncio
import time

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

LIVE_MAX_S = 5.0  # a fragment rerun at least this often is a live view


class Session:
    """One browser tab's worth of protocol: a page, its widgets, its fragment timers."""

    def __init__(self, url: str):
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.query = ""  # the URL's query: the first recorded run's, then as the app sets it
        self.metrics: dict[str, str] = {}  # label -> shown value
        self.fragment_runs: list[float] = []  # monotonic time each fragment run finished
        # Fragment runs the server computed but sent nothing of: Streamlit drops a run's unsent output when the
        # next run starts before its event loop had sent it (the browser then draws nothing new).
        self.dropped_runs = 0
        self._fragment_run = False  # the current run is a live view's
        self._whole_page = True  # the current run is the whole page's (no fragment's)
        self._run_deltas = 0  # elements received in the current run
        self.received: dict[str, int] = {}  # messages by type
        self.texts: list[str] = []  # errors and warnings shown
        self._timers: dict[str, asyncio.Task] = {}
        self._intervals: dict[str, float] = {}
        self._idle = asyncio.Event()
        self._ws = None
        self._states = None
        self._page_hash = ""  # the page's script hash, as the browser sends it once the page is open (recorded)
        self._full_done = False
        self._reader: asyncio.Task | None = None

    async def open(self, first: bytes, timeout: float = 120) -> None:
        """Connect and send the page's first run (as a browser sent it, see `replay`)."""
        self._ws = await websockets.connect(
            self.ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,  # a browser sends no pings
        )
        self._reader = asyncio.create_task(self._read())
        msg = BackMsg()
        msg.ParseFromString(first)
        self.query = msg.rerun_script.query_string
        await self.replay(first, timeout)

    async def replay(self, raw: bytes, timeout: float = 120) -> None:
        """Send a full rerun a browser sent (all its widget states), and wait until the run is over.

        Streamlit's frontend sends the value of every widget on the page with each rerun; a client that
        sent only the changed one would lose the others' values, so the benchmark records what a real tab
        sent (the page load, a value typed, a button pressed) and every Session replays it.
        """
        msg = BackMsg()
        msg.ParseFromString(raw)
        cs = msg.rerun_script
        if cs.page_script_hash:  # the page is open: the URL's query is this session's own (e.g. its ?run=)
            cs.query_string, self._page_hash = self.query, cs.page_script_hash
        self._states = cs.widget_states
        self._idle.clear()
        self._full_done = False
        await self._ws.send(msg.SerializeToString())
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self) -> None:
        for t in self._timers.values():
            t.cancel()
        if self._reader:
            self._reader.cancel()
        if self._ws:
            await self._ws.close()

    async def _fragment_rerun(self, fragment_id: str) -> None:
        """What the browser's timer sends: the fragment's id and the widget values (no button pressed)."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_script_hash = self.query, self._page_hash
        cs.fragment_id, cs.is_auto_rerun = fragment_id, True
        for s in self._states.widgets if self._states else []:
            if not s.HasField("trigger_value"):
                cs.widget_states.widgets.append(s)
        await self._ws.send(msg.SerializeToString())

    async def _read(self) -> None:
        try:
            await self._read_all()
        except Exception as e:
            self.texts.append(f"Exception: {type(e).__name__}: {e}")
        self.texts.append("Exception: the connection closed")  # a benchmark must not count it as a slow server
        self._idle.set()

    async def _read_all(self) -> None:
        async for data in self._ws:  # ends when the server closes the connection
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            name = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished) if kind == "script_finished" else kind
            self.received[name] = self.received.get(name, 0) + 1
            if kind == "delta":
                self._run_deltas += 1
                if msg.delta.WhichOneof("type") == "new_element":
                    self._element(msg.delta.new_element)
            elif kind == "page_info_changed":  # the app set the URL's query (st.query_params)
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self._auto(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    if t := self._timers.pop(fid, None):
                        t.cancel()
            elif kind == "new_session":  # a run starts: a fragment's own (its id listed) or the whole page's
                fids = msg.metadata.run.fragment_ids
                # A live view's run (not a slow heartbeat fragment's, which draws nothing)
                self._fragment_run = any(self._intervals.get(f, LIVE_MAX_S) < LIVE_MAX_S for f in fids)
                self._run_deltas, self._whole_page = 0, not fids
            elif kind == "script_finished":
                if self._fragment_run:
                    # "Ended early" too when the next run started before this one's end was sent; its redraw came
                    # unless Streamlit dropped its output unsent (the app waits for it to be sent: ui/live.py).
                    if self._run_deltas:
                        self.fragment_runs.append(time.monotonic())
                    else:
                        self.dropped_runs += 1
                elif self._whole_page:  # a whole-page run ended (or ended early for another)
                    self._full_done = True
            elif kind == "session_status_changed" and not msg.session_status_changed.script_is_running:
                if self._full_done:  # what the frontend shows as "not running", after a whole-page run
                    self._idle.set()

    def _element(self, el) -> None:
        which = el.WhichOneof("type")
        if which == "metric":
            self.metrics[el.metric.label] = el.metric.body
        elif which == "alert":
            self.texts.append(el.alert.body)
        elif which == "exception":
            self.texts.append(f"{el.exception.type}: {el.exception.message}")

    def _auto(self, fid: str, interval: float) -> None:
        if self._intervals.get(fid) == interval and fid in self._timers:
            return  # the browser keeps a running timer whose interval did not change
        if t := self._timers.pop(fid, None):
            t.cancel()
        self._intervals[fid] = interval

        async def tick():
            while True:
                await asyncio.sleep(interval)
                await self._fragment_rerun(fid)

        self._timers[fid] = asyncio.create_task(tick())

    def metric(self, label: str) -> float:
        v = self.metrics.get(label, "")
        try:
            return float(v.replace(",", ""))
        except ValueError:
            return float("nan")


def full_reruns(frames: list[bytes | str]) -> list[bytes]:
    """The whole-page reruns among the websocket frames a browser sent (not its fragment timers)."""
    out = []
    for f in frames:
        if isinstance(f, str):
            continue
        msg = BackMsg()
        msg.ParseFromString(f)
        if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
            out.append(f)
    return out
