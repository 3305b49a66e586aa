"""Training turns: the jobs of one server train one at a time, each for a short slice, first come first served.

PyTorch lets go of Python's global lock around every operation. With several training threads the lock
changes hands at nearly every operation of a small network, and the threads spend their time waking each
other: on the 2-core machine five Playground jobs trained 456 steps a second in all, against 1,649 for
one job alone (bench/bench_live.py class). Taking turns keeps one thread training at a time; the others
wait, asleep, for their slice. Each job still gets its share, and Pause and Stop are seen at the next
turn (a few slices at most).
"""

from __future__ import annotations

import threading
import time
from collections import deque

SLICE_S = 0.02  # a job keeps its turn this long while others wait (a step of a small network is ~0.5 ms)


class Turns:
    """A fair (first come, first served) turn shared by a server's training threads."""

    def __init__(self, slice_s: float = SLICE_S):
        self.slice_s = slice_s
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._holder: object | None = None
        self._since = 0.0

    def take(self, who: object) -> None:
        """Wait until it is `who`'s turn, then hold it (no-op while `who` holds it)."""
        with self._cond:
            if self._holder is who:
                return
            self._queue.append(who)
            while self._holder is not None or self._queue[0] is not who:
                self._cond.wait()
            self._queue.popleft()
            self._holder, self._since = who, time.perf_counter()

    def give(self, who: object) -> None:
        """Hand the turn to the next in line (no-op unless `who` holds it)."""
        with self._cond:
            if self._holder is who:
                self._holder = None
                self._cond.notify_all()

    def keep(self, who: object) -> None:
        """Between two steps: hold the turn, or pass it on when the slice is over and others wait."""
        with self._cond:
            over = self._holder is who and self._queue and time.perf_counter() - self._since >= self.slice_s
        if over:
            self.give(who)
        self.take(who)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)
