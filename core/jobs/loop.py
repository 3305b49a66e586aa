"""The thread side of a Job: epoch rounds trained batch by batch, views published, the store kept up.

`TrainingLoop` holds what runs in the job's thread. It reads the event flags that the Job's public
methods (core/jobs/job.py) set under `_lock`, between batches, so Pause and Stop reach a long epoch
within one batch. Several trainers train in lockstep: one epoch each per round, batch by batch in turn.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from collections.abc import Callable

from core.engine import Trainer
from core.jobs.recorder import Recorder
from core.turns import Turns

ViewFn = Callable[[Trainer], dict]  # trainer -> arrays for the charts (decision grid, samples, ...)
StartFn = Callable[[Callable[[], None], str], "threading.Thread | None"]  # (target, name) -> started thread
# speed 0 (full speed): a redraw snapshot every PUBLISH_S of wall time, training never waits; the page polls
# every ~0.15 s, so faster snapshots would be computed and never drawn.
PUBLISH_S = 0.1
SLOW_MOTION_S = 0.2  # speed 1 (slow motion): every epoch is published and stays up at least this long
BUSY = "the server is busy training other runs; try again in a moment"


class Cancelled(Exception):
    """Raised inside a background action's progress report when Pause or Stop came."""


def plain(result) -> dict:
    """An action's return value as plain numbers (a StepResult or a dict of floats)."""
    if dataclasses.is_dataclass(result):
        result = dataclasses.asdict(result)
    return dict(result) if isinstance(result, dict) else {}


def out_of_memory(e: BaseException) -> bool:
    """A failed allocation: Python's MemoryError, PyTorch's RuntimeError from its allocator, a thread without room."""
    words = ("can't allocate memory", "not enough memory", "can't start new thread")  # the last: no room for a stack
    return isinstance(e, MemoryError) or any(w in str(e) for w in words)


def describe(e: BaseException) -> str:
    """A training failure in one line; running out of memory says what to do about it."""
    if out_of_memory(e):
        return (
            "out of memory: this network needs more memory than the server allows a run "
            "(PLAYGROUND_MAX_MEMORY_MB); use fewer or narrower layers or a smaller batch"
        )
    return f"{type(e).__name__}: {e}"


def daemon_thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A started daemon thread (a job without a manager has no cap)."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class TrainingLoop:
    """What a Job's thread runs; the Job (core/jobs/job.py) sets these attributes and the event flags."""

    id: str
    trainers: list[Trainer]
    speed: int
    error: str
    views_fn: ViewFn | None
    _start_thread: StartFn
    _turns: Turns | None
    _recorder: Recorder
    _lock: threading.Lock
    _train_lock: threading.RLock
    _wake: threading.Event
    _thread: threading.Thread | None
    _active: bool
    _running: bool
    _pending: int
    _in_round: bool
    _stopped: bool
    _views: list[dict]
    _version: int
    _action: dict
    _actions: dict[str, dict]
    _queued: tuple[str, tuple] | None
    _busy: str
    _cancel: bool
    busy_since: float = 0.0  # time.monotonic() when the step in progress began; 0 between steps (a hang check)

    def _flush(self, force: bool = False, leaving: bool = False) -> None:
        raise NotImplementedError  # the Job's: it knows each run's status

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

    def _publish_due(self, epochs_since: int, last_publish: float) -> bool:
        if self.speed == 0:
            return time.perf_counter() - last_publish >= PUBLISH_S
        return epochs_since >= self.speed

    def _loop(self) -> None:
        since_publish, last_publish = 0, 0.0
        try:
            while True:
                self._run_queued()
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
                    idle = not self._wanted() or all(t.done for t in self.trainers)
                    if idle and self._queued is None:
                        self._running, self._pending, self._active = False, 0, False
                        break
        except Exception as e:  # keep the history; show the message instead of a dead thread
            self.error = describe(e)
            traceback.print_exc()
            self._flush(force=True, leaving=True)
            with self._lock:
                self._running, self._pending, self._active = False, 0, False
        finally:
            self._give_turn()

    def _run_queued(self) -> None:
        """Run the action `begin` queued on every unfinished trainer in turn, publishing its progress; Pause or
        Stop cancel it at its next progress report."""
        with self._lock:
            queued, self._queued = self._queued, None
            if queued is None or self._stopped:
                return
            self._busy = queued[0]
        name, args = queued
        todo = [t for t in self.trainers if not t.done]
        results = []
        try:
            for k, t in enumerate(todo):

                def progress(share: float, k: int = k) -> None:
                    if self._turns is not None:
                        self._turns.keep(self)  # the server's other jobs train meanwhile, slice by slice
                    with self._lock:
                        if self._cancel or self._stopped:
                            raise Cancelled
                        self._action["progress"] = (k + min(max(share, 0.0), 1.0)) / len(todo)

                with self._train_lock:
                    results.append(getattr(t, name)(*args, progress=progress))
            outcome = {"results": [plain(r) for r in results]}
        except Cancelled:
            outcome = {"cancelled": True}
        except Exception as e:  # it ran on copies: say so on the page, and the job trains on
            outcome = {"error": f"{name} failed: {e}"}
        finally:
            with self._lock:
                self._busy = ""
        with self._lock:
            self._set_action({"name": name, "results": []} | outcome)

    def _set_action(self, action: dict) -> None:
        """The last action, and the last of its name (called under _lock)."""
        self._action = self._actions[action["name"]] = action

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
                    self._recorder.ensure_run(i, t.spec)
                    self.busy_since = time.monotonic()
                    try:
                        result = t.step()
                    finally:
                        self.busy_since = 0.0
                if result.metrics:
                    self._recorder.add(i, [result.metrics])

    def _compute_views(self, trainer: Trainer) -> dict:
        return self.views_fn(trainer) if self.views_fn else {}

    def _publish(self) -> None:
        with self._train_lock:  # views run the models; an action must not change weights meanwhile
            views = [self._compute_views(t) for t in self.trainers]
        with self._lock:
            self._views = views
            self._version += 1
