"""Shared fixtures: an isolated run store for every test session."""

import os
import tempfile

import pytest

# Every test run writes to its own store, never the user's.
os.environ.setdefault("PLAYGROUND_DATA", tempfile.mkdtemp(prefix="playground-test-"))


@pytest.fixture
def tmp_store(tmp_path):
    """A fresh SQLite store in a temporary folder."""
    from core.store import Store

    return Store(tmp_path / "runs.sqlite")
