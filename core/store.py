"""SQLite run store (stdlib sqlite3, WAL): runs and their per-epoch metrics, shared by app and runner.

Every write is one `BEGIN IMMEDIATE` transaction, retried while another writer (a thread, the
runner, another server process) holds the lock, so "database is locked" never reaches a user.
The schema carries a version (PRAGMA user_version) and older files are migrated when opened.
A run left `running` or `paused` by a process that no longer exists is marked `interrupted`
when a store is next opened; the records it flushed stay.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

SCHEMA_VERSION = 2
STATUSES = ("running", "paused", "done", "diverged", "early_stopped", "stopped", "error", "interrupted")
LIVE = ("running", "paused")  # statuses that mean "a process still holds this run"
MAX_RECORDS = 2000  # per run; beyond it older records are thinned to every 2nd, 4th, ... (see add_metrics)
KEEP_LAST = 500  # the newest records are never thinned
RETRY_S = 60.0  # give up on a locked database only after this long

WEIGHTS = """
CREATE TABLE weights (
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    updated REAL NOT NULL,
    data BLOB NOT NULL
);
"""
SCHEMA = (
    """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    pid INTEGER,
    host TEXT NOT NULL DEFAULT '',
    epochs REAL NOT NULL DEFAULT 0,
    stride INTEGER NOT NULL DEFAULT 1,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step)
);
"""
    + WEIGHTS
)


# Version 1 (no user_version) had runs without pid/host/epochs/stride, metrics without seq, and the
# statuses "created" (every page load) and "ready" (paused, finished, crashed or raised alike).
MIGRATE_1_TO_2 = (
    """
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN epochs REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN stride INTEGER NOT NULL DEFAULT 1;
ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE metrics ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE metrics SET seq = r.n FROM (
    SELECT run_id, step, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY step) - 1 AS n FROM metrics
) AS r WHERE metrics.run_id = r.run_id AND metrics.step = r.step;
UPDATE runs SET epochs = COALESCE((SELECT MAX(json_extract(data, '$.epoch')) FROM metrics WHERE run_id = runs.id), 0);
DELETE FROM runs WHERE status IN ('created', 'ready') AND NOT EXISTS (SELECT 1 FROM metrics WHERE run_id = runs.id);
UPDATE runs SET status = 'interrupted' WHERE status IN ('created', 'ready');
"""
    + WEIGHTS
)

COLUMNS = ("id", "created", "updated", "source", "title", "spec", "status", "summary", "pid", "host", "epochs", "tags")


def data_folder() -> Path:
    """The data folder: $PLAYGROUND_DATA, else ~/.dl-playground (runs, pretrained weights, uploaded tables)."""
    return Path(os.environ.get("PLAYGROUND_DATA") or os.path.join(Path.home(), ".dl-playground"))


def default_path() -> Path:
    """$PLAYGROUND_DATA/runs.sqlite, else ~/.dl-playground/runs.sqlite."""
    return data_folder() / "runs.sqlite"


class StoreError(RuntimeError):
    """The store file cannot be used (e.g. written by a newer version of the app)."""


class Store:
    """Runs and metrics in one SQLite file. Every write is one transaction; safe across threads and processes."""

    def __init__(self, path: str | Path | None = None, max_records: int = MAX_RECORDS, keep_last: int = KEEP_LAST):
        self.path = Path(path) if path else default_path()
        self.max_records, self.keep_last = max_records, min(keep_last, max_records // 2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            _retry(self._set_wal)
            self._write(self._migrate)
        except sqlite3.DatabaseError as e:  # not a database, unreadable, a full disk
            raise StoreError(f"cannot use the run store {self.path}: {e}") from None
        self.mark_interrupted()

    # ------------------------------------------------------------------ plumbing
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

    def _write(self, fn: Callable[[sqlite3.Connection], object]):
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

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        def attempt():
            db = self._connect()
            try:
                return db.execute(sql, args).fetchall()
            finally:
                db.close()

        return _retry(attempt)

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version (schema {version} > {SCHEMA_VERSION})")
        has_runs = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
        if version == SCHEMA_VERSION:
            return
        if not has_runs:
            for stmt in SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
        elif version < 2:
            for stmt in MIGRATE_1_TO_2.split(";\n"):
                if stmt.strip():
                    db.execute(stmt)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ------------------------------------------------------------------ writes
    def create_run(self, spec: dict, source: str, title: str = "", status: str = "running") -> str:
        """Record a new run (with this process's pid and host); returns its id."""
        _check(status)
        run_id = uuid.uuid4().hex[:12]
        now = time.time()
        self._write(
            lambda db: db.execute(
                "INSERT INTO runs (id, created, updated, source, title, spec, status, pid, host) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, now, now, source, title, json.dumps(spec), status, os.getpid(), socket.gethostname()),
            )
        )
        return run_id

    def add_metrics(self, run_id: str, records: list[dict]) -> None:
        """Append epoch records (each with a 'step') in one transaction, thinning long runs."""
        if not records:
            return

        def write(db):
            (seq,) = db.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
            db.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, step, data, seq) VALUES (?, ?, ?, ?)",
                [(run_id, int(r["step"]), json.dumps(r), seq + k) for k, r in enumerate(records)],
            )
            epochs = max(float(r.get("epoch", 0) or 0) for r in records)
            db.execute(
                "UPDATE runs SET updated = ?, epochs = MAX(epochs, ?) WHERE id = ?", (time.time(), epochs, run_id)
            )
            self._thin(db, run_id, seq + len(records) - 1)

        self._write(write)

    def _thin(self, db: sqlite3.Connection, run_id: str, last_seq: int) -> None:
        """Keep at most max_records: older records at an even stride (doubled as needed), the newest all."""
        (count,) = db.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
        if count <= self.max_records:
            return
        (stride,) = db.execute("SELECT stride FROM runs WHERE id = ?", (run_id,)).fetchone()
        while count > self.max_records:
            stride *= 2
            db.execute(
                "DELETE FROM metrics WHERE run_id = ? AND seq % ? != 0 AND seq <= ?",
                (run_id, stride, last_seq - self.keep_last),
            )
            (count,) = db.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
        db.execute("UPDATE runs SET stride = ? WHERE id = ?", (stride, run_id))

    def finish_run(self, run_id: str, status: str, summary: dict) -> None:
        """Set a run's final (or current) status and summary."""
        _check(status)
        self._write(
            lambda db: db.execute(
                "UPDATE runs SET status = ?, summary = ?, updated = ? WHERE id = ?",
                (status, json.dumps(summary), time.time(), run_id),
            )
        )

    def mark_interrupted(self) -> list[str]:
        """Mark `interrupted` every running or paused run of this host whose process is gone; returns their ids."""
        host = socket.gethostname()
        rows = self._read(
            f"SELECT id, pid, created FROM runs WHERE status IN ({', '.join('?' * len(LIVE))}) AND host = ?",
            (*LIVE, host),
        )
        dead = [run_id for run_id, pid, created in rows if not _process_alive(pid, created)]
        if dead:
            self._write(
                lambda db: db.executemany(
                    f"UPDATE runs SET status = 'interrupted', updated = ? WHERE id = ? AND status IN ({', '.join('?' * len(LIVE))})",
                    [(time.time(), run_id, *LIVE) for run_id in dead],
                )
            )
        return dead

    def rename_run(self, run_id: str, title: str) -> bool:
        """Give a run a new title; False when there is no such run."""
        return self._update(run_id, "title = ?", str(title))

    def set_tags(self, run_id: str, tags: list[str]) -> bool:
        """Replace a run's tags (kept in order, duplicates and blanks dropped); False when there is no such run."""
        clean = list(dict.fromkeys(str(t).strip() for t in tags if str(t).strip()))
        return self._update(run_id, "tags = ?", json.dumps(clean))

    def delete_run(self, run_id: str) -> bool:
        """Delete a run with its metrics and weights; False when there is no such run."""
        return self._write(lambda db: db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount) > 0

    def save_weights(self, run_id: str, raw: bytes) -> None:
        """Keep a run's weights (safetensors bytes), replacing any saved before; KeyError for an unknown run."""

        def write(db):
            if not db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                raise KeyError(run_id)
            db.execute(
                "INSERT OR REPLACE INTO weights (run_id, updated, data) VALUES (?, ?, ?)",
                (run_id, time.time(), sqlite3.Binary(bytes(raw))),
            )

        self._write(write)

    def load_weights(self, run_id: str) -> bytes | None:
        """A run's saved weights (safetensors bytes), or None when none were saved."""
        rows = self._read("SELECT data FROM weights WHERE run_id = ?", (run_id,))
        return bytes(rows[0][0]) if rows else None

    def _update(self, run_id: str, assignment: str, value) -> bool:
        sql = f"UPDATE runs SET {assignment}, updated = ? WHERE id = ?"
        return self._write(lambda db: db.execute(sql, (value, time.time(), run_id)).rowcount) > 0

    # ------------------------------------------------------------------ reads
    def get_run(self, run_id: str) -> dict | None:
        """One run as a dict (spec and summary decoded), or None."""
        rows = self._read(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def list_runs(self, limit: int = 50, status: str | None = None) -> list[dict]:
        """Newest runs first (only those with `status` when given); runs of dead processes show as interrupted."""
        self.mark_interrupted()  # a runner killed while this server runs is seen without a restart
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self._read(
            f"SELECT {', '.join(COLUMNS)} FROM runs {where} ORDER BY created DESC, rowid DESC LIMIT ?", (*args, limit)
        )
        return [_run_row(r) for r in rows]

    def metrics(self, run_id: str) -> list[dict]:
        """A run's records in step order."""
        rows = self._read("SELECT data FROM metrics WHERE run_id = ? ORDER BY step", (run_id,))
        return [json.loads(r[0]) for r in rows]


def _check(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")


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


def _process_alive(pid: int | None, since: float) -> bool:
    """True while the process that created a run at `since` still exists on this machine (not a zombie).

    A process with the same id that started later is another one: containers restart their server
    with the same small pid every time.
    """
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: look at /proc
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # fields[0] is the state, fields[19] the start time
        with open("/proc/stat") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration, IndexError):
        return True  # no /proc (macOS): the signal said it exists
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return fields[0] != "Z" and started <= since + 2  # boot time is in whole seconds


def _run_row(row) -> dict:
    d = dict(zip(COLUMNS, row))
    d["spec"] = json.loads(d["spec"])
    d["summary"] = json.loads(d["summary"])
    d["tags"] = json.loads(d["tags"])
    return d
