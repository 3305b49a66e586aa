"""A server's jobs train in turns: one training thread at a time, each in its turn, none left out."""

import threading
import time

from core.engine import Probe
from core.jobs import JobManager
from core.spec import Spec
from core.turns import Turns
from tests.core.waiting import wait_until

MLP = Spec().with_(**{"train.epochs": 100_000})


class Overlap(Probe):
    """Records how many jobs' steps are in progress at once (between backward and the optimiser step)."""

    inside: set = set()
    most = 0
    lock = threading.Lock()

    def after_backward(self, trainer) -> None:
        with self.lock:
            Overlap.inside.add(id(trainer))
            Overlap.most = max(Overlap.most, len(Overlap.inside))

    def after_step(self, trainer) -> None:
        with self.lock:
            Overlap.inside.discard(id(trainer))


def test_three_jobs_train_one_at_a_time_and_each_gets_its_share(tmp_store):
    jm = JobManager(max_running=3, idle_timeout=60, store=tmp_store)
    Overlap.inside, Overlap.most = set(), 0
    try:
        jobs = [jm.create(MLP.with_(seed=i), probes=lambda: [Overlap()]) for i in range(3)]
        for job in jobs:
            assert job.play() == ""
        assert wait_until(lambda: all(j.trainers[0].step_count > 300 for j in jobs), timeout=60)
        steps = [j.trainers[0].step_count for j in jobs]
        assert min(steps) > 0.3 * max(steps), steps  # no job starved while the others trained
        assert Overlap.most == 1  # never two steps at once
        t0 = time.perf_counter()
        for job in jobs:
            job.pause()
        assert wait_until(lambda: not any(j.running for j in jobs), timeout=10)
        assert time.perf_counter() - t0 < 5  # Pause is seen within a few turns
        assert jm.turns.waiting == 0
    finally:
        assert jm.stop_all()


def test_turns_are_first_come_first_served():
    turns, order, ready = Turns(slice_s=0.0), [], threading.Barrier(3)

    def worker(name: str) -> None:
        ready.wait()
        for _ in range(20):
            turns.keep(name)
            order.append(name)
            time.sleep(0.001)
        turns.give(name)

    threads = [threading.Thread(target=worker, args=(n,)) for n in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(order) == sorted("abc" * 20)
    # with a zero slice every waiting worker gets the next turn: once all three wait, they strictly alternate
    middle = order[6:-6]
    assert all(a != b for a, b in zip(middle, middle[1:])), "".join(order)
