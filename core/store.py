"""SQLite run store (stdlib sqlite3, WAL): runs and their per-epoch metrics, shared by app and runner."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, step)
);
"""


def default_path() -> Path:
    """$PLAYGROUND_DATA/runs.sqlite, else ~/.dl-playground/runs.sqlite."""
    root = os.environ.get("PLAYGROUND_DATA") or os.path.join(Path.home(), ".dl-playground")
    return Path(root) / "runs.sqlite"


class Store:
    """Runs and metrics in one SQLite file. Every write is one transaction; safe across threads."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # A connection per call: sqlite3 connections must not cross threads, and these calls are rare.
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys=ON")
        return db

    def create_run(self, spec: dict, source: str, title: str = "") -> str:
        """Record a new run; returns its id."""
        run_id = uuid.uuid4().hex[:12]
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, created, updated, source, title, spec, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, now, now, source, title, json.dumps(spec), "created"),
            )
        return run_id

    def add_metrics(self, run_id: str, records: list[dict]) -> None:
        """Append epoch records (each with a 'step') in one transaction."""
        if not records:
            return
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO metrics (run_id, step, data) VALUES (?, ?, ?)",
                [(run_id, int(r["step"]), json.dumps(r)) for r in records],
            )
            db.execute("UPDATE runs SET updated = ? WHERE id = ?", (time.time(), run_id))

    def finish_run(self, run_id: str, status: str, summary: dict) -> None:
        """Set a run's final (or current) status and summary."""
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, summary = ?, updated = ? WHERE id = ?",
                (status, json.dumps(summary), time.time(), run_id),
            )

    def get_run(self, run_id: str) -> dict | None:
        """One run as a dict (spec and summary decoded), or None."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id, created, updated, source, title, spec, status, summary FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
        return _run_row(row) if row else None

    def list_runs(self, limit: int = 50) -> list[dict]:
        """Newest runs first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, created, updated, source, title, spec, status, summary FROM runs "
                "ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_run_row(r) for r in rows]

    def metrics(self, run_id: str) -> list[dict]:
        """A run's records in step order."""
        with self._connect() as db:
            rows = db.execute("SELECT data FROM metrics WHERE run_id = ? ORDER BY step", (run_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]


def _run_row(row) -> dict:
    keys = ("id", "created", "updated", "source", "title", "spec", "status", "summary")
    d = dict(zip(keys, row))
    d["spec"] = json.loads(d["spec"])
    d["summary"] = json.loads(d["summary"])
    return d
