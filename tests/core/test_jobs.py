"""Job.act: a family's public actions (the GAN's slow-motion D and G steps) run through the job."""

import time

import pytest
import torch

from core.gan import gan_views
from core.jobs import JobManager
from core.spec import Spec

GAN = Spec().with_(
    **{
        "data.name": "ring",
        "data.gan_samples": 64,
        "data.batch_size": 16,
        "gan.gen_hidden": (8, 8),
        "gan.disc_hidden": (8, 8),
        "train.epochs": 50,
        "seed": 3,
    }
)


def wait_until(cond, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def manager(tmp_store):
    jm = JobManager(max_running=2, idle_timeout=60, store=tmp_store)
    yield jm
    jm.stop_all()


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
