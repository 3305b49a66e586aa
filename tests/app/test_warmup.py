"""The warm-up thread: started after the first page, it imports what training pages read first; a run before it
started never waits for it."""

import sys
import time

from ui.warmup import MODULES, WarmUp


def test_nothing_waits_before_the_thread_starts_and_every_module_is_imported_after():
    """Before start(), waiting for pandas returns at once (Home's first run); after it, every module is imported."""
    warm = WarmUp()
    t0 = time.perf_counter()
    warm.wait_for_pandas(timeout=10)
    assert time.perf_counter() - t0 < 1.0 and warm.thread is None
    warm.start()
    warm.start()  # once per server: a second call starts no second thread
    first = warm.thread
    warm.wait_for_pandas(timeout=60)
    assert hasattr(sys.modules["pandas"], "Series")  # whole, not half-imported
    first.join(120)
    assert warm.thread is first and not first.is_alive()
    assert all(name in sys.modules for name in MODULES)
