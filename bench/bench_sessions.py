"""Memory and threads over many browser sessions: each opens the Playground, presses Play and leaves.

    python -m bench.bench_sessions [--sessions N] [--reap-every K]

Sessions run through Streamlit's AppTest from app.py in this process, sharing one JobManager as
a server's sessions do. After every K sessions the jobs of the closed ones are reaped (the
manager's idle timeout, fast-forwarded). Prints the process RSS after a warm-up (torch, Streamlit
and the page imported once), every 20 sessions, and after the last reap, with the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("PLAYGROUND_DATA", tempfile.mkdtemp(prefix="bench-sessions-"))  # never the user's store

from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
WARM_UP = 5


def rss_mb() -> float:
    """Resident set size of this process (Linux /proc), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def training_threads() -> int:
    return sum(t.name.startswith("job-") and t.name != "job-reaper" for t in threading.enumerate())


def session() -> None:
    """One student: open the app, go to the Playground, press Play, close the tab."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/playground.py").run()
    at.button(key="pg.play").click().run()
    if at.exception:
        raise RuntimeError(at.exception[0].message)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--reap-every", type=int, default=5)
    args = ap.parse_args()
    init = PagesManager.__init__

    def routed_init(self, *a, **kw):  # as a running server does after its first st.navigation call
        init(self, *a, **kw)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = routed_init
    from ui.state import manager

    jm = manager()

    def reap() -> None:
        jm.reap(now=time.time() + jm.idle_timeout + 1)
        gc.collect()

    for _ in range(WARM_UP):
        session()
    reap()
    base = rss_mb()
    print(f"load {os.getloadavg()[0]:.2f}; after {WARM_UP} warm-up sessions: RSS {base:.0f} MB")
    t0 = time.perf_counter()
    for k in range(1, args.sessions + 1):
        session()
        if k % args.reap_every == 0:
            reap()
        if k % 20 == 0:
            print(
                f"{k:4d} sessions: RSS {rss_mb():6.0f} MB ({rss_mb() - base:+5.0f}), "
                f"training threads {training_threads()}, jobs held {len(jm.jobs)}"
            )
    reap()
    end = rss_mb()
    print(
        f"after {args.sessions} sessions and a reap: RSS {end:.0f} MB ({end - base:+.0f} MB, "
        f"{(end - base) / args.sessions:+.2f} MB a session), training threads {training_threads()}, "
        f"jobs held {len(jm.jobs)}; {time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.2f}"
    )
    jm.stop_all()


if __name__ == "__main__":
    main()
