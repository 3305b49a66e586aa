"""Jobs in worker processes: the same training as in the server, and faults that stay inside one worker."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core import budget
from core.engine import Probe
from core.jobs import JobManager
from core.presets import load_preset
from core.spec import Spec, SpecError, from_dict, validate
from core.store import Store, _process_alive
from core.views.mlp import mlp_views
from tests.core.waiting import children, wait_until

ROOT = Path(__file__).resolve().parents[2]
SPEC = Spec().with_(**{"data.n": 200, "train.epochs": 10_000, "seed": 3})
# Two convolutions of 256 filters on 32 x 32 digits in batches of 256: 268 MB for each layer's output alone.
CONV = {"type": "conv", "size": 256, "kernel": 3, "stride": 1, "padding": 1}
BIG = from_dict(
    {
        "data": {"name": "digits", "n": 0, "image_size": 32, "batch_size": 256},
        "model": {"family": "cnn", "layers": [CONV, {"type": "act", "name": "relu"}] * 2 + [{"type": "flatten"}]},
        "train": {"epochs": 3},
    }
)
WORKER_MB = 64  # the address space a worker may add once started (beyond its threads): far less than BIG needs


class Hang(Probe):
    """A step that never returns (from the fourth on)."""

    def after_step(self, trainer):
        if trainer.step_count >= 3:
            time.sleep(3600)


def hang_probes():
    return [Hang()]


def no_budget():
    """Run first in the worker: the arithmetic estimate lets every spec through (the OS limit must stop it)."""
    budget.check = lambda spec, n_out: budget.costs(spec, n_out)


def poll(job, seen: list, until: float) -> None:
    """Record (time, epoch) of `job` every 50 ms until `until`."""
    while time.monotonic() < until:
        seen.append((time.monotonic(), job.snapshot()["runs"][0]["epoch"]))
        time.sleep(0.05)


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(tmp_path / "runs.sqlite")
    yield store
    store.close()


def workers(store, n=1, **kwargs):
    jm = JobManager(max_running=4, idle_timeout=60, store=store, workers=n, **kwargs)
    assert wait_until(lambda: sum(h.ready.is_set() for h in jm.pool.handles) == n, 120)
    return jm


def test_a_job_in_a_worker_trains_as_in_the_server(sqlite_store):
    """Same spec and seed: the same losses, published views as arrays, weights and data from the worker."""
    here = JobManager(max_running=2, store=sqlite_store)
    there = workers(sqlite_store)
    try:
        jobs = [jm.create(SPEC, views=mlp_views) for jm in (here, there)]
        for job in jobs:
            assert job.step(4) == ""
        assert wait_until(lambda: all(not j.running and j.snapshot()["runs"][0]["epoch"] == 4 for j in jobs), 60)
        a, b = (j.snapshot()["runs"][0] for j in jobs)
        assert [r["loss"] for r in b["history"]] == pytest.approx([r["loss"] for r in a["history"]], rel=1e-6)
        assert b["views"]["grid"]["value"] == pytest.approx(a["views"]["grid"]["value"], rel=1e-5)
        assert jobs[1].status == "paused" and jobs[1].specs == [SPEC] and jobs[1].trained
        assert len(jobs[1].data(0).x_train) == len(jobs[0].data(0).x_train)
        assert jobs[1].weights(0)[:8] == jobs[0].weights(0)[:8]  # safetensors header length: same tensors
        assert sqlite_store.get_run(b["run_id"])["status"] == "paused"
        assert jobs[1].step(2) == ""
        # Once the steps are over (an epoch's number may come a moment before its record), every record is in.
        assert wait_until(lambda: not jobs[1].running and jobs[1].snapshot()["runs"][0]["epoch"] == 6, 60)
        assert len(jobs[1].snapshot()["runs"][0]["history"]) == 6  # records sent as differences add up
    finally:
        here.stop_all()
        there.stop_all()


def test_a_snapshot_the_worker_has_not_answered_says_whether_it_is_stale(sqlite_store):
    """A page draws what the server holds when the worker is slow to answer. That is current for an idle job nothing
    was asked of since its last snapshot (a page switch need not wait), and stale after a Step (an idle page then
    waits or asks again: it showed the epoch before the Step for good). Reading weights or a view changes nothing:
    the snapshot held stays current (an idle CNN page waited for a fresh one after each feature-map view)."""
    jm = workers(sqlite_store)
    try:
        job = jm.create(SPEC)
        assert job.step(1) == "" and wait_until(lambda: job.snapshot()["runs"][0]["epoch"] == 1, 30)
        assert wait_until(lambda: not job.snapshot()["stale"], 10)
        pid = job._worker.pid

        def reads() -> str:
            assert job.weights(0) and job.view(mlp_views, 0)["grid"] is not None
            return ""

        for call, stale in ((None, False), (reads, False), (lambda: job.step(1), True)):
            assert call is None or call() == ""
            os.kill(pid, signal.SIGSTOP)  # it answers nothing until it is continued
            try:
                snap = job.snapshot()
                assert snap["stale"] is stale and snap["runs"][0]["epoch"] == 1  # what the server held
            finally:
                os.kill(pid, signal.SIGCONT)
        assert wait_until(lambda: (s := job.snapshot())["runs"][0]["epoch"] == 2 and not s["stale"], 10)
    finally:
        jm.stop_all()


def test_a_reading_of_whether_a_job_trains_is_kept_only_if_newer(sqlite_store):
    """Messages cross the pipe in the order they are sent, not read: a heartbeat read during an epoch that arrives
    after the answer that saw the epoch end must not make the server hold the job as training (the page then drew
    its Step button disabled, and Streamlit dropped the student's next click on it)."""
    jm = workers(sqlite_store)
    try:
        job = jm.create(SPEC)
        assert job.step(1) == "" and wait_until(lambda: not job.snapshot()["running"] and not job.running, 30)
        seen = job._stamp
        job.heard(True, seen - 1, job.run_ids)  # read before the answers already held
        assert not job.running and not job.snapshot()["running"]
        job.heard(True, seen + 10**6, job.run_ids)  # a later reading wins
        assert job.running
    finally:
        jm.stop_all()


def test_a_killed_worker_interrupts_only_its_runs(tmp_store):
    """kill -9 of one worker: its run is interrupted with its stored epochs; the other worker's run goes on."""
    jm = workers(tmp_store, 2)
    try:
        a, b = jm.create(SPEC), jm.create(SPEC)
        assert a._worker is not b._worker
        assert a.play() == "" and b.play() == ""
        # Paused once it has trained (a Pause before its first step has no run to store): its weights reach the store.
        assert wait_until(lambda: a.snapshot()["runs"][0]["epoch"] > 0, 30)
        a.pause()
        assert wait_until(lambda: not a.running and tmp_store.load_weights(a.run_ids[0]) is not None, 30)
        assert a.play() == ""
        assert wait_until(lambda: len(tmp_store.metrics(a.run_ids[0])) > a.snapshot()["runs"][0]["epoch"] // 2, 30)
        seen = []  # (time, epoch) of the other run, as its page would poll it
        watch = threading.Thread(target=lambda: poll(b, seen, time.monotonic() + 6), daemon=True)
        watch.start()
        time.sleep(1)
        victim = a._worker.pid
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        assert wait_until(lambda: a.status == "interrupted", 10)
        row = tmp_store.get_run(a.run_ids[0])  # its epochs: the last stored (past 2,000 records they are thinned)
        stored = int(row["epochs"])
        assert row["status"] == "interrupted" and 0 < len(tmp_store.metrics(a.run_ids[0])) <= stored
        snap = a.snapshot()
        assert (
            not snap["running"]
            and f"interrupted with {stored} epochs stored" in snap["error"]
            and "Runs page" in snap["error"]
        )
        assert a.play() == snap["error"]  # nothing to resume here: the page says where to continue
        assert wait_until(
            lambda: victim not in jm.pool.pids() and sum(h.ready.is_set() for h in jm.pool.handles) == 2, 60
        )
        replaced = time.monotonic() - killed  # a new worker is ready to train
        watch.join()
        moves = [t for (t, e), (_, e0) in zip(seen[1:], seen) if e > e0]
        gap = max(b - a for a, b in zip(moves, moves[1:]))
        assert b.running and moves[-1] > killed + 3 and gap < 1.5  # the longest redraw interval
        c = jm.create(SPEC, weights=[tmp_store.load_weights(a.run_ids[0])])  # continued on the new worker
        assert c.step(1) == "" and wait_until(lambda: c.snapshot()["runs"][0]["epoch"] == 1, 30)
        print(f"kill -9: the other run's longest pause {gap:.2f} s; a new worker was ready {replaced:.2f} s later")
    finally:
        jm.stop_all()


def test_a_run_over_the_memory_limit_stops_with_one_message(sqlite_store, monkeypatch):
    """The OS caps the worker's address space: a network past it fails there, with what to do, not a traceback."""
    monkeypatch.setenv("PLAYGROUND_MAX_MEMORY_MB", "8")
    with pytest.raises(SpecError):
        validate(BIG)  # without the test's patch the estimate refuses it
    jm = workers(sqlite_store, memory_mb=WORKER_MB, init=no_budget)
    try:
        try:
            job = jm.create(BIG)
            # Play finds no room for the job's thread, or the job's first steps run out: one message either way.
            message = job.play() or (wait_until(lambda: job.snapshot()["error"], 60) and job.snapshot()["error"])
            jm.discard(job.id)  # the student presses Reset: the network is let go
        except RuntimeError as e:  # building it already ran out (the page says "Cannot build this network: ...")
            message = str(e)
        assert message.startswith("out of memory") and "PLAYGROUND_MAX_MEMORY_MB" in message
        small = jm.create(SPEC)  # the worker itself lives on
        assert small.step(1) == "" and wait_until(lambda: small.snapshot()["runs"][0]["epoch"] == 1, 30)
    finally:
        jm.stop_all()


def test_a_hung_worker_is_replaced(sqlite_store):
    """A step that never returns: the worker is killed within the hang time, the run says why, a new worker starts."""
    jm = workers(sqlite_store, hang_s=2.0)
    try:
        job = jm.create(SPEC, probes=hang_probes)
        hung = job._worker.pid
        assert job.play() == ""
        start = time.monotonic()
        assert wait_until(lambda: job.status == "interrupted", 15)
        assert time.monotonic() - start < 2.0 + 3.0
        assert "longer than 2 s" in job.snapshot()["error"]
        assert wait_until(lambda: jm.pool.pids() and hung not in jm.pool.pids(), 60)
        assert not _process_alive(hung, time.time())
    finally:
        jm.stop_all()


PARENT = """
import sys, time
sys.path.insert(0, {root!r})
from core.jobs import JobManager
from core.presets import load_preset
if __name__ == "__main__":
    jm = JobManager(workers=2)
    while len(jm.pool.pids()) < 2 or not all(h.ready.is_set() for h in jm.pool.handles):
        time.sleep(0.1)
    print(*jm.pool.pids(), flush=True)
    time.sleep(600)
"""


def test_a_killed_server_leaves_no_worker(tmp_path):
    """kill -9 of the server: its workers see it go and end too."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(root=str(ROOT)))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_process_alive(p, time.time()) for p in pids)
        pids += children(parent.pid)  # and whatever else it started (the forkserver the workers come from)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_until(lambda: not any(_process_alive(p, time.time()) for p in pids), 10)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_lr_finder_runs_in_a_worker_with_progress_and_pause_cancels_it(sqlite_store):
    """`begin` crosses to the worker: the page sees the finder's progress grow, then its curve (the same as in the
    server for the same spec); a second run is cancelled by Pause and the job trains at once."""
    spec = load_preset("tfp-default").spec
    here = JobManager(max_running=2, store=sqlite_store)
    there = workers(sqlite_store)
    try:
        local, remote = here.create(spec), there.create(spec)
        assert local.act("lr_find", 60) == ""
        assert remote.begin("lr_find", 60) == ""
        seen = []
        assert wait_until(lambda: seen.append(remote.snapshot()["action"].get("progress")) or not remote.running, 120)
        assert remote.snapshot()["action"]["results"] == local.snapshot()["action"]["results"]
        assert any(s is not None and 0 < s < 1 for s in seen)  # the progress crossed the pipe while it ran
        assert remote.begin("lr_find", 3000) == ""
        assert wait_until(lambda: remote.snapshot()["action"].get("progress", 0) > 0)
        remote.pause()
        assert wait_until(lambda: not remote.running and remote.snapshot()["action"].get("cancelled"), 10)
        assert remote.step(1) == "" and wait_until(lambda: remote.snapshot()["runs"][0]["epoch"] == 1, 30)
    finally:
        here.stop_all()
        there.stop_all()
