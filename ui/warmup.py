"""Slow imports done once per server in the background, so no student waits for them on a page visit.

scikit-learn (the digits of the CNN, GAN, autoencoder and transfer pages) takes 1-2 s to import on an
idle machine and several seconds on a busy one; without this, the first visit to such a page pays it.
"""

from __future__ import annotations

import importlib
import threading

import streamlit as st

# Imported in this order by the warm-up thread: what the image pages read first.
MODULES = ("sklearn.datasets", "core.views.cnn", "core.charts.cnn", "core.views.ae", "core.charts.ae", "core.views.seq")


def _warm() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # a page that needs it reports the error itself when it is opened
            return


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Start the warm-up thread (once per server process).

    pandas is imported here first, in the caller's thread (0.4 s, once): scikit-learn imports it, and Plotly
    uses pandas whenever it is in `sys.modules`. A page building a chart while the warm-up thread was halfway
    through importing pandas failed with "partially initialized module 'pandas' has no attribute 'Series'".
    """
    import pandas  # noqa: F401

    thread = threading.Thread(target=_warm, name="warm-up", daemon=True)
    thread.start()
    return thread
