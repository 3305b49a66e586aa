"""A Job: the only door to a running model. The page sends events (play, pause, step, stop, act) and
reads `snapshot()`, which returns copies taken under a lock; a Job never calls Streamlit.

Several trainers in one job train in lockstep (one epoch each, in turn), which is how A/B comparisons
see the same number of epochs. The thread that trains them is core/jobs/loop.py; the store is
written by core/jobs/recorder.py.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable

from core.engine import Probe
from core.export.files import load_weights_into, read_weights, weights_bytes
from core.jobs.loop import StartFn, TrainingLoop, ViewFn, daemon_thread, plain
from core.jobs.recorder import Recorder
from core.runs import side_titles
from core.spec import Spec, to_dict
from core.trainers import make_trainer
from core.turns import Turns

EVAL_S = 0.15  # while the page is live, full-set evaluation at most this often (every epoch in slow motion)
LEAVE_WAIT_S = 5.0  # a training thread leaving waits this long for a view to end before it saves the weights
STOPPED = "this run was stopped; press Reset to start a new one"


class Job(TrainingLoop):
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
        self._recorder = Recorder(store, source, side_titles(title, [to_dict(s) for s in specs]))
        self.speed = 0
        self.set_speed(speed)
        self.created = time.time()
        self.last_seen = time.time()
        self.owner = ""  # the browser session that drives this job (set by the UI)
        self._start_thread = start_thread or daemon_thread
        self._turns = turns  # a server's jobs train in turns (core/turns.py); None: this job alone
        self._lock = threading.Lock()  # the event flags and the published views
        # Held while the models run (a batch, an action, the views). Reentrant: a probe may stop the job from
        # inside a step, and stop() then saves the weights in the same thread.
        self._train_lock = threading.RLock()
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
        self._action: dict = {}  # the last act() or begin(): its name and what the action returned
        self._actions: dict[str, dict] = {}  # the last of each action, by name (a backprop step keeps the finder's)
        self._queued: tuple[str, tuple] | None = None  # begin()'s action, for the thread to start
        self._busy = ""  # the name of the action the thread is running ('' when none)
        self._cancel = False  # Pause: the running action stops at its next progress report

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
            self._queued, self._cancel = None, True
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
        refusal = self._action_refusal(name)
        if refusal:
            return refusal
        results = []
        with self._train_lock:  # waits for a batch the thread is still finishing
            for i, t in enumerate(self.trainers):
                if t.done:
                    continue
                self._recorder.ensure_run(i, t.spec)
                before = len(t.history)
                try:
                    results.append(getattr(t, name)(*args))
                except (TypeError, ValueError) as e:
                    return f"{name} failed: {e}"
                self._recorder.add(i, t.history[before:])
            views = [self._compute_views(t) for t in self.trainers]
        with self._lock:
            self._set_action({"name": name, "results": [plain(r) for r in results]})
            if results:
                self._views = views
                self._version += 1
        if not results:
            return self._done_message()
        self._flush(force=True)
        return ""

    def begin(self, name: str, *args) -> str:
        """Start a long action that leaves the weights alone (e.g. `lr_find`) in the job's thread, on every
        unfinished trainer in turn, and return at once: the page stays live while it runs.

        The action takes a `progress(share)` keyword that the thread calls as it goes. `snapshot()["action"]`
        holds its name and `progress` (0 to 1) while it runs; then its `results`, or `cancelled`, or `error`
        (and `snapshot()["actions"][name]` keeps it after other actions ran).
        `running` is True meanwhile, so Play waits for it and Pause or Stop cancel it. Returns an error
        message, or '' when it started.
        """
        refusal = self._action_refusal(name)
        if refusal:
            return refusal
        with self._lock:
            if all(t.done for t in self.trainers):
                return self._done_message()
            self._queued, self._cancel = (name, args), False
            before = self._action, self._actions.get(name)
            self._set_action({"name": name, "results": [], "progress": 0.0})
            msg = self._wake_thread()
            if msg:
                self._queued, self._action = None, before[0]
                self._actions[name] = before[1] or {}
            return msg

    def _action_refusal(self, name: str) -> str:
        """Why action `name` cannot run now, or ''."""
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
            if self._queued is not None or self._busy:
                return f"wait until {(self._queued or (self._busy,))[0]} has finished, or press Pause to stop it"
        return ""

    def set_speed(self, epochs_per_redraw: int) -> None:
        """0: full speed (a snapshot every PUBLISH_S); N >= 1: a snapshot every N epochs (1 = slow motion)."""
        self.speed = max(0, int(epochs_per_redraw))
        for t in self.trainers:
            t.eval_interval_s = 0.0 if self.speed == 1 else EVAL_S

    def adopt_views(self, views: ViewFn) -> None:
        """Compute the page's views from now on (a job created off its page, e.g. a continued run, had none)."""
        self.views_fn = views
        self._publish()

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

    def _weights_now(self, i: int, wait: float = 0.0) -> bytes | None:
        """Trainer i's weights if no other thread is inside a batch or a slow view (within `wait` seconds), else
        None (saved later).

        The training thread saves them itself when it leaves, so a Stop never waits on a stuck thread.
        """
        if not self._train_lock.acquire(timeout=wait):
            return None
        try:
            return weights_bytes(self.trainers[i].model, self.trainers[i].spec)
        finally:
            self._train_lock.release()

    def touch(self) -> None:
        """The page is still looking at this job."""
        self.last_seen = time.time()

    def data(self, i: int = 0):
        """Trainer i's dataset (what a page draws the points and pictures from)."""
        return self.trainers[i].data

    def view(self, fn: Callable, i: int, *args):
        """`fn(trainer i, *args)` between batches: a view on demand (e.g. of one chosen image); `fn` is module-level."""
        with self._train_lock:
            return fn(self.trainers[i], *args)

    # ------------------------------------------------------------------ state
    @property
    def run_ids(self) -> list[str]:
        """Each run's store row id ('' until its first training step, or without a store)."""
        return self._recorder.run_ids

    @property
    def specs(self) -> list[Spec]:
        """Each trainer's spec (live fields as last applied)."""
        return [t.spec for t in self.trainers]

    @property
    def trained(self) -> bool:
        """Some trainer has taken a step (a rebuild then loses something)."""
        return any(t.step_count for t in self.trainers)

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
                    "lr": t.lr,
                    "steps_per_epoch": t.steps_per_epoch,
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
                "actions": {name: dict(a) for name, a in self._actions.items()},
            }

    # ------------------------------------------------------------------ refusals and the store
    def _refusal(self) -> str:
        """Why Play/Step cannot start now, or '' (called under _lock)."""
        if self._stopped:
            return STOPPED
        if self.error:
            return f"this run stopped with an error ({self.error}); press Reset to start a new one"
        if all(t.done for t in self.trainers):
            return self._done_message()
        return ""

    def _done_message(self) -> str:
        msgs = [t.message for t in self.trainers if t.message]
        return "; ".join(msgs) or "training has finished"

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
        """Send unsaved epoch records, each run's status and (when it pauses or ends) its weights to the store.

        `leaving`: the thread is about to end, so a run still unfinished is paused, not running.
        """
        status = functools.partial(self._run_status, leaving=leaving)
        save = leaving or self._stopped
        # The training thread leaving (a Pause, the end) waits for a view another thread is computing: without
        # the wait a page polling its snapshot made a Pause store no weights, and a crash then lost them.
        weights = functools.partial(self._weights_now, wait=LEAVE_WAIT_S) if leaving else self._weights_now
        self._recorder.flush(self.trainers, status, self.error, weights, force=force, save=save)
