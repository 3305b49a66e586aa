"""Helpers the job and store tests share."""

import os
import signal
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


def kill_9_once_flushed(proc, store, timeout: float = 120.0) -> tuple[dict | None, int]:
    """SIGKILL `proc` once `store` holds a running run it has flushed a few times (records in, updated 3 s after
    created), or after `timeout` seconds; returns that run as last seen (None if none) and its record count."""
    run, seen = None, 0
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            live = store.list_runs(status="running")
            if live:
                run, seen = live[0], len(store.metrics(live[0]["id"]))
                if seen and run["updated"] > run["created"] + 3:
                    break
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return run, seen


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry))
    return found
