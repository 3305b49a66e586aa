"""The SQLite side of the run store: one file in WAL mode, a connection per call, every write one
`BEGIN IMMEDIATE` transaction retried while another writer (a thread, the runner, another server
process) holds the lock, so "database is locked" never reaches a user."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

RETRY_S = 60.0  # give up on a locked database only after this long


class SqliteBackend:
    """Transactions and reads on one SQLite file; the schema's version is PRAGMA user_version."""

    dialect = "sqlite"
    errors = (sqlite3.DatabaseError,)
    for_update = ""  # BEGIN IMMEDIATE already holds the whole file

    def __init__(self, path: Path):
        self.path = Path(path)
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _retry(self._set_wal)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: sqlite3 connections must not cross threads, and these calls are rare.
        db = sqlite3.connect(self.path, timeout=RETRY_S, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(RETRY_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def _set_wal(self) -> None:
        db = self._connect()
        try:
            db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
        finally:
            db.close()

    def write(self, fn: Callable[[sqlite3.Connection], object]):
        """Run fn(db) in one BEGIN IMMEDIATE transaction (retried while the file is locked)."""

        def attempt():
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock upgrading a read
                try:
                    out = fn(db)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
                return out
            finally:
                db.close()

        return _retry(attempt)

    def read(self, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query."""

        def attempt():
            db = self._connect()
            try:
                return db.execute(sql, args).fetchall()
            finally:
                db.close()

        return _retry(attempt)

    def version(self, db) -> int:
        """The schema version written in the file (0 for a new file or one from before versions)."""
        return db.execute("PRAGMA user_version").fetchone()[0]

    def set_version(self, db, version: int) -> None:
        """Write the schema version."""
        db.execute(f"PRAGMA user_version = {int(version)}")

    def has_table(self, db, name: str) -> bool:
        """True when the table exists."""
        return bool(db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone())

    def lock_schema(self, db) -> None:
        """Nothing to do: BEGIN IMMEDIATE already keeps a second process out while the schema changes."""

    def ddl(self, stmt: str) -> str:
        """A CREATE/ALTER statement as written in core.store (SQLite's own types)."""
        return stmt

    def close(self) -> None:
        """Nothing held between calls."""


def _retry(fn):
    """Call fn, retrying with backoff while SQLite reports the file locked or busy (up to RETRY_S)."""
    end, delay = time.monotonic() + RETRY_S, 0.005
    while True:
        try:
            return fn()
        except sqlite3.OperationalError as e:
            msg = str(e).lower()
            if ("locked" not in msg and "busy" not in msg) or time.monotonic() > end:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
