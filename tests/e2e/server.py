"""One way to start and stop a real `streamlit run app.py` on 127.0.0.1: the browser tests and bench/ share it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port on 127.0.0.1 that no one listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOGS: dict[str, Path] = {}  # server URL -> its server.log


def trace_tail(url: str, lines: int = 20) -> str:
    """The last rerun-trace lines of the server at `url` (address of any of its pages)."""
    origin = "/".join(url.split("/")[:3])
    with contextlib.suppress(OSError, KeyError):
        text = LOGS[origin].read_text(errors="replace").splitlines()
        return "\n".join([t for t in text if t.startswith("rerun trace")][-lines:])
    return "(no server log)"


PRETRAINED = "transfer-glyphs"  # the Transfer page's default lesson


PRETRAINING: list[subprocess.Popen] = []  # the pretraining process of `pretrain`, while it runs


def pretrain(shared: Path) -> Path:
    """The folder in `shared` (a folder every test process sees) whose run store holds the pretrained weights of the
    Transfer page's default lesson: pretrained once per test run, by the first process to ask (the others wait)."""
    from filelock import FileLock

    source = shared / "pretrained-data"
    with FileLock(str(shared / "pretrained-data.lock")):
        if not (source / "done").exists():
            source.mkdir(exist_ok=True)
            # One thread, as the app pretrains in a worker: two threads beside the other test process's thrashed
            # on 2 cores (22 s alone, 223 s beside another such process; 31 s on one thread).
            code = (
                "import torch; torch.set_num_threads(1);"
                " from core.presets import load_preset; from core.transfer import load_or_pretrain;"
                f" load_or_pretrain(load_preset({PRETRAINED!r}).spec)"
            )
            env = os.environ | {"PLAYGROUND_DATA": str(source)}
            proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
            PRETRAINING.append(proc)
            try:
                if proc.wait(timeout=600):
                    raise RuntimeError(f"pretraining {PRETRAINED} failed (exit status {proc.returncode})")
            finally:
                PRETRAINING.remove(proc)
                if proc.poll() is None:  # the wait timed out, or the test run was stopped
                    proc.kill()
                    proc.wait()
            (source / "done").touch()
    return source


def pretrained_data(shared: Path) -> Path:
    """A new data folder holding a copy of `pretrain(shared)`'s run store: a server given this folder opens the
    Transfer page at Play."""
    source = pretrain(shared)
    data = Path(tempfile.mkdtemp(prefix="playground-e2e-"))
    for f in source.glob("runs.sqlite*"):
        shutil.copy(f, data / f.name)
    return data


def start(root: Path = ROOT, env: dict | None = None, port: int | None = None, **popen) -> tuple[subprocess.Popen, str]:
    """Start the app of checkout `root` on `port` (a free one by default) with its own empty data folder unless
    `env` names one; returns (process, URL)
    once the server answers its health check. `env` adds to the environment; `popen` goes to Popen (by default
    the server's output goes to server.log in its data folder: a pipe no one reads would block it once full)."""
    port = port or free_port()
    data = tempfile.mkdtemp(prefix="playground-e2e-")
    # Rerun requests and runs traced in server.log: a browser test reads them when a click is not acted on.
    env = os.environ | {"PLAYGROUND_DATA": data, "PLAYGROUND_TRACE_RERUNS": "1"} | (env or {})
    popen.setdefault("stderr", open(Path(data) / "server.log", "w"))  # noqa: SIM115 (the server holds it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
        + ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=root,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        **popen,
    )
    url = f"http://127.0.0.1:{port}"
    LOGS[url] = Path(data) / "server.log"
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError("streamlit did not start")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the server and everything it started; SIGKILL when it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(15)
