"""The run store: runs, their per-epoch records and weights, uploaded tables and pretrained weights.

One interface over two databases: a SQLite file (the embedded default, nothing to set) or PostgreSQL
when PLAYGROUND_DATABASE_URL=postgresql://... (several app replicas share it). The SQL is written
once; core.store_sqlite and core.store_postgres run it (the latter translates placeholders and types).
Both carry the same schema version and migrate along the same path. A run left `running` or `paused`
by a process of this host that no longer exists is marked `interrupted` when a store is next opened
(and whenever runs are listed); the records it flushed stay.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import threading
import time
import uuid
import weakref
from pathlib import Path

from core.store_schema import MIGRATE_1_TO_2, MIGRATE_2_TO_3, SCHEMA_V2
from core.store_sqlite import SqliteBackend

SCHEMA_VERSION = 3
STATUSES = ("running", "paused", "done", "diverged", "early_stopped", "stopped", "error", "interrupted")
LIVE = ("running", "paused")  # statuses that mean "a process still holds this run"
MAX_RECORDS = 2000  # per run; beyond it older records are thinned to every 2nd, 4th, ... (see add_metrics)
KEEP_LAST = 500  # the newest records are never thinned
DATABASE_URL = "PLAYGROUND_DATABASE_URL"
BEAT_S = 10.0  # a process on a shared store says it is alive this often...
GONE_S = 60.0  # ...and its runs are interrupted once it has been silent this long (clocks may differ by seconds)

MIGRATIONS = {2: MIGRATE_2_TO_3}  # version -> the script that takes it one version up (both databases)
BLOBS = ("uploaded_tables", "pretrained")

COLUMNS = ("id", "created", "updated", "source", "title", "spec", "status", "summary", "pid", "host", "epochs", "tags")


def data_folder() -> Path:
    """The data folder: $PLAYGROUND_DATA, else ~/.dl-playground (the SQLite store; tables and weights before v3)."""
    return Path(os.environ.get("PLAYGROUND_DATA") or os.path.join(Path.home(), ".dl-playground"))


def default_path() -> Path:
    """$PLAYGROUND_DATA/runs.sqlite, else ~/.dl-playground/runs.sqlite."""
    return data_folder() / "runs.sqlite"


def is_url(location) -> bool:
    """True for a PostgreSQL connection URL (postgresql://... or postgres://...)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def default_location() -> str:
    """$PLAYGROUND_DATABASE_URL when set, else the SQLite file in the data folder."""
    return os.environ.get(DATABASE_URL, "").strip() or str(default_path())


@functools.cache
def _shared(location: str) -> Store:
    return Store(location)


def shared_store() -> Store:
    """This process's store at the default location, opened once (a PostgreSQL pool is costly to open)."""
    return _shared(default_location())


class StoreError(RuntimeError):
    """The store cannot be used (unreachable, not a database, or written by a newer version of the app)."""


class Store:
    """Runs, records, weights, tables and pretrained weights. Every write is one transaction; safe across
    threads, processes and replicas.

    `location` is a PostgreSQL URL or a SQLite file path; by default PLAYGROUND_DATABASE_URL, else
    $PLAYGROUND_DATA/runs.sqlite.
    """

    def __init__(self, location: str | Path | None = None, max_records: int = MAX_RECORDS, keep_last: int = KEEP_LAST):
        location = str(location) if location else default_location()
        self.max_records, self.keep_last = max_records, min(keep_last, max_records // 2)
        if is_url(location):  # psycopg is imported only by a store that uses it (a quarter second of start-up)
            from core.store_postgres import PostgresBackend as Backend
            from core.store_postgres import describe

            where, arg = describe(location), location
        else:
            Backend, where, arg = SqliteBackend, location, Path(location)
        try:
            self.db = Backend(arg)
            self.db.write(self._migrate)
        except (*Backend.errors, OSError) as e:
            raise StoreError(f"cannot use the run store {where}: {e}") from None
        self.where = self.db.where
        self.location = location  # a worker process opens the same store from it
        self._stop = threading.Event()
        if self.shared:  # processes on other machines learn from the beat that this one is alive
            self.beat()
            beat = threading.Thread(target=_beat_loop, args=(weakref.ref(self), self._stop), name="store-beat")
            beat.daemon = True
            beat.start()
        self.mark_interrupted()

    @property
    def shared(self) -> bool:
        """True when the store is a database server that other replicas may share."""
        return self.db.dialect == "postgresql"

    def close(self) -> None:
        """Stop the beat and let go of the database connections (a later call opens new ones)."""
        self._stop.set()
        self.db.close()

    def beat(self) -> None:
        """Record that this process is alive now (its runs are not to be interrupted by other machines)."""
        self.db.write(
            lambda db: db.execute(
                "INSERT INTO servers (host, pid, seen) VALUES (?, ?, ?) "
                "ON CONFLICT (host, pid) DO UPDATE SET seen = excluded.seen",
                (socket.gethostname(), os.getpid(), time.time()),
            )
        )

    # ------------------------------------------------------------------ schema
    def _migrate(self, db) -> None:
        self.db.lock_schema(db)
        version = self.db.version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.db.where} was written by a newer version (schema {version} > {SCHEMA_VERSION})")
        if version == SCHEMA_VERSION:
            return
        if not self.db.has_table(db, "runs"):
            self._script(db, SCHEMA_V2)
            version = 2
        elif version < 2:
            self._script(db, MIGRATE_1_TO_2)
            version = 2
        for v in range(version, SCHEMA_VERSION):
            self._script(db, MIGRATIONS[v])
        self.db.set_version(db, SCHEMA_VERSION)

    def _script(self, db, script: str) -> None:
        for stmt in script.split(";\n"):
            if stmt.strip():
                db.execute(self.db.ddl(stmt))

    # ------------------------------------------------------------------ writes
    def create_run(self, spec: dict, source: str, title: str = "", status: str = "running") -> str:
        """Record a new run (with this process's pid and host); returns its id."""
        _check(status)
        run_id = uuid.uuid4().hex[:12]
        now = time.time()
        self.db.write(
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
            # The run's row first: a second writer to the same run waits here, not after reading seq.
            if not db.execute(f"SELECT 1 FROM runs WHERE id = ?{self.db.for_update}", (run_id,)).fetchone():
                return
            (seq,) = db.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()
            db.executemany(
                "INSERT INTO metrics (run_id, step, data, seq) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run_id, step) DO UPDATE SET data = excluded.data, seq = excluded.seq",
                [(run_id, int(r["step"]), json.dumps(r), seq + k) for k, r in enumerate(records)],
            )
            epochs = max(float(r.get("epoch", 0) or 0) for r in records)
            db.execute(
                "UPDATE runs SET updated = ?, epochs = CASE WHEN epochs > ? THEN epochs ELSE ? END WHERE id = ?",
                (time.time(), epochs, epochs, run_id),
            )
            self._thin(db, run_id, seq + len(records) - 1)

        self.db.write(write)

    def _thin(self, db, run_id: str, last_seq: int) -> None:
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
        self.db.write(
            lambda db: db.execute(
                "UPDATE runs SET status = ?, summary = ?, updated = ? WHERE id = ?",
                (status, json.dumps(summary), time.time(), run_id),
            )
        )

    def mark_interrupted(self) -> list[str]:
        """Mark `interrupted` every running or paused run whose process is gone: on this host, by asking the
        system; on another, when its process has not beaten for GONE_S. Returns their ids."""
        host, live = socket.gethostname(), ", ".join("?" * len(LIVE))
        rows = self.db.read(f"SELECT id, pid, created FROM runs WHERE status IN ({live}) AND host = ?", (*LIVE, host))
        dead = [run_id for run_id, pid, created in rows if not _process_alive(pid, created)]
        dead += [
            run_id
            for (run_id,) in self.db.read(
                f"SELECT runs.id FROM runs JOIN servers ON servers.host = runs.host AND servers.pid = runs.pid "
                f"WHERE runs.status IN ({live}) AND runs.host != ? AND servers.seen < ?",
                (*LIVE, host, time.time() - GONE_S),
            )
        ]
        if dead:
            self.db.write(
                lambda db: db.executemany(
                    f"UPDATE runs SET status = 'interrupted', updated = ? WHERE id = ? AND status IN ({live})",
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
        return self.db.write(lambda db: db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount) > 0

    def save_weights(self, run_id: str, raw: bytes) -> None:
        """Keep a run's weights (safetensors bytes), replacing any saved before; KeyError for an unknown run."""

        def write(db):
            if not db.execute(f"SELECT 1 FROM runs WHERE id = ?{self.db.for_update}", (run_id,)).fetchone():
                raise KeyError(run_id)
            db.execute(
                "INSERT INTO weights (run_id, updated, data) VALUES (?, ?, ?) "
                "ON CONFLICT (run_id) DO UPDATE SET updated = excluded.updated, data = excluded.data",
                (run_id, time.time(), bytes(raw)),
            )

        self.db.write(write)

    def load_weights(self, run_id: str) -> bytes | None:
        """A run's saved weights (safetensors bytes), or None when none were saved."""
        rows = self.db.read("SELECT data FROM weights WHERE run_id = ?", (run_id,))
        return bytes(rows[0][0]) if rows else None

    def save_blob(self, kind: str, key: str, raw: bytes) -> None:
        """Keep bytes under a hash name: kind "uploaded_tables" (.npz) or "pretrained" (safetensors); the
        first copy stays (the same name means the same content)."""
        self.db.write(
            lambda db: db.execute(
                f"INSERT INTO {_blob_table(kind)} (key, created, data) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (key, time.time(), bytes(raw)),
            )
        )

    def load_blob(self, kind: str, key: str) -> bytes | None:
        """The bytes kept under `key`, or None."""
        rows = self.db.read(f"SELECT data FROM {_blob_table(kind)} WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def has_blob(self, kind: str, key: str) -> bool:
        """True when bytes are kept under `key` (without reading them)."""
        return bool(self.db.read(f"SELECT 1 FROM {_blob_table(kind)} WHERE key = ?", (key,)))

    def _update(self, run_id: str, assignment: str, value) -> bool:
        sql = f"UPDATE runs SET {assignment}, updated = ? WHERE id = ?"
        return self.db.write(lambda db: db.execute(sql, (value, time.time(), run_id)).rowcount) > 0

    # ------------------------------------------------------------------ reads
    def get_run(self, run_id: str) -> dict | None:
        """One run as a dict (spec and summary decoded), or None."""
        rows = self.db.read(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE id = ?", (run_id,))
        return _run_row(rows[0]) if rows else None

    def list_runs(self, limit: int = 50, status: str | None = None) -> list[dict]:
        """Newest runs first (only those with `status` when given); runs of dead processes show as interrupted."""
        self.mark_interrupted()  # a runner killed while this server runs is seen without a restart
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.db.read(
            f"SELECT {', '.join(COLUMNS)} FROM runs {where} ORDER BY created DESC, id DESC LIMIT ?", (*args, limit)
        )
        return [_run_row(r) for r in rows]

    def running_by_process(self) -> dict[tuple[str, int], int]:
        """How many runs are training now, per (host, pid) of the process that trains them (every replica)."""
        rows = self.db.read("SELECT host, pid, COUNT(*) FROM runs WHERE status = 'running' GROUP BY host, pid")
        return {(host, pid): n for host, pid, n in rows}

    def metrics(self, run_id: str) -> list[dict]:
        """A run's records in step order."""
        rows = self.db.read("SELECT data FROM metrics WHERE run_id = ? ORDER BY step", (run_id,))
        return [json.loads(r[0]) for r in rows]


def _blob_table(kind: str) -> str:
    if kind not in BLOBS:
        raise ValueError(f"unknown kind of stored bytes {kind!r}; one of {', '.join(BLOBS)}")
    return kind


def _beat_loop(ref: weakref.ref, stop: threading.Event) -> None:
    """Beat every BEAT_S until the store is closed or forgotten (a weak reference: the loop keeps no store alive)."""
    while not stop.wait(BEAT_S):
        store = ref()
        if store is None:
            return
        try:
            store.beat()
        except Exception:  # noqa: BLE001 - a database away for a moment: the next beat tries again
            pass
        del store


def _check(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}; one of {', '.join(STATUSES)}")


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
