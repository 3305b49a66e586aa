"""Shared fixtures: an isolated run store for every test, on SQLite and on a throwaway PostgreSQL server."""

import logging
import os
import tempfile

import pytest

# Every test run writes to its own store, never the user's.
os.environ.setdefault("PLAYGROUND_DATA", tempfile.mkdtemp(prefix="playground-test-"))
os.environ.pop("PLAYGROUND_DATABASE_URL", None)

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server started for this test session (stopped at its end)."""
    from tests.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url
        # Stores a test left open try to reconnect to the stopped server until the interpreter exits.
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path):
    """An empty store's location: a SQLite file, or a fresh database on the throwaway server."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite")
    from tests.postgres import fresh_database

    return fresh_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def tmp_store(store_location):
    """A fresh store (each test runs once on SQLite and once on PostgreSQL)."""
    from core.store import Store

    store = Store(store_location)
    yield store
    store.close()


@pytest.fixture
def default_store(store_location, monkeypatch):
    """The store that a bare Store() and shared_store() open, pointed at a fresh store_location."""
    from pathlib import Path

    from core.store import shared_store

    if store_location.startswith("postgresql://"):
        monkeypatch.setenv("PLAYGROUND_DATABASE_URL", store_location)
    else:
        monkeypatch.setenv("PLAYGROUND_DATA", str(Path(store_location).parent))
    return shared_store()


# ---------------------------------------------------------------- the browser tests' pretraining, started early
_pretraining: list = []


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """In the controller of a parallel run (pytest-xdist) that has browser tests: pretrain their Transfer weights
    from the start, beside the first tests. Otherwise the first browser test of each test process waits for them
    (31 s, with one core idle); the test processes then find them done (tests/e2e/server.py `pretrain`)."""
    import threading

    if _pretraining or not any(i.startswith("tests/e2e/") for i in ids):
        return
    from tests.e2e.server import pretrain

    shared = node.config._tmp_path_factory.getbasetemp()  # the parent of each test process's own folder
    _pretraining.append(threading.Thread(target=pretrain, args=(shared,), daemon=True))
    _pretraining[0].start()


def pytest_sessionfinish(session):
    """Stop a pretraining that is still running when the test run ends (a run stopped early)."""
    from tests.e2e.server import PRETRAINING

    for proc in list(PRETRAINING):
        proc.kill()
