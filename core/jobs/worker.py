"""A worker process: it trains the Jobs the server hands it and answers for them over one pipe.

The server (core/jobs/remote.py) sends requests `(request id, op, args)`; the worker answers
`(request id, ok, value)` and, every BEAT_S, `(None, "beat", {...})`: which of its jobs train and how
long the step in progress has run (a hang). Requests run on a few threads, so a long action on
one job never holds up another job's snapshot.

Faults stay here: the address space is capped by the operating system (RLIMIT_AS), so a job that
outgrows it fails with a MemoryError in this process only; and the worker ends when the server does
(the pipe reaches end of file, or the kernel's parent-death signal on Linux).
"""

from __future__ import annotations

import ctypes
import os
import queue
import resource
import signal
import sys
import threading
import time
import traceback

import torch

from core.jobs.job import Job
from core.jobs.loop import describe, out_of_memory
from core.spec import Spec
from core.store import Store
from core.turns import Turns

REQUEST_THREADS = 8  # requests answered at once (a long action on one job never holds up another's snapshot)
NICE = 5  # a worker yields the CPU to the Streamlit process, which draws every student's page
BEAT_S = 0.5  # the worker says it is alive this often (the server's hang check reads it)
PR_SET_PDEATHSIG = 1
M_ARENA_MAX = -8  # glibc mallopt: every thread's malloc arena reserves 64 MB of address space; two are plenty
# Address space for what a job needs besides its tensors: a training thread's stack reserves 8 MB, and the
# arenas 128 MB; with less, starting a job's thread failed ("can't start new thread").
THREADS_MB = 256


def serve(conn, options: dict) -> None:
    """The worker's main: set its limits, then answer requests until the server says exit or goes away."""
    _die_with_parent()
    os.nice(NICE)  # the server's drawing comes first; training takes the rest of the CPU
    # One thread per worker (a worker per core): OpenMP starts a team of threads for every thread that runs a
    # parallel operation, and one it cannot start near the memory cap aborts the whole process.
    torch.set_num_threads(1)
    if options.get("init") is not None:
        options["init"]()  # e.g. a test's patch; runs before any job
    Worker(conn, options).run()


class Worker:
    """The jobs of one worker process and the requests that reach them."""

    def __init__(self, conn, options: dict):
        self.conn = conn
        self.jobs: dict[str, Job] = {}
        self.ending: list[Job] = []  # stopped jobs whose thread was still finishing a batch
        self.turns = Turns()  # this worker's jobs train in turns, like a server's jobs did in one process
        # Every message that says whether a job trains carries a stamp taken with that reading (see `_read_running`).
        self._stamp, self._stamp_lock = 0, threading.Lock()
        self.store = Store(options["store"]) if options.get("store") else None
        self._send_lock = threading.Lock()
        # Request threads start now, before the memory cap: one that could not start later would end the worker.
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        for n in range(REQUEST_THREADS):
            threading.Thread(target=self._serve_requests, name=f"request-{n}", daemon=True).start()
        self._beat = threading.Thread(target=self._beat_loop, name="beat", daemon=True)
        if options.get("memory_mb"):
            _warm_up()  # PyTorch loads modules on first use: loaded under the cap, one would fail as an ImportError
            _limit_memory(options["memory_mb"])
        self._beat.start()

    def run(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the server is gone: its runs are left for the store to mark interrupted
            if msg is None:  # the server's goodbye: stop every job (the store hears), then leave
                for job in [*self.jobs.values(), *self.ending]:
                    job.stop(wait=5.0)
                self._send(None, "bye", None)
                os._exit(0)
            self._requests.put(msg)

    def _serve_requests(self) -> None:
        while True:
            self._answer(*self._requests.get())

    def _send(self, rid, ok, value) -> None:
        with self._send_lock:
            self.conn.send((rid, ok, value))

    def _answer(self, rid: int, op: str, args: tuple) -> None:
        try:
            value = getattr(self, f"op_{op}")(*args)
            ok = True
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the page that asked
            if not isinstance(e, Exception):
                traceback.print_exc()
            value, ok = (RuntimeError(describe(e)) if out_of_memory(e) else e), False
        try:
            self._send(rid, ok, value)
        except Exception as e:  # e.g. an exception that does not pickle: say what it was
            self._send(rid, False, RuntimeError(f"{type(value).__name__}: {value} ({e})"))

    # ------------------------------------------------------------------ requests
    def op_create(self, specs, kwargs: dict) -> dict:
        job = Job(specs, store=self.store, turns=self.turns, **kwargs)
        self.jobs[job.id] = job
        return self._state(job) | {"id": job.id, "specs": job.specs}

    def op_call(self, job_id: str, method: str, args: tuple):
        job = self.jobs[job_id]
        return getattr(job, method)(*args), self._state(job)

    def op_snap(self, job_id: str, version: int, lens: list[int]) -> dict:
        job = self.jobs[job_id]
        stamp, running = self._read_running([job])  # read first: the snapshot's content is as new or newer
        return delta(job.snapshot(), version, lens) | {"running": job.id in running, "stamp": stamp}

    def op_stop(self, job_id: str, wait: float) -> dict:
        job = self.jobs.pop(job_id, None)
        if job is None:
            return {}
        if not job.stop(wait):
            self.ending.append(job)
        self.ending = [j for j in self.ending if j.running]
        return job.snapshot()

    def op_data(self, job_id: str, i: int):
        return self.jobs[job_id].data(i)

    def op_pid(self) -> int:
        return os.getpid()

    def _read_running(self, jobs: list[Job]) -> tuple[int, list[str]]:
        """(stamp, ids of the jobs that train), read together: a higher stamp is a later reading. Messages cross the
        pipe in the order they are sent, not read (a heartbeat read during an epoch and sent after the answer that
        saw the job idle said it trained): the server keeps the reading with the highest stamp."""
        with self._stamp_lock:
            self._stamp += 1
            return self._stamp, [j.id for j in jobs if j.running]

    def _state(self, job: Job) -> dict:
        """What the server keeps of a job between snapshots (a few fields: its cap and `status`)."""
        stamp, running = self._read_running([job])
        return {
            "status": job.status,
            "running": bool(running),
            "stamp": stamp,
            "error": job.error,
            "run_ids": list(job.run_ids),
            "trained": job.trained,
        }

    def _beat_loop(self) -> None:
        while True:
            now = time.monotonic()
            jobs = list(self.jobs.values())
            busy = max((now - j.busy_since for j in jobs if j.busy_since), default=0.0)
            try:
                stamp, running = self._read_running(jobs)
                run_ids = {j.id: list(j.run_ids) for j in jobs}
                self._send(None, "beat", {"running": running, "stamp": stamp, "busy_s": busy, "run_ids": run_ids})
            except (OSError, ValueError):
                os._exit(0)
            time.sleep(BEAT_S)


def delta(snap: dict, version: int, lens: list[int]) -> dict:
    """A snapshot less what the server already holds: records it has, views of a version it has drawn."""
    for i, run in enumerate(snap["runs"]):
        have = lens[i] if i < len(lens) else 0
        run["from"] = have if have <= len(run["history"]) else 0
        run["history"] = run["history"][run["from"] :]
        if snap["version"] == version:
            run["views"] = None
    return snap


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent ends (the forkserver, which ends with the server)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass


def _warm_up() -> None:
    """Train a tiny network one step, evaluate it and save its weights: what every job does first; and start
    OpenMP's threads with an operation large enough to run in parallel (one that cannot start them aborts)."""
    torch.ones(2**20).exp().sum()
    job = Job(Spec().with_(**{"data.n": 100, "train.epochs": 1}))
    job.trainers[0].run_epoch()
    job.weights(0)


def _limit_memory(memory_mb: float) -> None:
    """Cap this process's address space at what it holds now plus `memory_mb` (and THREADS_MB)."""
    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/statm") as f:
        now = int(f.read().split()[0]) * resource.getpagesize()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = now + int((memory_mb + THREADS_MB) * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
