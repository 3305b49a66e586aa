"""The JobManager: one per server; it caps training threads, reaps jobs nobody has looked at and stops
all at exit.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Callable

from core.engine import share_cpu
from core.jobs.job import Job
from core.turns import Turns


class JobManager:
    """One per server: caps training threads, reaps jobs nobody has looked at, stops all at exit."""

    def __init__(self, max_running: int = 8, idle_timeout: float = 300.0, store=None):
        self.max_running = max_running
        self.idle_timeout = idle_timeout
        self.store = store
        self.jobs: dict[str, Job] = {}
        self._threads: set[threading.Thread] = set()  # every training thread not yet gone holds a slot
        self.turns = Turns()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        share_cpu()  # on a 2-core machine one intra-op thread per training thread keeps the server responsive
        self._reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
        self._reaper.start()
        atexit.register(self.stop_all)

    def create(self, specs, **kwargs) -> Job:
        """Build a job (trainers are built here, in the caller's thread; SpecError propagates)."""
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
            return len(self._live_threads())

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
        with self._lock:
            return not self._live_threads() and not self._reaper.is_alive()
