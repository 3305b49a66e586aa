"""Shared fixtures: an isolated run store for every test, on SQLite and on a throwaway PostgreSQL server."""

import logging
import os
import tempfile

import pytest

# Every test run writes to its own store, never the user's.
os.environ.setdefault("PLAYGROUND_DATA", tempfile.mkdtemp(prefix="playground-test-"))
os.environ.pop("PLAYGROUND_DATABASE_URL", None)

BACKENDS = ("sqlite", "postgresql")

# The longest tests (a minute or more each, function-scoped fixtures only) start first, so that the two test
# processes (tests/run.sh: pytest-xdist, --dist loadgroup) end together instead of one finishing a tour alone.
LONGEST_FIRST = (
    "tests/e2e/test_tours_e2e.py::",
    "tests/app/test_every_page.py::test_random_actions",
    "tests/e2e/test_textboxes_e2e.py::test_no_text_overlaps_or_is_cut",
    "tests/e2e/test_round_trip_e2e.py::",
    "tests/app/test_sessions.py::",
    "tests/e2e/test_lessons_e2e.py::",
    "tests/e2e/test_offline_e2e.py::",
)


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        return next((i for i, p in enumerate(LONGEST_FIRST) if item.nodeid.startswith(p)), len(LONGEST_FIRST))

    # A module's shared fixture (a server, pretrained weights) is built once: its tests stay in one process.
    for item in items:
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        if any(d[-1].scope in ("module", "package", "class") for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=rank)  # stable: the rest keep their order


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
