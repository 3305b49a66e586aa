"""The server's worker processes: started in the background, each job given to the least loaded one,
a dead or hung worker replaced.

One keeper thread starts every worker, watches the heartbeats, and kills a worker whose step has run
longer than `hang_s`. A worker that ends for any reason has its jobs told why
(`on_lost`), and a new one takes its place. Workers are never forked from the server: it has threads, and a
forked copy of a lock held by one of them would never be released. They are forked from a `forkserver`: one
single-threaded process, started once, that has imported PyTorch and the worker's code (PRELOAD), so a worker
starts in a fraction of a second instead of importing them itself (2-5 s each, both at once on a cold server).
A worker's parent is the forkserver: the kernel's parent-death signal ends it when the forkserver ends, and the
forkserver ends with the server (its pipe closes).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable

from core.jobs.worker import BEAT_S, serve

HANG_S = 60.0  # a step running longer than this is a hang (the budgets keep a real step under ~2 s)
START_S = 120.0  # a page waits at most this long for a worker to start (importing torch takes seconds)
# What the forkserver imports once for every worker it forks (torch._dynamo: torch.optim's first optimiser).
PRELOAD = ["core.jobs.worker", "torch._dynamo"]
KILLED = "the worker process training this run stopped (killed or out of memory)"
HUNG = "a training step ran longer than {:g} s, so its worker process was restarted"


class WorkerLost(RuntimeError):
    """The worker that held a job has ended; `cause` says how."""


class WorkerHandle:
    """The server's end of one worker: its process, pipe, pending requests and last heartbeat."""

    def __init__(self, proc, conn):
        self.proc, self.conn, self.pid = proc, conn, proc.pid
        self.jobs: dict[str, object] = {}  # job id -> RemoteJob held by this worker
        self.running: set[str] = set()
        self.ready = threading.Event()  # set by the first heartbeat (torch imported, limits set)
        self.last_beat = time.monotonic()
        self.busy_s = 0.0
        self.cause = ""  # why it ended ('' while alive)
        self._ids = itertools.count(1)
        self._pending: dict[int, list] = {}  # request id -> [event, ok, value]
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"worker-{self.pid}-reader", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self.cause

    def call(self, op: str, *args, timeout: float | None = None):
        """Send a request and wait for its answer (an exception the worker raised is raised here)."""
        slot = self.send(op, *args)
        if not slot[0].wait(timeout):
            raise TimeoutError(f"the worker did not answer {op!r} within {timeout:g} s")
        if not slot[1]:
            raise slot[2]
        return slot[2]

    def send(self, op: str, *args) -> list:
        """Send a request; its slot `[answered event, ok, value]` is filled when the answer arrives."""
        slot = [threading.Event(), False, None]
        with self._lock:
            if self.cause:
                raise WorkerLost(self.cause)
            rid = next(self._ids)
            self._pending[rid] = slot
            try:
                self.conn.send((rid, op, args))
            except (OSError, ValueError) as e:
                self._pending.pop(rid, None)
                raise WorkerLost(self.cause or KILLED) from e
        return slot

    def _read(self) -> None:
        while True:
            try:
                rid, ok, value = self.conn.recv()
            except (EOFError, OSError):
                self.end(self.cause or KILLED)
                return
            if rid is None:
                if ok == "beat":
                    self.last_beat, self.busy_s = time.monotonic(), value["busy_s"]
                    self.running = set(value["running"])
                    for job_id, job in list(self.jobs.items()):
                        job.heard(job_id in self.running, value["stamp"], value["run_ids"].get(job_id, [""]))
                    self.ready.set()
                continue
            with self._lock:
                slot = self._pending.pop(rid, None)
            if slot is not None:
                slot[1], slot[2] = ok, value
                slot[0].set()

    def end(self, cause: str) -> None:
        """Mark the worker gone (first cause wins) and fail every request still waiting."""
        with self._lock:
            if not self.cause:
                self.cause = cause
            pending, self._pending = self._pending, {}
        for slot in pending.values():
            slot[1], slot[2] = False, WorkerLost(self.cause)
            slot[0].set()
        self.ready.set()

    def kill(self, cause: str) -> None:
        self.cause = self.cause or cause
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class WorkerPool:
    """`size` worker processes kept alive by one keeper thread; `on_lost(handle)` hears of each that ends."""

    def __init__(
        self,
        size: int,
        options: dict,
        on_lost: Callable[[WorkerHandle], None],
        hang_s: float = HANG_S,
    ):
        self.size, self.options, self.on_lost, self.hang_s = size, options, on_lost, hang_s
        self.handles: list[WorkerHandle] = []
        self.replaced = 0  # workers started in place of one that ended
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(PRELOAD)
        self._lock = threading.Condition()
        self._closed = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="worker-keeper", daemon=True)
        self._keeper.start()

    def pick(self) -> WorkerHandle:
        """The started worker with the fewest jobs (waits for one to start)."""
        end = time.monotonic() + START_S
        while time.monotonic() < end and not self._closed.is_set():
            with self._lock:
                ready = [h for h in self.handles if h.alive and h.ready.is_set()]
                if ready:
                    return min(ready, key=lambda h: (len(h.running), len(h.jobs)))
                self._lock.wait(0.1)
        raise RuntimeError("no worker process is ready to train; try again in a moment")

    def pids(self) -> list[int]:
        with self._lock:
            return [h.pid for h in self.handles if h.alive]

    def _start(self) -> WorkerHandle:
        ours, theirs = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(target=serve, args=(theirs, self.options), name="playground-worker", daemon=True)
        proc.start()
        theirs.close()  # only the worker holds its end: its death reads here as end of file
        return WorkerHandle(proc, ours)

    def _keep(self) -> None:
        while not self._closed.is_set():
            with self._lock:
                ended = [h for h in self.handles if not h.alive or not h.proc.is_alive()]
            for h in ended:
                h.end(KILLED)
                h.proc.join(5.0)  # reaped, so the store sees the process gone
                with self._lock:
                    self.handles.remove(h)
                try:
                    self.on_lost(h)
                except Exception:  # a store away for a moment must not stop the keeper
                    traceback.print_exc()
                self.replaced += 1
            now = time.monotonic()
            for h in [h for h in self.handles if h.ready.is_set()]:
                if h.busy_s > self.hang_s or now - h.last_beat > self.hang_s + BEAT_S:
                    h.kill(HUNG.format(self.hang_s))
            while len(self.handles) < self.size and not self._closed.is_set():
                h = self._start()
                with self._lock:
                    self.handles.append(h)
                    self._lock.notify_all()
            self._closed.wait(0.1)

    def close(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop its jobs and leave; kill any still there after `timeout`."""
        self._closed.set()
        self._keeper.join(timeout)
        with self._lock:
            handles = list(self.handles)
        for h in handles:
            try:
                h.conn.send(None)
            except (OSError, ValueError):
                pass
        end = time.monotonic() + timeout
        for h in handles:
            h.proc.join(max(0.0, end - time.monotonic()))
            if h.proc.is_alive():
                h.kill("the server stopped")
                h.proc.join(1.0)
            h.end("the server stopped")
