"""The run store on SQLite and PostgreSQL alike: schema version and migration, true statuses, thinning, weights,
tables and pretrained weights, edits, concurrency from threads and processes."""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.spec import Spec, to_dict
from core.store import GONE_S, SCHEMA_VERSION, Store, StoreError
from tests.core.waiting import kill_9_once_flushed

ROOT = Path(__file__).resolve().parents[2]
SPEC = to_dict(Spec())

# The schema every store had before it carried a version (PRAGMA user_version = 0).
OLD_SCHEMA = """
CREATE TABLE runs (id TEXT PRIMARY KEY, created REAL NOT NULL, updated REAL NOT NULL, source TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '', spec TEXT NOT NULL, status TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '{}');
CREATE TABLE metrics (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (run_id, step));
"""


def sql(store: Store, stmt: str, args: tuple = ()) -> None:
    """Change the database behind the store's back (as another process or an older version would)."""
    store.db.write(lambda db: db.execute(stmt, args))


def records(epochs, steps_per_epoch=10):
    return [{"step": e * steps_per_epoch, "epoch": e, "loss": 1.0 / e} for e in epochs]


def test_old_schema_is_migrated_keeping_its_runs(tmp_path):
    """Version 1 existed only as a SQLite file (PostgreSQL came with version 3)."""
    path = tmp_path / "runs.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    rows = [("done1", 1.0, "done"), ("ready1", 2.0, "ready"), ("empty1", 3.0, "created")]
    for rid, created, status in rows:
        db.execute(
            "INSERT INTO runs (id, created, updated, source, title, spec, status) VALUES (?, ?, ?, 'app', 't', ?, ?)",
            (rid, created, created, json.dumps(SPEC), status),
        )
    for rid in ("done1", "ready1"):
        db.executemany(
            "INSERT INTO metrics VALUES (?, ?, ?)", [(rid, r["step"], json.dumps(r)) for r in records([1, 2, 3])]
        )
    db.commit()
    db.close()

    store = Store(path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        cols = {r[1] for r in db.execute("PRAGMA table_info(runs)")}
    assert {"pid", "host", "epochs", "tags"} <= cols
    runs = {r["id"]: r for r in store.list_runs()}
    assert set(runs) == {"done1", "ready1"}  # the page-load row that never trained is gone
    assert runs["done1"]["status"] == "done" and runs["done1"]["epochs"] == 3
    assert runs["ready1"]["status"] == "interrupted"  # "ready" could mean anything; it is not running
    assert store.metrics("done1") == records([1, 2, 3])
    # the new parts work on the migrated file, and opening it again changes nothing
    store.add_metrics("done1", records([4]))
    store.save_weights("done1", b"w")
    assert [m["epoch"] for m in Store(path).metrics("done1")] == [1, 2, 3, 4]


def test_newer_schema_is_refused(store_location):
    store = Store(store_location)
    store.db.write(lambda db: store.db.set_version(db, SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(StoreError, match="newer version"):
        Store(store_location)


def test_a_version_2_store_is_migrated_and_keeps_its_runs(store_location):
    """A store from before tables and pretrained weights lived in it gains them; its runs stay."""
    store = Store(store_location)

    def back_to_v2(db):  # version 2 had these tables and no others
        for name in ("uploaded_tables", "pretrained", "servers"):
            db.execute(f"DROP TABLE {name}")
        store.db.set_version(db, 2)
        db.execute(
            "INSERT INTO runs (id, created, updated, source, spec, status) VALUES ('old', 1, 1, 'app', '{}', 'done')"
        )

    store.db.write(back_to_v2)
    store.close()
    store = Store(store_location)
    assert store.get_run("old")["status"] == "done"
    assert store.db.write(store.db.version) == SCHEMA_VERSION
    store.save_blob("uploaded_tables", "abc", b"npz")
    store.save_blob("uploaded_tables", "abc", b"other")  # a hash names one content: the first copy stays
    assert store.load_blob("uploaded_tables", "abc") == b"npz"
    assert not store.has_blob("pretrained", "abc") and store.load_blob("pretrained", "abc") is None
    store.close()


def test_statuses_are_checked_and_epochs_counted(tmp_store):
    rid = tmp_store.create_run(SPEC, "runner", "demo")
    assert tmp_store.get_run(rid)["status"] == "running" and tmp_store.get_run(rid)["pid"] == os.getpid()
    tmp_store.add_metrics(rid, records([1, 2]))
    assert tmp_store.get_run(rid)["epochs"] == 2
    with pytest.raises(ValueError, match="ready"):
        tmp_store.finish_run(rid, "ready", {})
    tmp_store.finish_run(rid, "stopped", {"loss": 0.5})
    assert tmp_store.get_run(rid)["status"] == "stopped"


def test_a_run_of_a_dead_process_is_marked_interrupted_when_a_store_opens(store_location):
    store = Store(store_location)
    mine = store.create_run(SPEC, "app")
    gone = store.create_run(SPEC, "runner")
    store.add_metrics(gone, records([1, 2]))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert store.list_runs(status="interrupted") == []  # its process was alive until now
    sql(store, "UPDATE runs SET pid = ? WHERE id = ?", (dead.pid, gone))
    assert [r["id"] for r in store.list_runs(status="interrupted")] == [gone]  # an open store sees it too
    assert Store(store_location).get_run(gone)["status"] == "interrupted"
    assert store.get_run(mine)["status"] == "running"  # this process is alive: its run is left alone
    assert [m["epoch"] for m in store.metrics(gone)] == [1, 2]
    # A server restarted with the same pid (as containers do) is not the process that created a run.
    sql(store, "UPDATE runs SET created = ? WHERE id = ?", (time.time() - 30 * 86400, mine))
    assert {r["id"] for r in store.list_runs(status="interrupted")} == {gone, mine}


def test_runs_of_a_silent_process_on_another_machine_are_marked_interrupted(store_location):
    """A replica on another machine cannot be asked: its runs stop when its beat has been silent for GONE_S."""
    store = Store(store_location)
    gone, alive, runner = (store.create_run(SPEC, "app") for _ in range(3))
    old = time.time() - GONE_S - 5
    for run_id, pid in ((gone, 101), (alive, 102), (runner, 103)):
        sql(store, "UPDATE runs SET host = 'elsewhere', pid = ? WHERE id = ?", (pid, run_id))
    sql(
        store,
        "INSERT INTO servers (host, pid, seen) VALUES ('elsewhere', 101, ?), ('elsewhere', 102, ?)",
        (old, time.time()),
    )
    # (the runner, pid 103, never beats: a process that does not beat is never judged from afar)
    assert store.mark_interrupted() == [gone]
    assert [store.get_run(r)["status"] for r in (gone, alive, runner)] == ["interrupted", "running", "running"]
    if store.shared:  # this process beats on a shared store, so others leave its runs alone
        assert store.db.read("SELECT pid FROM servers WHERE host != 'elsewhere'") == [(os.getpid(),)]
    store.close()


def test_long_runs_are_thinned_keeping_the_newest_records(store_location):
    store = Store(store_location, max_records=100, keep_last=30)
    rid = store.create_run(SPEC, "app")
    for start in range(1, 1001, 7):  # flushes of 7 records, as a job sends them
        store.add_metrics(rid, records(range(start, min(start + 7, 1001))))
    epochs = [m["epoch"] for m in store.metrics(rid)]
    assert len(epochs) <= 100
    assert epochs[-30:] == list(range(971, 1001))  # the newest are all there
    assert epochs[0] == 1 and epochs == sorted(epochs)  # the start is kept, in order
    gaps = {b - a for a, b in zip(epochs, epochs[1:-30])}
    assert len(gaps) <= 2  # older ones at an even stride (one stride, plus the seam to the newer)
    assert store.get_run(rid)["epochs"] == 1000


def test_weights_rename_tags_delete(tmp_store):
    rid = tmp_store.create_run(SPEC, "app", "first")
    other = tmp_store.create_run(SPEC, "app", "second")
    tmp_store.add_metrics(rid, records([1]))
    assert tmp_store.load_weights(rid) is None
    raw = bytes(range(256)) * 10
    tmp_store.save_weights(rid, raw)
    tmp_store.save_weights(rid, raw[::-1])  # the newest weights replace the old
    assert tmp_store.load_weights(rid) == raw[::-1]
    with pytest.raises(KeyError):
        tmp_store.save_weights("nope", raw)
    assert tmp_store.rename_run(rid, "renamed") and tmp_store.get_run(rid)["title"] == "renamed"
    assert tmp_store.set_tags(rid, ["a", " b ", "a", ""]) and tmp_store.get_run(rid)["tags"] == ["a", "b"]
    assert [r["id"] for r in tmp_store.list_runs()] == [other, rid]
    assert [r["id"] for r in tmp_store.list_runs(status="running")] == [other, rid]
    assert tmp_store.delete_run(rid)
    assert tmp_store.get_run(rid) is None and tmp_store.metrics(rid) == [] and tmp_store.load_weights(rid) is None
    assert not tmp_store.delete_run(rid) and not tmp_store.rename_run(rid, "x")
    assert tmp_store.get_run(other)["title"] == "second"


WRITER = """
import sys
from core.store import Store
store = Store(sys.argv[1])
for k in range(int(sys.argv[2])):
    rid = store.create_run({"k": k}, "proc")
    for e in range(1, 6):
        store.add_metrics(rid, [{"step": e, "epoch": e, "loss": 0.1}])
    store.save_weights(rid, b"x" * 1000)
    store.finish_run(rid, "done", {"k": k})
"""


def test_concurrent_writers_from_threads_and_processes(store_location):
    """4 threads and 2 processes write at once; every run arrives whole and no 'database is locked' escapes."""
    path = store_location
    store = Store(path)
    n, errors = 15, []
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n)], cwd=ROOT, stderr=subprocess.PIPE)
        for _ in range(2)
    ]

    def write():
        try:
            for k in range(n):
                rid = store.create_run({"k": k}, "thread")
                for e in range(1, 6):
                    store.add_metrics(rid, [{"step": e, "epoch": e, "loss": 0.1}])
                store.finish_run(rid, "done", {"k": k})
                store.list_runs(limit=5)
        except Exception as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert not errors
    runs = store.list_runs(limit=1000)
    assert len(runs) == 6 * n and all(r["status"] == "done" and r["epochs"] == 5 for r in runs)
    assert all(len(store.metrics(r["id"])) == 5 for r in runs)
    assert sum(r["source"] == "proc" for r in runs) == 2 * n


def test_kill_9_of_the_runner_keeps_finished_runs_and_marks_the_killed_one(tmp_path, store_location):
    env = {**os.environ, "PLAYGROUND_DATA": str(tmp_path)}
    path = store_location
    if store_location.startswith("postgresql://"):
        env["PLAYGROUND_DATABASE_URL"] = store_location
    cmd = [sys.executable, "-m", "core", "run", "tfp-default", "--quiet"]
    finished = subprocess.run([*cmd, "--steps", "75"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    done_id = json.loads(finished.stdout)["run_id"]

    proc = subprocess.Popen([*cmd, "--steps", "10000000"], cwd=ROOT, env=env)
    live, seen = kill_9_once_flushed(proc, Store(path))  # after two flushes: records are in the store when it dies
    assert live and seen, "the runner flushed nothing"

    store = Store(path)  # opening a store finds the dead runner's run
    killed = live["id"]
    run = store.get_run(killed)
    assert run["status"] == "interrupted"
    epochs = [m["epoch"] for m in store.metrics(killed)]
    assert len(epochs) >= seen and epochs == list(range(1, len(epochs) + 1))
    assert run["epochs"] == epochs[-1]
    done = store.get_run(done_id)
    assert done["status"] == "done" and [m["epoch"] for m in store.metrics(done_id)] == [1, 2, 3]
