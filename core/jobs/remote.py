"""A RemoteJob: the page's door to a Job that trains in a worker process (core/jobs/worker.py).

It has the Job's interface (events, `snapshot()`, `act()`, `weights()`, status), so a page cannot tell
the two apart. A snapshot crosses the pipe as a difference: only the epoch records and views the
server does not hold yet. When the worker ends, the job keeps its last snapshot and says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.jobs.loop import BUSY
from core.jobs.pool import WorkerHandle, WorkerLost
from core.spec import Spec

# A snapshot waits this long for a busy worker, then the page draws the last copy (the answer is kept for the next
# redraw): at 20 sessions on a loaded 2-core machine, waiting for every answer stretched redraws to p95 2.6 s.
SNAP_WAIT_S = 0.1
INTERRUPTED = "{cause}: this run was interrupted with {epochs} stored. "
CONTINUE = "Open it on the Runs page to continue from its last saved weights."
AFRESH = "It had saved no weights yet: press Reset to train it afresh."
READ_ONLY = frozenset({"view", "weights"})  # Job methods that change nothing: the snapshot held stays current


class RemoteJob:
    """A Job in worker `handle`; `admit()` says whether the server's cap lets one more job train."""

    def __init__(self, handle: WorkerHandle, specs: Spec | list[Spec], kwargs: dict, admit: Callable[[], bool]):
        specs = specs if isinstance(specs, list) else [specs]
        self.views_fn = kwargs.get("views")
        self.speed = max(0, int(kwargs.get("speed", 0)))
        self._worker, self._admit = handle, admit
        self._lock = threading.Lock()
        reply = handle.call("create", specs, kwargs)
        self.id: str = reply["id"]
        self.specs: list[Spec] = reply["specs"]
        self._state = reply
        self._stamp = reply.pop("stamp")  # of the newest reading of `running` kept (see Worker._read_running)
        self._snap: dict | None = None
        self._asked: list | None = None  # a snapshot request in flight (see WorkerHandle.send)
        # What may have changed the job in the worker: each call returned, each heartbeat saying it trains. The
        # snapshot held is current when it was asked for after the last of them (`_merged_at == _events`).
        self._events, self._asked_at, self._merged_at = 0, 0, -1
        self._final: dict | None = None  # the snapshot once stopped or lost: nothing more will change
        self._data: dict[int, object] = {}
        self.created = self.last_seen = time.time()
        self.owner = ""
        handle.jobs[self.id] = self

    # ------------------------------------------------------------------ events
    def play(self) -> str:
        """Start or resume training; returns an error message, or '' when it started."""
        if not self.running and not self._admit():
            return BUSY
        return self._call("play")

    def pause(self) -> None:
        self._call("pause")

    def step(self, epochs: int = 1) -> str:
        if not self.running and not self._admit():
            return BUSY
        return self._call("step", epochs)

    def stop(self, wait: float = 5.0) -> bool:
        """Stop for good; the worker forgets the job and its last snapshot stays readable here."""
        if self._final is not None:
            return True
        try:
            snap = self._worker.call("stop", self.id, wait)
        except WorkerLost:
            return True
        self._worker.jobs.pop(self.id, None)
        if snap:
            with self._lock:
                self._final = snap
                self._state.update(status=snap["status"], running=False)
        return True

    def act(self, name: str, *args) -> str:
        return self._call("act", name, *args)

    def begin(self, name: str, *args) -> str:
        """Start a long action in the worker (see Job.begin); its progress comes with the snapshots."""
        return self._call("begin", name, *args)

    def set_speed(self, epochs_per_redraw: int) -> None:
        speed = max(0, int(epochs_per_redraw))
        if speed != self.speed:
            self.speed = speed
            self._call("set_speed", speed)

    def adopt_views(self, views) -> None:
        self.views_fn = views
        self._call("adopt_views", views)

    def apply_live(self, specs: Spec | list[Spec]) -> None:
        specs = specs if isinstance(specs, list) else [specs]
        self._call("apply_live", specs, raising=True)
        self.specs = [*specs, *self.specs[len(specs) :]]

    def weights(self, i: int = 0) -> bytes:
        return self._call("weights", i, raising=True)

    def data(self, i: int = 0):
        """Trainer i's dataset, fetched from the worker once."""
        if i not in self._data:
            self._data[i] = self._worker.call("data", self.id, i)
        return self._data[i]

    def view(self, fn, i: int, *args):
        """`fn(trainer i, *args)` computed in the worker (see Job.view)."""
        return self._call("view", fn, i, *args, raising=True)

    def touch(self) -> None:
        self.last_seen = time.time()

    def _call(self, method: str, *args, raising: bool = False):
        """Run a Job method in the worker; a lost worker answers with why (or raises, for `raising`). A call that
        may change the job makes the snapshot held here stale (see `snapshot`)."""
        if self._final is not None:
            if raising and self._state["status"] == "interrupted":
                raise RuntimeError(self._state["error"])
            return self._state["error"] or "this run was stopped; press Reset to start a new one"
        try:
            result, state = self._worker.call("call", self.id, method, args)
        except WorkerLost:
            if raising:
                raise RuntimeError(self._state.get("error") or self._worker.cause) from None
            return self._state.get("error") or self._worker.cause
        except Exception as e:  # e.g. out of memory in the worker: the page shows it instead of a traceback
            if raising:
                raise
            return str(e)
        with self._lock:
            self._newer_running(state.pop("running"), state.pop("stamp"))
            self._state.update(state)
            self._events += method not in READ_ONLY
        return result

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return self._state["running"]

    @property
    def status(self) -> str:
        return self._state["status"]

    @property
    def error(self) -> str:
        return self._state["error"]

    @property
    def run_ids(self) -> list[str]:
        if not all(self._state["run_ids"]) and self._final is None:
            self.snapshot()  # a run's store row appears at its first step: ask the worker
        return self._state["run_ids"]

    @property
    def trained(self) -> bool:
        return self._state.get("trained", False) or any(r["step"] for r in (self._snap or {"runs": []})["runs"])

    def heard(self, running: bool, stamp: int, run_ids: list[str]) -> None:
        """The worker's heartbeat: whether this job trains now (the server's cap counts it) and its store rows."""
        with self._lock:
            if self._final is None:
                self._state.update(run_ids=run_ids)
                if self._newer_running(running, stamp):
                    self._events += running

    def _newer_running(self, running: bool, stamp: int) -> bool:
        """Keep a reading of whether the job trains unless a later one is held (called under _lock). A heartbeat
        read during an epoch could arrive after the answer that saw the epoch end: the server then held the job
        as training, drew its Step button disabled, and Streamlit dropped the student's click on it."""
        if stamp <= self._stamp:
            return False
        self._stamp, self._state["running"] = stamp, running
        return True

    def snapshot(self) -> dict:
        """Copies of everything a page draws (see Job.snapshot); only what changed crosses the pipe."""
        asked = self._ask() if self._final is None else None
        # A redraw waits a moment for the worker, else draws what it has; the answer is merged when it comes.
        # `stale`: what it has may be out of date (a page that does not poll then waits or asks again).
        if asked is not None and asked[0].wait(SNAP_WAIT_S if self._snap else None):
            with self._lock:
                if self._asked is asked:
                    self._asked = None
                    if asked[1]:
                        self._merge(asked[2])
                        self._merged_at = self._asked_at
        with self._lock:
            snap = self._final or self._snap or self._blank()
            runs = [dict(r, history=list(r["history"])) for r in snap["runs"]]
            stale = self._final is None and self._merged_at != self._events
            return dict(snap, runs=runs, action=dict(snap["action"]), stale=stale)

    def _ask(self) -> list | None:
        """The snapshot request in flight (sent now if none is): what changed since the copy held here."""
        with self._lock:
            if self._asked is None:
                version = self._snap["version"] if self._snap else -1
                lens = [len(r["history"]) for r in self._snap["runs"]] if self._snap else []
                try:
                    self._asked, self._asked_at = self._worker.send("snap", self.id, version, lens), self._events
                except WorkerLost:
                    return None
            return self._asked

    def _merge(self, fresh: dict) -> None:
        old = self._snap
        for i, run in enumerate(fresh["runs"]):
            start = run.pop("from")
            if start and old is not None:
                run["history"] = old["runs"][i]["history"][:start] + run["history"]
            if run["views"] is None and old is not None:
                run["views"] = old["runs"][i]["views"]
        if not self._newer_running(fresh["running"], fresh.pop("stamp")):
            fresh["running"] = self._state["running"]  # a later reading came first
        self._snap = fresh
        self._state.update(
            status=fresh["status"],
            error=fresh["error"],
            run_ids=[r["run_id"] for r in fresh["runs"]],
            trained=any(r["step"] for r in fresh["runs"]),
        )

    def lost(self, cause: str, epochs: list[int | None], weights: bool) -> None:
        """Its worker ended: keep the last snapshot, marked interrupted, with why and what the store kept
        (`epochs` per run, None when unknown; `weights`: some run's weights are stored)."""
        stored = ", ".join(f"{n} epochs" for n in epochs if n is not None) or "the epochs saved so far"
        message = INTERRUPTED.format(cause=cause[0].upper() + cause[1:], epochs=stored)
        message += CONTINUE if weights else AFRESH
        with self._lock:
            snap = self._snap or self._blank()
            runs = [dict(r, status="interrupted") for r in snap["runs"]]
            self._final = dict(snap, runs=runs, status="interrupted", running=False, error=message)
            self._state.update(status="interrupted", running=False, error=message)

    def _blank(self) -> dict:
        """A snapshot of a job the server never heard train (its worker ended first)."""
        run = {"history": [], "views": {}, "message": "", "epoch": 0, "step": 0, "lr": 0.0, "steps_per_epoch": 1}
        runs = [dict(run, run_id=r, spec=s, status="ready") for r, s in zip(self._state["run_ids"], self.specs)]
        return {"id": self.id, "version": 0, "action": {}, "actions": {}, "runs": runs, **self._state}
