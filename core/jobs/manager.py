"""The JobManager: one per server; it caps training threads, reaps jobs nobody has looked at and stops
all at exit.

With `workers` > 0 the jobs train in that many worker processes (core/jobs/pool.py) and the manager
holds RemoteJobs; with 0 they train in threads of this process (tests, the runner).
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable

from core.budget import budgets
from core.engine import share_cpu
from core.jobs.job import Job
from core.jobs.pool import HANG_S, WorkerHandle, WorkerPool
from core.jobs.remote import RemoteJob
from core.turns import Turns


class JobManager:
    """One per server: caps training threads, reaps jobs nobody has looked at, stops all at exit."""

    def __init__(
        self,
        max_running: int = 8,
        idle_timeout: float = 300.0,
        store=None,
        workers: int = 0,
        memory_mb: float | None = None,
        hang_s: float = HANG_S,
        init: Callable[[], None] | None = None,
    ):
        """`workers`: processes that train the jobs (0: threads here); `memory_mb`: address space a worker may
        add to what it holds once started (None: two budgets per job it may hold); `init`: run first in each
        worker (a module-level function)."""
        self.max_running = max_running
        self.idle_timeout = idle_timeout
        self.store = store
        self.workers = max(0, int(workers))
        self.jobs: dict[str, Job | RemoteJob] = {}
        self._threads: set[threading.Thread] = set()  # every training thread not yet gone holds a slot
        self.turns = Turns()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        share_cpu()  # on a 2-core machine one intra-op thread per training thread keeps the server responsive
        self._reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
        self._reaper.start()
        self.pool = None
        if self.workers:
            per_worker = -(-max_running // self.workers)  # the most jobs one worker may train at once
            options = {
                "store": getattr(store, "location", None),
                "memory_mb": memory_mb if memory_mb is not None else 2 * per_worker * budgets().memory_mb,
                "init": init,
            }
            self.pool = WorkerPool(self.workers, options, self._lost, hang_s)
        atexit.register(self.stop_all)

    def create(self, specs, **kwargs) -> Job | RemoteJob:
        """Build a job (trainers are built here, or in a worker; SpecError propagates)."""
        if self.pool is not None:
            job = RemoteJob(self.pool.pick(), specs, kwargs, self._admit)
        else:
            job = Job(specs, store=self.store, start_thread=self._start, turns=self.turns, **kwargs)
        with self._lock:
            self.jobs[job.id] = job
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            job = self.jobs.get(job_id or "")
        if job is not None:
            job.touch()
        return job

    def discard(self, job_id: str | None, wait: float = 5.0) -> None:
        """Stop a job and forget it (its runs stay in the store; its slot frees once its thread is gone)."""
        with self._lock:
            job = self.jobs.pop(job_id or "", None)
        if job is not None:
            job.stop(wait)

    def running_count(self) -> int:
        """Training threads that hold a slot: started and not yet gone, whatever their job's state."""
        with self._lock:
            if self.pool is not None:
                return sum(j.running for j in self.jobs.values())
            return len(self._live_threads())

    def _admit(self) -> bool:
        """A worker's job may start training: the cap has room (the worker's heartbeat keeps the count)."""
        return not self._closed.is_set() and self.running_count() < self.max_running

    def _lost(self, handle: WorkerHandle) -> None:
        """A worker ended: the store marks its runs interrupted, and each of its jobs says so."""
        if self.store is not None:
            self.store.mark_interrupted()
        for job in list(handle.jobs.values()):
            ids = [r for r in job.run_ids if r and self.store is not None]
            epochs = [int(self.store.get_run(r)["epochs"] or 0) for r in ids]
            job.lost(handle.cause, epochs, any(self.store.load_weights(r) is not None for r in ids))

    def _live_threads(self) -> set[threading.Thread]:
        # A thread not yet started (ident None) is counted too: it has been promised a slot.
        self._threads = {t for t in self._threads if t.ident is None or t.is_alive()}
        return self._threads

    def _start(self, target: Callable[[], None], name: str) -> threading.Thread | None:
        """Start a training thread if a slot is free (checked and taken in one step), else None."""
        with self._lock:
            if self._closed.is_set() or len(self._live_threads()) >= self.max_running:
                return None
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.add(thread)
            thread.start()
            return thread

    def reap(self, now: float | None = None) -> list[str]:
        """Stop and forget jobs unseen for idle_timeout seconds; returns their ids."""
        now = now or time.time()
        with self._lock:
            stale = [j for j in self.jobs.values() if now - j.last_seen > self.idle_timeout]
            for j in stale:
                del self.jobs[j.id]
        for j in stale:
            j.stop()
        return [j.id for j in stale]

    def _reap_loop(self) -> None:
        while not self._closed.wait(10.0):
            self.reap()

    def stop_all(self, timeout: float = 60.0) -> bool:
        """Stop every job and join every thread (called at exit and by tests); True when all are gone."""
        self._closed.set()  # no new thread starts from here on
        end = time.monotonic() + timeout
        with self._lock:
            jobs = list(self.jobs.values())
            self.jobs.clear()
        for j in jobs:
            j.stop(wait=0)  # signal every job first, so they wind down together
        for j in jobs:
            j.stop(wait=max(0.0, end - time.monotonic()))
        with self._lock:
            threads = list(self._threads)
        for t in threads + [self._reaper]:
            if t is not threading.current_thread():
                t.join(max(0.0, end - time.monotonic()))
        if self.pool is not None:
            self.pool.close(max(1.0, end - time.monotonic()))
        with self._lock:
            return not self._live_threads() and not self._reaper.is_alive()
