"""Browser test: runs train in worker processes; a killed worker's run says so, and the server's end is theirs."""

import os
import signal
import time

import pytest

from core.store import _process_alive
from tests.core.waiting import children, wait_until
from tests.e2e import server as server_process
from tests.e2e.conftest import EPOCH, IDLE, assert_no_exception, open_page, pause_training, read_when

pytestmark = pytest.mark.e2e


def workers_of(pid: int) -> list[int]:
    """The worker processes the server `pid` started: the children of its forkserver (core/jobs/pool.py)."""
    return [w for child in children(pid) for w in children(child)]


def test_a_killed_worker_is_reported_and_replaced(page):
    """kill -9 of the workers mid-run: the page says the run was interrupted and where to continue it; Reset and
    Play train again on new workers; SIGTERM to the server ends its workers."""
    proc, url = server_process.start(env={"PLAYGROUND_WORKERS": "2"})
    try:
        open_page(page, f"{url}/playground?preset=tfp-default")
        page.get_by_role("button", name="Play").click()
        read_when(page, EPOCH, ok="v => v >= 5", timeout=60000)
        pause_training(page)  # the weights reach the store
        page.wait_for_selector(IDLE, timeout=60000)  # the Pause's own reruns are over: Play is the button drawn last
        page.get_by_role("button", name="Play").click()
        epoch = read_when(page, EPOCH)
        read_when(page, EPOCH, ok=f"v => v >= {epoch + 5}", timeout=60000)
        victims = workers_of(proc.pid)
        assert len(victims) == 2
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        page.wait_for_selector("text=interrupted", timeout=30000)
        page.wait_for_selector("text=Runs page", timeout=5000)
        assert wait_until(lambda: len(set(workers_of(proc.pid)) - set(victims)) == 2, 60)
        page.get_by_role("button", name="Reset", exact=True).click()
        page.get_by_role("button", name="Play").click()
        read_when(page, EPOCH, ok="v => v >= 3", timeout=60000)
        assert_no_exception(page)
        workers = workers_of(proc.pid)
        proc.send_signal(signal.SIGTERM)  # the server alone: it must stop its workers itself
        proc.wait(60)
        assert wait_until(lambda: not any(_process_alive(p, time.time()) for p in workers), 30)
    finally:
        server_process.stop(proc)
