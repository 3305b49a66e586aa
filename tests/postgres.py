"""A throwaway PostgreSQL server for tests: Debian's initdb/pg_ctl on a free 127.0.0.1 port in a temp folder.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user (the folder is
handed to it and its parents made passable). Trust authentication on 127.0.0.1 only; fsync off.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid

import psycopg


def bin_dir() -> str:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (tests/run.sh does)")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def throwaway_postgres():
    """Yield the URL of a fresh server's `postgres` database; the server and its folder go afterwards."""
    folder = tempfile.mkdtemp(prefix="playground-pg-")
    data, port = os.path.join(folder, "data"), _free_port()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        parent = os.path.dirname(folder)
        os.chmod(parent, os.stat(parent).st_mode | 0o111)  # the server user must pass through
    pg = bin_dir()
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(_as_server_user([f"{pg}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"]), **run)
    opts = f"-h 127.0.0.1 -p {port} -k {folder} -F -c synchronous_commit=off -c full_page_writes=off -c max_connections=500"
    log = os.path.join(folder, "server.log")
    subprocess.run(
        _as_server_user([f"{pg}/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"]), **run
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([f"{pg}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
