"""Background training: a Job runs one or more Trainers in a plain thread; a JobManager owns the jobs.

A Job never calls Streamlit. The page sends events (play, pause, step, stop, act) and reads
`snapshot()`, which returns copies taken under a lock. Several trainers in one job train in
lockstep (one epoch each, in turn), which is how A/B comparisons see the same number of epochs.
The thread trains batch by batch and looks at the events between batches, so Pause and Stop
reach a long epoch within one batch.
"""

from __future__ import annotations

import atexit
import dataclasses
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from core.engine import Probe, Trainer, share_cpu
from core.export import load_weights_into, read_weights, weights_bytes
from core.spec import Spec, to_dict
from core.trainers import make_trainer
from core.turns import Turns

ViewFn = Callable[[Trainer], dict]  # trainer -> arrays for the charts (decision grid, samples, ...)
StartFn = Callable[[Callable[[], None], str], "threading.Thread | None"]  # (target, name) -> started thread
FLUSH_S = 2.0  # epoch records reach the store at least this often: a killed server loses seconds, not a run
# Weights reach the store when a run pauses or ends and at most this often while it trains: a 10k-parameter
# MLP is ~40 kB of safetensors, so a class of 30 writes ~40 kB/s at most.
WEIGHTS_S = 30.0
# speed 0 (full speed): a redraw snapshot every PUBLISH_S of wall time, training never waits; the page polls
# every ~0.15 s, so faster snapshots would be computed and never drawn.
PUBLISH_S = 0.1
SLOW_MOTION_S = 0.2  # speed 1 (slow motion): every epoch is published and stays up at least this long
EVAL_S = 0.15  # while the page is live, full-set evaluation at most this often (every epoch in slow motion)
BUSY = "the server is busy training other runs; try again in a moment"
STOPPED = "this run was stopped; press Reset to start a new one"


def _start_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A started daemon thread (a job without a manager has no cap)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


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
        speed: int = 0,
        start_thread: StartFn | None = None,
        weights: list[bytes | None] | None = None,
        turns: Turns | None = None,
    ):
        """`weights`: saved safetensors per spec (None: fresh); a run continued from them starts from those
        weights with a fresh optimiser (SpecError when they do not fit the network)."""
        specs = specs if isinstance(specs, list) else [specs]
        self.id = uuid.uuid4().hex[:10]
        self.trainers = [make_trainer(s, probes() if probes else None) for s in specs]
        for t, raw in zip(self.trainers, weights or []):
            if raw is not None:
                load_weights_into(t.model, read_weights(raw)[0])
        self.views_fn = views
        self.store, self.source, self.title = store, source, title
        self.speed = 0
        self.set_speed(speed)
        self.created = time.time()
        self.last_seen = time.time()
        self.owner = ""  # the browser session that drives this job (set by the UI)
        self._start_thread = start_thread or _start_thread
        self._turns = turns  # a server's jobs train in turns (core/turns.py); None: this job alone
        self._lock = threading.Lock()  # the event flags and the published views
        # Held while the models run (a batch, an action, the views). Reentrant: a probe may stop the job from
        # inside a step, and stop() then saves the weights in the same thread.
        self._train_lock = threading.RLock()
        self._flush_lock = threading.Lock()  # one writer to the store at a time, records in order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._active = False  # a thread is working for this job (set and cleared under _lock)
        self._running = False  # Play: train until paused
        self._pending = 0  # epochs requested by Step
        self._in_round = False  # the thread's current epoch round may run to its end (cleared by Pause)
        self._stopped = False
        self._done_at_stop: list[bool] = []
        self.error = ""
        self._views = [self._compute_views(t) for t in self.trainers]
        self._version = 0
        self._action: dict = {}  # the last act(): its name and what the action returned
        self._unsaved: list[list[dict]] = [[] for _ in self.trainers]
        self._last_flush = time.monotonic()
        self._last_weights = time.monotonic()
        self.run_ids = ["" for _ in specs]  # a store row is created at a run's first training step

    # ------------------------------------------------------------------ events
    def play(self) -> str:
        """Start or resume training; returns an error message, or '' when it started."""
        with self._lock:
            refusal = self._refusal()
            if refusal:
                return refusal
            self._running = True
            self.set_speed(self.speed)  # back to the evaluation cadence of this speed
            return self._wake_thread()

    def pause(self) -> None:
        """Stop after the current batch; the weights stay."""
        with self._lock:
            self._running, self._pending, self._in_round = False, 0, False
        self._wake.set()

    def step(self, epochs: int = 1) -> str:
        """Train to the end of `epochs` more epochs, then pause; the same cap as Play."""
        with self._lock:
            refusal = self._refusal()
            if refusal:
                return refusal
            self._running = False
            self._pending += max(1, int(epochs))
            for t in self.trainers:  # a stepped epoch is looked at: evaluate every one of them
                t.eval_interval_s = 0.0
            return self._wake_thread()

    def stop(self, wait: float = 5.0) -> bool:
        """Stop for good (the history stays readable); True once the thread is gone."""
        with self._lock:
            if not self._stopped:
                self._done_at_stop = [t.done for t in self.trainers]
            self._stopped, self._running, self._pending, self._in_round = True, False, 0, False
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)
        self._flush(force=True)
        return thread is None or not thread.is_alive()

    def act(self, name: str, *args) -> str:
        """Run a trainer's public action (e.g. the GAN's `d_step`) on every trainer while paused.

        Only names in the trainer class's `ACTIONS` are allowed. The new views are published and
        any epoch records the action closed go to the store; the action's return value is in
        `snapshot()["action"]`. Returns an error message, or '' when it ran.
        """
        allowed = set.intersection(*(set(getattr(type(t), "ACTIONS", ())) for t in self.trainers))
        if name not in allowed:
            return f"{name!r} is not an action of this run; allowed: {', '.join(sorted(allowed)) or 'none'}"
        with self._lock:
            if self._stopped:
                return STOPPED
            if self.error:
                return self._refusal()
            if self._running or self._pending > 0:
                return "pause training first"
        results = []
        with self._train_lock:  # waits for a batch the thread is still finishing
            for i, t in enumerate(self.trainers):
                if t.done:
                    continue
                self._ensure_run(i)
                before = len(t.history)
                try:
                    results.append(getattr(t, name)(*args))
                except (TypeError, ValueError) as e:
                    return f"{name} failed: {e}"
                self._unsaved[i].extend(t.history[before:])
            views = [self._compute_views(t) for t in self.trainers]
        with self._lock:
            self._action = {"name": name, "results": [_plain(r) for r in results]}
            if results:
                self._views = views
                self._version += 1
        if not results:
            return self._done_message()
        self._flush(force=True)
        return ""

    def set_speed(self, epochs_per_redraw: int) -> None:
        """0: full speed (a snapshot every PUBLISH_S); N >= 1: a snapshot every N epochs (1 = slow motion)."""
        self.speed = max(0, int(epochs_per_redraw))
        for t in self.trainers:
            t.eval_interval_s = 0.0 if self.speed == 1 else EVAL_S

    def _publish_due(self, epochs_since: int, last_publish: float) -> bool:
        if self.speed == 0:
            return time.perf_counter() - last_publish >= PUBLISH_S
        return epochs_since >= self.speed

    def apply_live(self, specs: Spec | list[Spec]) -> None:
        """Give paused trainers new live fields (LR, regularisation, ...); weights are kept."""
        specs = specs if isinstance(specs, list) else [specs]
        with self._train_lock:
            for t, s in zip(self.trainers, specs):
                t.apply_live(s)

    def weights(self, i: int = 0) -> bytes:
        """Trainer i's weights as safetensors (the spec in the metadata), read between batches."""
        with self._train_lock:
            t = self.trainers[i]
            return weights_bytes(t.model, t.spec)

    def _weights_now(self, i: int) -> bytes | None:
        """Trainer i's weights if no other thread is inside a batch or a slow view, else None (saved later).

        The training thread saves them itself when it leaves, so a Stop never waits on a stuck thread.
        """
        if not self._train_lock.acquire(blocking=False):
            return None
        try:
            return weights_bytes(self.trainers[i].model, self.trainers[i].spec)
        finally:
            self._train_lock.release()

    def touch(self) -> None:
        """The page is still looking at this job."""
        self.last_seen = time.time()

    # ------------------------------------------------------------------ state
    @property
    def running(self) -> bool:
        """A thread is training (or finishing its batch after a Pause)."""
        return self._active

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
                    "spec": t.spec,
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
                "action": dict(self._action),
            }

    # ------------------------------------------------------------------ thread
    def _refusal(self) -> str:
        """Why Play/Step cannot start now, or '' (called under _lock)."""
        if self._stopped:
            return STOPPED
        if self.error:
            return f"this run stopped with an error ({self.error}); press Reset to start a new one"
        if all(t.done for t in self.trainers):
            return self._done_message()
        return ""

    def _wake_thread(self) -> str:
        """Make sure a thread works on the events (called under _lock); BUSY when no slot is free."""
        if not self._active:
            thread = self._start_thread(self._loop, f"job-{self.id}")
            if thread is None:
                self._running, self._pending = False, 0
                return BUSY
            self._thread, self._active = thread, True
        self._wake.set()
        return ""

    def _wanted(self) -> bool:
        return not self._stopped and (self._running or self._pending > 0)

    def _done_message(self) -> str:
        msgs = [t.message for t in self.trainers if t.message]
        return "; ".join(msgs) or "training has finished"

    def _loop(self) -> None:
        since_publish, last_publish = 0, 0.0
        try:
            while True:
                with self._lock:
                    wanted = self._wanted()
                    if wanted and not self._running:
                        self._pending -= 1  # this round is one of the epochs Step asked for
                    self._in_round = wanted
                if wanted and self._train_round():
                    since_publish += 1
                    finished = all(t.done for t in self.trainers)
                    if not self._publish_due(since_publish, last_publish) and not finished:
                        self._flush()
                        continue
                    wait = SLOW_MOTION_S - (time.perf_counter() - last_publish)
                    if self.speed == 1 and wait > 0 and not finished:
                        self._give_turn()  # others train while this epoch stays on screen
                        self._wake.wait(wait)  # slow motion: each epoch stays on screen for a redraw
                        self._wake.clear()
                    self._publish()
                    self._flush()
                    since_publish, last_publish = 0, time.perf_counter()
                    if not finished:
                        continue
                elif not self._stopped:
                    self._publish()  # paused mid-epoch: show the weights as they are now
                # The store hears first, so a page that sees the job idle finds the store up to date.
                self._flush(force=True, leaving=True)
                # Leave unless an event arrived meanwhile (decided under the lock, so no Play is lost).
                with self._lock:
                    if not self._wanted() or all(t.done for t in self.trainers):
                        self._running, self._pending, self._active = False, 0, False
                        break
        except Exception as e:  # keep the history; show the message instead of a dead thread
            self.error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
            self._flush(force=True, leaving=True)
            with self._lock:
                self._running, self._pending, self._active = False, 0, False
        finally:
            self._give_turn()

    def _give_turn(self) -> None:
        if self._turns is not None:
            self._turns.give(self)

    def _train_round(self) -> bool:
        """One epoch of every unfinished trainer, batch by batch in turn (A, B, A, B, ...); False when
        Pause or Stop cut it short. Flags are read once per turn, so a paused A and B have taken the
        same number of steps (A's epoch-closing step is the slow one: a check after it would leave B
        one epoch behind)."""
        active = [t for t in self.trainers if not t.done]
        if not active:
            return False
        target = min(t.epoch for t in active) + 1
        while True:
            turn = [i for i, t in enumerate(self.trainers) if not t.done and t.epoch < target]
            if not turn:
                return True
            with self._lock:
                if self._stopped or not (self._running or self._in_round):
                    return False
            for i in turn:
                t = self.trainers[i]
                if self._turns is not None:
                    self._turns.keep(self)  # the server's jobs train one at a time, slice by slice
                with self._train_lock:
                    self._ensure_run(i)
                    result = t.step()
                if result.metrics:
                    self._unsaved[i].append(result.metrics)

    def _compute_views(self, trainer: Trainer) -> dict:
        return self.views_fn(trainer) if self.views_fn else {}

    def _publish(self) -> None:
        with self._train_lock:  # views run the models; an action must not change weights meanwhile
            views = [self._compute_views(t) for t in self.trainers]
        with self._lock:
            self._views = views
            self._version += 1

    # ------------------------------------------------------------------ store
    def _ensure_run(self, i: int) -> None:
        """Create run i's store row at its first training step (an untouched job leaves no row)."""
        if self.store is None or self.run_ids[i]:
            return
        try:
            self.run_ids[i] = self.store.create_run(to_dict(self.trainers[i].spec), self.source, self.title)
        except Exception:  # a broken store must not stop training
            traceback.print_exc()

    def _run_status(self, i: int, leaving: bool) -> str:
        t = self.trainers[i]
        if self.error:
            return "error"
        if self._stopped and not (self._done_at_stop and self._done_at_stop[i]):
            return "stopped"  # even if the batch in flight then closed the last epoch
        if t.done:
            return t.status
        return "running" if self._active and not leaving else "paused"

    def _flush(self, force: bool = False, leaving: bool = False) -> None:
        """Send unsaved epoch records and each run's status to the store (at most every FLUSH_S).

        `leaving`: the thread is about to end, so a run still unfinished is paused, not running.
        """
        if self.store is None or (not force and time.monotonic() - self._last_flush < FLUSH_S):
            return
        with self._flush_lock:
            self._last_flush = time.monotonic()
            save = leaving or self._stopped or time.monotonic() - self._last_weights >= WEIGHTS_S
            if save:
                self._last_weights = time.monotonic()
            for i, t in enumerate(self.trainers):
                if not self.run_ids[i]:
                    continue
                recs, self._unsaved[i] = self._unsaved[i], []
                try:
                    self.store.add_metrics(self.run_ids[i], recs)
                    last = t.history[-1] if t.history else {}
                    summary = {k: v for k, v in last.items() if isinstance(v, (int, float))}
                    summary["message"] = self.error or t.message
                    self.store.finish_run(self.run_ids[i], self._run_status(i, leaving), summary)
                    raw = self._weights_now(i) if save else None
                    if raw is not None:
                        self.store.save_weights(self.run_ids[i], raw)
                except Exception:  # a busy or broken store must not stop training
                    traceback.print_exc()


def _plain(result) -> dict:
    """An action's return value as plain numbers (a StepResult or a dict of floats)."""
    if dataclasses.is_dataclass(result):
        result = dataclasses.asdict(result)
    return dict(result) if isinstance(result, dict) else {}


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
