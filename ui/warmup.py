"""Slow imports done once per server in the background, so no student waits for them on a page visit.

torch._dynamo (which torch.optim imports on the first optimiser a process builds) takes 1.3 s; the CNN and
autoencoder views and charts a few tenths. Without this, the first visit to a training page pays them.
(scikit-learn's digits are read from its file without importing it: core.data.images.digits.)

The thread starts when the server's first run has drawn its page (`warm_up`, at the end of app.py): started
with it, its imports took the first page's CPU and the lock Python's threads share, and Home's first render
went from 2.1 to 3.3-3.8 s (docs/benchmarks.md).
"""

from __future__ import annotations

import importlib
import threading

import streamlit as st

# Imported in this order by the warm-up thread: pandas first (see `charts_ready`), then what pages read first.
MODULES = (
    "pandas",
    "torch._dynamo",
    "core.views.cnn",
    "core.charts.cnn",
    "core.views.ae",
    "core.charts.ae",
    "core.views.seq",
)


class WarmUp:
    """The server's warm-up thread, started once, and the moment it has imported pandas."""

    def __init__(self) -> None:
        self.pandas = threading.Event()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._warm, name="warm-up", daemon=True)
                self.thread.start()

    def _warm(self) -> None:
        try:
            for name in MODULES:
                importlib.import_module(name)
                self.pandas.set()  # after the first module, pandas
        except ImportError:  # a page that needs it reports the error itself when it is opened
            pass
        finally:
            self.pandas.set()

    def wait_for_pandas(self, timeout: float) -> None:
        if self.thread is not None:
            self.pandas.wait(timeout)


@st.cache_resource(show_spinner=False)
def _warm_up() -> WarmUp:
    return WarmUp()


def warm_up() -> None:
    """Start the warm-up thread once per server process (app.py calls it once the run's page is drawn)."""
    _warm_up().start()


def charts_ready(timeout: float = 30.0) -> None:
    """Wait until the warm-up thread, if started, has imported pandas (at most ~0.4 s after the server's first run).

    Plotly uses pandas whenever it is in `sys.modules`: a page building a chart while the warm-up thread was
    halfway through importing pandas failed with "partially initialized module 'pandas' has no attribute 'Series'".
    """
    _warm_up().wait_for_pandas(timeout)
