"""Background jobs: play, pause, step, stop, the manager's caps and reaping; the SQLite store."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from core.engine import Probe
from core.jobs import FLUSH_S, Job
from core.spec import Spec, to_dict
from core.store import KEEP_LAST, Store
from tests.core.waiting import kill_9_once_flushed, manager_fixture, wait_until

ROOT = Path(__file__).resolve().parents[2]

SPEC = Spec().with_(**{"data.n": 100, "train.epochs": 10_000})


manager = manager_fixture(max_running=1)


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


def slow_view(trainer, seconds: float) -> int:
    """A view that holds the job's models for a while (as a page's view of a chosen image does)."""
    time.sleep(seconds)
    return trainer.step


def test_a_pause_during_a_view_stores_the_weights(manager, tmp_store):
    """A page's view is being computed at the moment the training thread leaves on Pause (a page polling its
    snapshot makes that common): the paused run's weights still reach the store, which a run continued after its
    worker crashed starts from."""
    job = manager.create(SPEC)
    flush = job._recorder.flush

    def flush_during_a_view(*args, save=False, **kwargs):
        if save:  # the thread is leaving: a view takes the models first, for 0.5 s
            viewing = threading.Thread(target=job.view, args=(slow_view, 0, 0.5))
            viewing.start()
            time.sleep(0.1)
        flush(*args, save=save, **kwargs)

    job._recorder.flush = flush_during_a_view
    job.play()
    assert wait_until(lambda: job.snapshot()["runs"][0]["epoch"] >= 3)
    job.pause()
    assert wait_until(lambda: not job.running)
    assert tmp_store.load_weights(job.run_ids[0]) == job.weights(0)


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


# ---------------------------------------------------------------------------- true statuses in the store
class Boom(Probe):
    """Raises inside a training step once two epochs are done, as a broken layer or probe would."""

    def after_step(self, trainer):
        if trainer.epoch >= 2:
            raise RuntimeError("boom")


def test_an_untouched_job_leaves_no_run_row(manager, tmp_store):
    job = manager.create(SPEC)
    busy = manager.create(SPEC)
    job.play()
    assert wait_until(lambda: job.trainers[0].step_count > 0)
    assert "busy" in busy.play()  # refused by the cap: it never trained
    manager.discard(busy.id)
    manager.discard(manager.create(SPEC).id)  # a page load that never pressed anything
    job.stop()
    assert [r["id"] for r in tmp_store.list_runs()] == job.run_ids


def test_a_run_that_raises_is_stored_as_error_with_its_epochs(manager, tmp_store):
    job = manager.create(SPEC, probes=lambda: [Boom()])
    job.play()
    assert wait_until(lambda: not job.running)
    assert job.snapshot()["status"] == "error" and "boom" in job.error
    run = tmp_store.get_run(job.run_ids[0])
    assert run["status"] == "error" and "boom" in run["summary"]["message"]
    assert [m["epoch"] for m in tmp_store.metrics(job.run_ids[0])] == [1, 2]


def test_a_stop_during_the_last_batch_stays_stopped(manager, tmp_store):
    """Stop pressed while the final batch runs: that batch closes the last epoch, the run is still 'stopped'."""
    jobs = []

    class StopAtLastBatch(Probe):
        def after_step(self, trainer):
            if (
                trainer.epoch == trainer.spec.train.epochs - 1
                and trainer._batch_in_epoch == trainer.steps_per_epoch - 1
            ):
                jobs[0].stop(wait=0)

    job = manager.create(SPEC.with_(**{"train.epochs": 3}), probes=lambda: [StopAtLastBatch()])
    jobs.append(job)
    job.play()
    assert wait_until(lambda: not job.running)
    assert job.trainers[0].done and job.trainers[0].epoch == 3  # the epoch did close
    assert job.snapshot()["status"] == "stopped"
    assert tmp_store.get_run(job.run_ids[0])["status"] == "stopped"
    assert [m["epoch"] for m in tmp_store.metrics(job.run_ids[0])] == [1, 2, 3]


def test_finished_diverged_and_reaped_runs_keep_true_statuses(manager, tmp_store):
    done = manager.create(SPEC.with_(**{"train.epochs": 2}))
    done.play()
    assert wait_until(lambda: not done.running)
    done.stop()  # stopping a finished run (Reset) leaves it done
    diverged = manager.create(
        Spec().with_(**{"data.name": "plane", "model.hidden": (), "train.lr": 0.5, "data.n": 300})
    )
    diverged.play()
    assert wait_until(lambda: not diverged.running)
    reaped = manager.create(SPEC)
    reaped.play()
    assert wait_until(lambda: reaped.trainers[0].epoch >= 1)
    assert reaped.id in manager.reap(now=time.time() + 3600)  # and the two idle ones with it
    status = {r["id"]: r["status"] for r in tmp_store.list_runs()}
    assert status == {done.run_ids[0]: "done", diverged.run_ids[0]: "diverged", reaped.run_ids[0]: "stopped"}
    assert tmp_store.metrics(diverged.run_ids[0])  # the history before the divergence is kept


def test_records_reach_the_store_every_few_seconds_while_training(manager, tmp_store):
    job = manager.create(SPEC)
    job.play()
    assert wait_until(lambda: job.run_ids[0] and tmp_store.metrics(job.run_ids[0]), timeout=FLUSH_S * 10)
    assert job.running and tmp_store.get_run(job.run_ids[0])["status"] == "running"
    n = len(tmp_store.metrics(job.run_ids[0]))
    assert wait_until(lambda: len(tmp_store.metrics(job.run_ids[0])) > n, timeout=FLUSH_S * 10)
    job.pause()
    assert wait_until(lambda: tmp_store.get_run(job.run_ids[0])["status"] == "paused", timeout=60)
    epochs = [m["epoch"] for m in tmp_store.metrics(job.run_ids[0])]
    # paused: everything trained is stored (a long run's older records are thinned; the newest are all there)
    assert epochs[0] == 1 and epochs[-1] == job.trainers[0].epoch and epochs == sorted(set(epochs))
    tail = epochs[-min(len(epochs), KEEP_LAST) :]
    assert tail == list(range(tail[0], tail[-1] + 1))


SERVER = """
import sys, time
from core.jobs import JobManager
from core.spec import Spec
from core.store import Store
jm = JobManager(store=Store(sys.argv[1]))
spec = Spec().with_(**{"data.n": 100, "train.epochs": 3})
done = jm.create(spec)
done.play()
while done.running:
    time.sleep(0.05)
jm.create(spec.with_(**{"train.epochs": 100_000})).play()
time.sleep(600)
"""


def test_kill_9_of_a_server_keeps_finished_runs_and_marks_the_training_one(tmp_path):
    path = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(path)], cwd=ROOT)
    store = Store(path)
    live, seen = kill_9_once_flushed(proc, store)  # after a few flushes of the training run
    assert live and seen, "the server's job never flushed"
    runs = {r["status"]: r for r in Store(path).list_runs()}
    assert set(runs) == {"done", "interrupted"}
    assert [m["epoch"] for m in store.metrics(runs["done"]["id"])] == [1, 2, 3]
    epochs = [m["epoch"] for m in store.metrics(runs["interrupted"]["id"])]
    assert len(epochs) >= seen and epochs[0] == 1 and epochs == sorted(set(epochs))
    # a long run is thinned in the store, but its newest records are all there
    tail = epochs[-min(len(epochs), KEEP_LAST) :]
    assert tail == list(range(tail[0], tail[-1] + 1))
