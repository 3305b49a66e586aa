"""The PostgreSQL side of the run store (psycopg 3 with a connection pool), for several app replicas.

core.store writes its SQL once, with `?` placeholders and SQLite's column types; this module
translates both. A write is one transaction at READ COMMITTED: a write that reads before it writes
locks the run's row first (`for_update`), schema changes hold an advisory lock, and a transaction
that PostgreSQL aborts as a deadlock or serialization failure is run again.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

RETRY_S = 60.0  # give up on a transaction PostgreSQL keeps aborting only after this long
CONNECT_S = 10.0  # a store that cannot reach its server says so after this long
POOL_MAX = 8  # connections per process: a replica's jobs flush at most every 2 s, pages read between
SCHEMA_LOCK = 0x706C6179  # pg_advisory_xact_lock key held while the schema is created or migrated
TYPES = {r"\bREAL\b": "DOUBLE PRECISION", r"\bBLOB\b": "BYTEA", r"\bINTEGER\b": "BIGINT"}


def describe(url: str) -> str:
    """user@host:port/dbname of a URL, without its password (for messages)."""
    try:
        d = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "a PostgreSQL URL that cannot be read"
    return f"postgresql://{d.get('user', '')}@{d.get('host', 'localhost')}:{d.get('port', 5432)}/{d.get('dbname', '')}"


class _Tx:
    """A connection inside a transaction that takes core.store's `?` placeholders."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def execute(self, sql: str, args: tuple = ()):
        return self.conn.execute(_placeholders(sql), args) if args else self.conn.execute(sql)

    def executemany(self, sql: str, rows: list[tuple]):
        cur = self.conn.cursor()
        cur.executemany(_placeholders(sql), rows)
        return cur


class PostgresBackend:
    """Transactions and reads on a PostgreSQL database; the schema's version is in `schema_version`."""

    dialect = "postgresql"
    errors = (psycopg.Error, PoolTimeout)
    for_update = " FOR UPDATE"

    def __init__(self, url: str):
        self.url, self.where = url, describe(url)
        self._pool, self._pid = None, 0
        self._open()

    def _open(self) -> ConnectionPool:
        # A pool must not cross a fork: a child process opens its own.
        if self._pool is None or self._pid != os.getpid():
            pool = ConnectionPool(
                self.url,
                min_size=1,
                max_size=POOL_MAX,
                kwargs={"autocommit": True},
                check=ConnectionPool.check_connection,  # a server restart leaves dead connections behind
                name="playground-store",
                open=False,
            )
            pool.open(wait=True, timeout=CONNECT_S)
            self._pool, self._pid = pool, os.getpid()
        return self._pool

    def write(self, fn: Callable[[_Tx], object]):
        """Run fn(db) in one transaction, again while PostgreSQL aborts it as a deadlock or serialization failure."""
        end, delay = time.monotonic() + RETRY_S, 0.005
        while True:
            try:
                with self._open().connection() as conn, conn.transaction():
                    return fn(_Tx(conn))
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if time.monotonic() > end:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def read(self, sql: str, args: tuple = ()) -> list[tuple]:
        """The rows of one query."""
        with self._open().connection() as conn:
            return _Tx(conn).execute(sql, args).fetchall()

    def version(self, db: _Tx) -> int:
        """The schema version (0 for an empty database)."""
        if not self.has_table(db, "schema_version"):
            return 0
        row = db.execute("SELECT version FROM schema_version").fetchone()
        return row[0] if row else 0

    def set_version(self, db: _Tx, version: int) -> None:
        """Write the schema version."""
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        db.execute("DELETE FROM schema_version")
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (int(version),))

    def has_table(self, db: _Tx, name: str) -> bool:
        """True when the table exists in the connection's search path."""
        return db.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]

    def lock_schema(self, db: _Tx) -> None:
        """Hold the schema lock to the end of the transaction: replicas starting together migrate once."""
        db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))

    def ddl(self, stmt: str) -> str:
        """A CREATE/ALTER statement with PostgreSQL's types (REAL is 4 bytes there: times need 8)."""
        for pattern, name in TYPES.items():
            stmt = re.sub(pattern, name, stmt)
        return stmt

    def close(self) -> None:
        """Close the pool's connections."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None


def _placeholders(sql: str) -> str:
    """core.store's `?` placeholders as psycopg's `%s` (a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")
