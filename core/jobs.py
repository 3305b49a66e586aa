"""Background training: a Job runs one or more Trainers in a plain thread; a JobManager owns the jobs.

A Job never calls Streamlit. The page sends events (play, pause, step, stop) and reads
`snapshot()`, which returns copies taken under a lock. Several trainers in one job train in
lockstep (one epoch each, in turn), which is how A/B comparisons see the same number of epochs.
"""

from __future__ import annotations

import atexit
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from core.engine import Probe, Trainer, share_cpu
from core.spec import Spec, to_dict
from core.trainers import make_trainer

ViewFn = Callable[[Trainer], dict]  # trainer -> arrays for the charts (decision grid, samples, ...)
MIN_PUBLISH_S = 0.05  # at most ~20 redraw snapshots a second, whatever the speed


class Job:
    """Trains `specs` (one, or several in lockstep) in a background thread."""

    def __init__(
        self,
        specs: Spec | list[Spec],
        *,
        views: ViewFn | None = None,
        probes: Callable[[], list[Probe]] | None = None,  # None: each family's own probes (core.trainers)
        store=None,
        source: str = "app",
        title: str = "",
        speed: int = 1,
        can_run: Callable[[], bool] | None = None,
    ):
        specs = specs if isinstance(specs, list) else [specs]
        self.id = uuid.uuid4().hex[:10]
        self.trainers = [make_trainer(s, probes() if probes else None) for s in specs]
        self.views_fn = views
        self.store = store
        self.speed = max(1, int(speed))
        self.can_run = can_run or (lambda: True)
        self.created = time.time()
        self.last_seen = time.time()
        self.owner = ""  # the browser session that drives this job (set by the UI)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = False
        self._pending = 0  # epochs requested by Step
        self._busy = False  # an epoch round is being trained or published
        self._stopped = False
        self.error = ""
        self._views = [self._compute_views(t) for t in self.trainers]
        self._version = 0
        self._unsaved: list[list[dict]] = [[] for _ in self.trainers]
        self.run_ids = [store.create_run(to_dict(s), source, title) if store else "" for s in specs]

    # ------------------------------------------------------------------ events
    def play(self) -> str:
        """Start or resume training; returns an error message, or '' when it started."""
        with self._lock:
            if self._stopped:
                return "this run was stopped; press Reset to start a new one"
            if all(t.done for t in self.trainers):
                return self._done_message()
            if not self._running and not self._alive() and not self.can_run():
                return "the server is busy training other runs; try again in a moment"
            self._running = True
        self._ensure_thread()
        return ""

    def pause(self) -> None:
        """Stop after the current epoch; the weights stay."""
        with self._lock:
            self._running = False
            self._pending = 0

    def step(self, epochs: int = 1) -> str:
        """Train exactly `epochs` more epochs, then pause."""
        with self._lock:
            if self._stopped:
                return "this run was stopped; press Reset to start a new one"
            if all(t.done for t in self.trainers):
                return self._done_message()
            self._running = False
            self._pending += epochs
        self._ensure_thread()
        return ""

    def stop(self, wait: float = 5.0) -> None:
        """Stop for good and join the thread (the history stays readable)."""
        with self._lock:
            self._stopped, self._running, self._pending = True, False, 0
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)
        self._flush(final=True)

    def set_speed(self, epochs_per_redraw: int) -> None:
        self.speed = max(1, int(epochs_per_redraw))

    def apply_live(self, specs: Spec | list[Spec]) -> None:
        """Give paused trainers new live fields (LR, regularisation, ...); weights are kept."""
        specs = specs if isinstance(specs, list) else [specs]
        with self._lock:
            for t, s in zip(self.trainers, specs):
                t.apply_live(s)

    def touch(self) -> None:
        """The page is still looking at this job."""
        self.last_seen = time.time()

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        return (self._running or self._pending > 0 or self._busy) and self._alive()

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self._stopped:
            return "stopped"
        if self.running:
            return "running"
        statuses = [t.status for t in self.trainers]
        for s in ("diverged", "early_stopped", "done"):
            if all(x != "ready" for x in statuses) and s in statuses:
                return s
        return "paused" if any(t.step_count for t in self.trainers) else "ready"

    def snapshot(self) -> dict:
        """Copies of everything a page draws: status, messages and per-trainer history and views."""
        with self._lock:
            runs = [
                {
                    "history": list(t.history),
                    "views": self._views[i],
                    "status": t.status,
                    "message": t.message,
                    "epoch": t.epoch,
                    "step": t.step_count,
                    "run_id": self.run_ids[i],
                }
                for i, t in enumerate(self.trainers)
            ]
            return {
                "id": self.id,
                "status": self.status,
                "running": self.running,
                "error": self.error,
                "version": self._version,
                "runs": runs,
            }

    # ------------------------------------------------------------------ thread
    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _ensure_thread(self) -> None:
        if not self._alive():
            self._thread = threading.Thread(target=self._loop, name=f"job-{self.id}", daemon=True)
            self._thread.start()
        self._wake.set()

    def _done_message(self) -> str:
        msgs = [t.message for t in self.trainers if t.message]
        return "; ".join(msgs) or "training has finished"

    def _loop(self) -> None:
        since_publish, last_publish = 0, 0.0
        try:
            while True:
                with self._lock:
                    if self._stopped or not (self._running or self._pending > 0):
                        break
                    if self._pending > 0:
                        self._pending -= 1
                    self._busy = True
                    active = [i for i, t in enumerate(self.trainers) if not t.done]
                if not active:
                    break
                for i in active:
                    rec = self.trainers[i].run_epoch()
                    if rec:
                        self._unsaved[i].append(rec)
                since_publish += 1
                finished = all(t.done for t in self.trainers)
                with self._lock:
                    idle = not (self._running or self._pending > 0)
                if since_publish >= self.speed or finished or idle:
                    wait = MIN_PUBLISH_S - (time.perf_counter() - last_publish)
                    if wait > 0 and not (finished or idle):
                        self._wake.wait(wait)  # slow motion: never more than ~20 redraws a second
                        self._wake.clear()
                    self._publish()
                    since_publish, last_publish = 0, time.perf_counter()
                if finished:
                    break
        except Exception as e:  # keep the history; show the message instead of a dead thread
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            with self._lock:
                self._running, self._pending = False, 0
            self._publish()
            self._busy = False

    def _compute_views(self, trainer: Trainer) -> dict:
        return self.views_fn(trainer) if self.views_fn else {}

    def _publish(self) -> None:
        views = [self._compute_views(t) for t in self.trainers]
        with self._lock:
            self._views = views
            self._version += 1
        self._flush()

    def _flush(self, final: bool = False) -> None:
        if not self.store:
            return
        for i, t in enumerate(self.trainers):
            recs, self._unsaved[i] = self._unsaved[i], []
            try:
                self.store.add_metrics(self.run_ids[i], recs)
                status = "stopped" if final and t.status == "ready" else t.status
                last = t.history[-1] if t.history else {}
                summary = {k: v for k, v in last.items() if isinstance(v, (int, float))}
                self.store.finish_run(self.run_ids[i], status, summary | {"message": t.message})
            except Exception:  # a busy or broken store must not stop training
                traceback.print_exc()


class JobManager:
    """One per server: caps running jobs, reaps jobs nobody has looked at, stops all at exit."""

    def __init__(self, max_running: int = 8, idle_timeout: float = 300.0, store=None):
        self.max_running = max_running
        self.idle_timeout = idle_timeout
        self.store = store
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        share_cpu()  # on a 2-core machine one intra-op thread per training thread keeps the server responsive
        self._reaper = threading.Thread(target=self._reap_loop, name="job-reaper", daemon=True)
        self._reaper.start()
        atexit.register(self.stop_all)

    def create(self, specs, **kwargs) -> Job:
        """Build a job (trainers are built here, in the caller's thread; SpecError propagates)."""
        job = Job(specs, store=self.store, can_run=self._can_run, **kwargs)
        with self._lock:
            self.jobs[job.id] = job
        return job

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            job = self.jobs.get(job_id or "")
        if job is not None:
            job.touch()
        return job

    def discard(self, job_id: str | None) -> None:
        """Stop a job and forget it (its runs stay in the store)."""
        with self._lock:
            job = self.jobs.pop(job_id or "", None)
        if job is not None:
            job.stop()

    def running_count(self) -> int:
        with self._lock:
            return sum(1 for j in self.jobs.values() if j.running)

    def _can_run(self) -> bool:
        return self.running_count() < self.max_running

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

    def stop_all(self) -> None:
        """Stop every job and join its thread (called at exit and by tests)."""
        self._closed.set()
        with self._lock:
            jobs = list(self.jobs.values())
            self.jobs.clear()
        for j in jobs:
            j.stop()
