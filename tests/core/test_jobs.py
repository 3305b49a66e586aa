"""Job.act and Job.begin: a family's public actions (the GAN's slow-motion D and G steps, the LR finder in the
background) run through the job."""

import random
import threading
import time

import pytest
import torch

from core.jobs import BUSY, STOPPED, JobManager
from core.presets import load_preset
from core.spec import Spec
from core.views.gan import gan_views
from tests.core.test_gan import tiny as tiny_gan
from tests.core.waiting import manager_fixture, wait_until

GAN = tiny_gan(**{"train.epochs": 50})


manager = manager_fixture(max_running=2)


def weights(net):
    return [p.detach().clone() for p in net.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_d_step_changes_only_the_discriminator_and_publishes_views(manager):
    job = manager.create(GAN, views=gan_views)
    t = job.trainers[0]
    g0, d0, v0 = weights(t.G), weights(t.D), job.snapshot()["version"]
    assert job.act("d_step") == ""
    assert same(weights(t.G), g0) and not same(weights(t.D), d0)
    snap = job.snapshot()
    assert snap["version"] > v0
    assert snap["action"]["name"] == "d_step" and snap["action"]["results"][0]["d_loss"] > 0
    # the published heatmap is D as it is now, not as it was before the step
    assert (snap["runs"][0]["views"]["grid"]["value"] == gan_views(t)["grid"]["value"]).all()


def test_g_steps_close_an_epoch_whose_record_reaches_the_store(manager, tmp_store):
    job = manager.create(GAN, views=gan_views)
    t = job.trainers[0]
    for _ in range(t.steps_per_epoch):  # 64 samples, batch 16: 4 steps an epoch
        d0 = weights(t.D)
        assert job.act("g_step") == ""
        assert same(weights(t.D), d0)
    snap = job.snapshot()
    assert snap["runs"][0]["step"] == 4 and snap["runs"][0]["epoch"] == 1
    assert snap["action"]["results"][0]["step"] == 4
    assert [m["epoch"] for m in tmp_store.metrics(job.run_ids[0])] == [1]


def test_act_refuses_unknown_names_and_a_running_job(manager):
    job = manager.create(GAN, views=gan_views)
    assert "not an action" in job.act("_build")
    assert "not an action" in job.act("apply_live", GAN)
    assert "not an action" in manager.create(Spec()).act("d_step")  # MLP trainers have no actions
    job.play()
    assert wait_until(lambda: job.running)
    assert "pause" in job.act("d_step")
    job.pause()
    assert wait_until(lambda: not job.running)
    assert job.act("d_step") == ""
    job.stop()
    assert "stopped" in job.act("d_step")


def test_act_while_a_paused_batch_finishes_never_interleaves(manager):
    """Pressing D step right after Pause waits for the thread's batch; both finish cleanly."""
    job = manager.create(GAN, views=gan_views)
    for _ in range(20):
        job.play()
        job.pause()
        msg = job.act("d_step")
        assert msg in ("", "pause training first")
    assert wait_until(lambda: not job.running)
    assert job.act("g_step") == "" and job.snapshot()["error"] == ""


# ---------------------------------------------------------------------------- the running-jobs cap
MLP = Spec().with_(**{"data.n": 100, "train.epochs": 10_000})
# A CNN whose epoch takes many seconds (~66 batches of ~0.1 s): a stop must not wait for its end.
SLOW_CNN = load_preset("cnn-shapes").spec.with_(**{"data.n": 1500, "data.batch_size": 16, "train.epochs": 100})


def job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("job-") and t.name != "job-reaper"]


def timed_steps(job, n: int) -> float:
    """Seconds per batch, measured while the job trains."""
    start = job.snapshot()["runs"][0]["step"]
    t0 = time.perf_counter()
    assert wait_until(lambda: job.snapshot()["runs"][0]["step"] >= start + n, timeout=60)
    return (time.perf_counter() - t0) / n


@pytest.mark.parametrize("event", ["stop", "pause"])
def test_stop_and_pause_reach_a_running_epoch_within_a_batch(manager, event):
    job = manager.create(SLOW_CNN)
    t = job.trainers[0]
    assert t.steps_per_epoch >= 50
    assert job.play() == ""
    batch = timed_steps(job, 3)
    t0 = time.perf_counter()
    if event == "stop":
        assert job.stop(wait=30)
    else:
        job.pause()
        assert wait_until(lambda: not job.running, timeout=30)
    took = time.perf_counter() - t0
    assert took < 3 * batch + 0.5, (took, batch)  # one batch in flight, not the rest of the epoch
    assert t.epoch == 0 and 0 < t.step_count < t.steps_per_epoch
    assert wait_until(lambda: not job_threads(), timeout=5)
    if event == "pause":  # paused mid-epoch, Play carries on from the same batch
        steps = t.step_count
        assert job.play() == ""
        assert wait_until(lambda: t.step_count > steps)


def test_step_obeys_the_cap(tmp_store):
    jm = JobManager(max_running=1, idle_timeout=60, store=tmp_store)
    try:
        first, second = jm.create(MLP), jm.create(MLP)
        assert first.play() == ""
        assert second.step(1) == BUSY
        assert second.trainers[0].step_count == 0
        first.pause()
        assert wait_until(lambda: jm.running_count() == 0)
        assert second.step(2) == ""
        assert wait_until(lambda: not second.running)
        assert second.trainers[0].epoch == 2
    finally:
        assert jm.stop_all()


def test_a_thread_that_does_not_end_keeps_its_slot(tmp_store):
    """Stop and discard give up waiting on a stuck thread, but its slot stays taken until it is gone."""
    release = threading.Event()

    def views(trainer):
        if threading.current_thread().name.startswith("job-"):
            release.wait(30)  # the thread's publish hangs, as a very slow evaluation would
        return {}

    jm = JobManager(max_running=1, idle_timeout=60, store=tmp_store)
    try:
        stuck = jm.create(MLP, views=views)
        assert stuck.step(1) == ""
        assert wait_until(lambda: stuck.trainers[0].epoch == 1)
        assert not stuck.stop(wait=0.2)  # the thread is still there
        jm.discard(stuck.id, wait=0.2)
        other = jm.create(MLP)
        assert other.play() == BUSY and jm.running_count() == 1
        release.set()
        assert wait_until(lambda: jm.running_count() == 0)
        assert other.play() == ""
    finally:
        release.set()
        assert jm.stop_all()


def test_a_storm_of_events_never_trains_past_the_cap(tmp_store):
    """10 threads press play/step/pause/reset/stop at random; at most `cap` training threads ever exist."""
    cap = 2
    jm = JobManager(max_running=cap, idle_timeout=60, store=tmp_store)
    jobs = [jm.create(MLP) for _ in range(10)]
    most, done = [0], threading.Event()
    errors = []

    def watch():
        while not done.is_set():
            most[0] = max(most[0], len(job_threads()))
            time.sleep(0.0005)

    def press(k: int):
        rng = random.Random(k)
        try:
            for _ in range(60):
                job = jobs[rng.randrange(len(jobs))]
                action = rng.choice(["play", "play", "step", "pause", "reset", "stop"])
                if action == "play":
                    job.play()
                elif action == "step":
                    job.step(rng.randint(1, 3))
                elif action == "pause":
                    job.pause()
                elif action == "reset":
                    jm.discard(job.id)
                    jobs[jobs.index(job) if job in jobs else 0] = jm.create(MLP)
                else:
                    job.stop(wait=0.01)
                time.sleep(rng.random() * 0.005)
        except Exception as e:  # noqa: BLE001 - any error fails the test below
            errors.append(e)

    watcher = threading.Thread(target=watch)
    watcher.start()
    pressers = [threading.Thread(target=press, args=(k,)) for k in range(10)]
    for p in pressers:
        p.start()
    for p in pressers:
        p.join()
    assert jm.running_count() <= cap
    assert jm.stop_all()  # joins every training thread and the reaper
    done.set()
    watcher.join()
    assert not errors
    assert 1 <= most[0] <= cap
    assert not job_threads() and jm.running_count() == 0
    assert not any(t.name == "job-reaper" for t in threading.enumerate() if t is jm._reaper)
    assert all(j.play() in (BUSY, STOPPED) or j.error for j in jobs)  # a closed manager starts nothing


def test_begin_runs_the_lr_finder_in_the_background_with_progress(manager):
    """The finder returns at once, reports growing progress while the job counts as running, then publishes the
    same curve as a finder run in the foreground; the network is untouched and Play works afterwards."""
    spec = load_preset("tfp-default").spec
    job = manager.create(spec)
    before = weights(job.trainers[0].model)
    assert job.begin("lr_find", 60) == ""
    assert job.running and "wait until lr_find has finished" in job.act("lr_find", 60)
    seen = []
    assert wait_until(lambda: seen.append(job.snapshot()["action"].get("progress")) or not job.running, 120)
    shares = [s for s in seen if s is not None]
    assert shares == sorted(shares) and 0 < shares[-1] <= 1 and len(set(shares)) > 2
    result = job.snapshot()["action"]
    assert set(result) == {"name", "results"} and same(weights(job.trainers[0].model), before)
    assert job.act("lr_find", 60) == ""  # the foreground twin: the same short runs from the same weights
    assert job.snapshot()["action"]["results"] == result["results"]
    assert job.act("backprop", 0) == ""  # another action: the finder's last result is still there by name
    snap = job.snapshot()
    assert snap["action"]["name"] == "backprop" and snap["actions"]["lr_find"]["results"] == result["results"]
    assert job.play() == "" and wait_until(lambda: job.snapshot()["runs"][0]["step"] > 0)


def test_pause_and_stop_cancel_a_background_action_within_a_moment(manager):
    """Pause cancels the finder (the page says so) and the job can train at once; Stop ends its thread."""
    job = manager.create(load_preset("tfp-default").spec)
    assert job.begin("lr_find", 3000) == ""
    assert wait_until(lambda: job.snapshot()["action"].get("progress", 0) > 0)
    job.pause()
    assert wait_until(lambda: not job.running, 5)
    assert job.snapshot()["action"] == {"name": "lr_find", "results": [], "cancelled": True}
    assert job.step(1) == "" and wait_until(lambda: job.snapshot()["runs"][0]["epoch"] == 1)
    assert wait_until(lambda: not job.running)
    assert job.begin("lr_find", 3000) == ""
    assert wait_until(lambda: job.snapshot()["action"].get("progress", 0) > 0)
    started = time.monotonic()
    assert job.stop() and time.monotonic() - started < 5
    assert "stopped" in job.begin("lr_find", 60)


def test_begin_refuses_like_act_and_reports_a_failing_action(manager):
    """Unknown names and a training job are refused; an action's ValueError becomes the snapshot's error."""
    job = manager.create(load_preset("tfp-default").spec)
    assert "not an action" in job.begin("_build")
    assert job.begin("lr_find", 3) == ""  # fewer than 10 steps: the finder refuses in the thread
    assert wait_until(lambda: not job.running)
    assert "at least 10 steps" in job.snapshot()["action"]["error"]
    job.play()
    assert wait_until(lambda: job.running)
    assert "pause" in job.begin("lr_find", 60)
