"""Background jobs: play, pause, step, stop, the manager's caps and reaping; the SQLite store."""

import threading
import time

import pytest

from core.jobs import Job, JobManager
from core.spec import Spec, to_dict

SPEC = Spec().with_(**{"data.n": 100, "train.epochs": 10_000})


def wait_until(cond, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def manager(tmp_store):
    jm = JobManager(max_running=1, idle_timeout=60, store=tmp_store)
    yield jm
    jm.stop_all()


def test_step_trains_exactly_the_requested_epochs(manager):
    job = manager.create(SPEC)
    assert job.step(3) == ""
    assert wait_until(lambda: not job.running)
    snap = job.snapshot()
    assert snap["runs"][0]["epoch"] == 3 and len(snap["runs"][0]["history"]) == 3
    assert snap["status"] == "paused"


def test_play_pause_keeps_weights_and_history(manager):
    job = manager.create(SPEC)
    job.play()
    assert wait_until(lambda: job.snapshot()["runs"][0]["epoch"] >= 5)
    job.pause()
    assert wait_until(lambda: not job.running)
    epoch = job.snapshot()["runs"][0]["epoch"]
    time.sleep(0.3)
    assert job.snapshot()["runs"][0]["epoch"] == epoch  # paused: nothing moves
    job.play()
    assert wait_until(lambda: job.snapshot()["runs"][0]["epoch"] > epoch)


def test_manager_caps_running_jobs(manager):
    first = manager.create(SPEC)
    second = manager.create(SPEC)
    assert first.play() == ""
    assert wait_until(lambda: first.running)
    assert "busy" in second.play()
    first.pause()
    assert wait_until(lambda: not first.running)
    assert second.play() == ""


def test_stop_joins_the_thread_and_reap_forgets_idle_jobs(manager):
    job = manager.create(SPEC)
    job.play()
    assert wait_until(lambda: job.running)
    assert manager.reap(now=time.time() + 3600) == [job.id]
    assert manager.get(job.id) is None
    assert not any(t.name == f"job-{job.id}" for t in threading.enumerate())
    assert "stopped" in job.play()


def test_diverged_job_keeps_history_and_message(manager):
    spec = Spec().with_(**{"data.name": "plane", "model.hidden": (), "train.lr": 0.5, "data.n": 300})
    job = manager.create(spec)
    job.play()
    assert wait_until(lambda: not job.running)
    snap = job.snapshot()
    assert snap["status"] == "diverged"
    assert snap["runs"][0]["message"].startswith("diverged at step")
    assert snap["runs"][0]["history"]


def test_job_runs_are_recorded_in_the_store(manager, tmp_store):
    job = manager.create(SPEC, title="t")
    job.step(2)
    assert wait_until(lambda: not job.running)
    job.stop()
    run = tmp_store.get_run(job.run_ids[0])
    assert run["spec"] == to_dict(SPEC) and run["source"] == "app"
    assert [m["epoch"] for m in tmp_store.metrics(job.run_ids[0])] == [1, 2]


def test_store_round_trip_and_listing(tmp_store):
    rid = tmp_store.create_run(to_dict(SPEC), "runner", "demo")
    tmp_store.add_metrics(rid, [{"step": 5, "epoch": 1, "loss": 0.5, "grad_norm": {"layer1": 0.1}}])
    tmp_store.finish_run(rid, "done", {"loss": 0.5})
    run = tmp_store.get_run(rid)
    assert (run["status"], run["summary"]["loss"], run["title"]) == ("done", 0.5, "demo")
    assert tmp_store.metrics(rid)[0]["grad_norm"] == {"layer1": 0.1}
    assert tmp_store.list_runs()[0]["id"] == rid


def test_lockstep_job_advances_both_runs_together(manager):
    job = Job([SPEC, SPEC.with_(**{"train.lr": 0.3})])
    try:
        job.step(4)
        assert wait_until(lambda: not job.running)
        assert [r["epoch"] for r in job.snapshot()["runs"]] == [4, 4]
    finally:
        job.stop()
