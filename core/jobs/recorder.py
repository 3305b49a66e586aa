"""A job's runs in the store: a row at a run's first step, epoch records and statuses at most every FLUSH_S,
weights when a run pauses or ends and at most every WEIGHTS_S while it trains.

The recorder knows the store and the records, not the job: the job says each run's status and hands
over weights when it can read them.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable

from core.engine import Trainer
from core.spec import Spec, to_dict

FLUSH_S = 2.0  # epoch records reach the store at least this often: a killed server loses seconds, not a run
# Weights reach the store when a run pauses or ends and at most this often while it trains: a 10k-parameter
# MLP is ~40 kB of safetensors, so a class of 30 writes ~40 kB/s at most.
WEIGHTS_S = 30.0


class Recorder:
    """Sends a job's epoch records, statuses and weights to `store` (None: records nothing)."""

    def __init__(self, store, source: str, titles: list[str]):
        self.store, self.source, self.titles = store, source, titles  # one run name per side
        runs = len(titles)
        self.run_ids = ["" for _ in range(runs)]  # a store row is created at a run's first training step
        self._unsaved: list[list[dict]] = [[] for _ in range(runs)]
        self._lock = threading.Lock()  # one writer to the store at a time, records in order
        self._last_flush = time.monotonic()
        self._last_weights = time.monotonic()

    def ensure_run(self, i: int, spec: Spec) -> None:
        """Create run i's store row at its first training step (an untouched job leaves no row)."""
        if self.store is None or self.run_ids[i]:
            return
        try:
            self.run_ids[i] = self.store.create_run(to_dict(spec), self.source, self.titles[i])
        except Exception:  # a broken store must not stop training
            traceback.print_exc()

    def add(self, i: int, records: list[dict]) -> None:
        """Epoch records of run i not yet in the store."""
        self._unsaved[i].extend(records)

    def flush(
        self,
        trainers: list[Trainer],
        status: Callable[[int], str],
        error: str,
        weights: Callable[[int], bytes | None],
        force: bool = False,
        save: bool = False,
    ) -> None:
        """Send unsaved epoch records and each run's `status(i)` to the store (at most every FLUSH_S).

        `error`: the job's error message ('' if none); `save`: store the weights now (a run pauses or
        ends), else at most every WEIGHTS_S; `weights(i)` returns None when they cannot be read now.
        """
        if self.store is None or (not force and time.monotonic() - self._last_flush < FLUSH_S):
            return
        with self._lock:
            self._last_flush = time.monotonic()
            save = save or time.monotonic() - self._last_weights >= WEIGHTS_S
            if save:
                self._last_weights = time.monotonic()
            for i, t in enumerate(trainers):
                if not self.run_ids[i]:
                    continue
                recs, self._unsaved[i] = self._unsaved[i], []
                try:
                    self.store.add_metrics(self.run_ids[i], recs)
                    now = status(i)
                    raw = weights(i) if save or now != "running" else None
                    if raw is not None:  # before the status: a run another process sees paused has its weights
                        self.store.save_weights(self.run_ids[i], raw)
                    last = t.history[-1] if t.history else {}
                    summary = {k: v for k, v in last.items() if isinstance(v, (int, float))}
                    summary["message"] = error or t.message
                    self.store.finish_run(self.run_ids[i], now, summary)
                except Exception:  # a busy or broken store must not stop training: the next flush sends them again
                    self._unsaved[i] = recs + self._unsaved[i]
                    traceback.print_exc()
