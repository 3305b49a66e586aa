"""Helpers the job and store tests share."""

import time

import pytest

from core.jobs import JobManager


def wait_until(cond, timeout=20.0):
    """Poll `cond` every 20 ms; True as soon as it holds, False after `timeout` seconds."""
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.02)
    return False


def manager_fixture(max_running: int):
    """A `manager` fixture: a JobManager with this cap on the test's store, every job stopped after the test."""

    @pytest.fixture
    def manager(tmp_store):
        jm = JobManager(max_running=max_running, idle_timeout=60, store=tmp_store)
        yield jm
        jm.stop_all()

    return manager
