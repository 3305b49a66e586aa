"""Several replicas of the app behind nginx on one throwaway PostgreSQL, all on 127.0.0.1.

nginx runs deploy/nginx.conf as kept in the repository, with only its listening port and its replicas'
ports changed, inside a minimal main config of its own (temp files and logs in a temp folder).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.conftest import _free_port, start_streamlit, stop_streamlit
from tests.postgres import fresh_database, throwaway_postgres

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx.conf"
COOKIE = "playground_replica"
MAIN = """daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/playground.conf;
}}
"""


def nginx_binary() -> str:
    """Debian's nginx (apt-get install nginx; tests/run.sh does)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not found:
        raise RuntimeError("nginx is not installed: apt-get install nginx (tests/run.sh does)")
    return found


def site_config(listen: int, replica_ports: list[int]) -> str:
    """deploy/nginx.conf listening on 127.0.0.1:`listen` with these replicas."""
    text = SITE.read_text()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    options = re.search(r"server 127\.0\.0\.1:\d+ ([^;]*);", text).group(1)
    servers = "".join(f"    server 127.0.0.1:{p} {options};\n" for p in replica_ports)
    return re.sub(r"(    server 127\.0\.0\.1:\d+ [^;]*;\n)+", servers, text, count=1)


@dataclass
class Deployment:
    """The balancer's URL, the shared database's URL, and each replica's process and URL."""

    url: str
    database: str
    replicas: list[tuple[subprocess.Popen, str]] = field(default_factory=list)

    def served_by(self, key: str) -> str:
        """The URL of the replica that the affinity cookie `key` reaches now."""
        req = urllib.request.Request(f"{self.url}/_stcore/health", headers={"Cookie": f"{COOKIE}={key}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return "http://" + r.headers["X-Playground-Replica"].split(",")[-1].strip()

    def key_for(self, i: int) -> str:
        """An affinity cookie value that nginx hashes to replica i."""
        for n in range(1000):
            if self.served_by(f"k{n}") == self.replicas[i][1]:
                return f"k{n}"
        raise AssertionError(f"no cookie reaches replica {i}")

    def kill(self, i: int) -> None:
        """SIGKILL replica i and everything it started, as a crashed machine would leave it."""
        stop_streamlit(self.replicas[i][0], signal.SIGKILL)


@contextlib.contextmanager
def balancer(replica_ports: list[int]):
    """nginx with deploy/nginx.conf in front of replicas on these 127.0.0.1 ports; yields its URL."""
    tmp = tempfile.mkdtemp(prefix="playground-nginx-")
    os.chmod(tmp, 0o777)  # nginx's workers run as `nobody` when the master is root
    port = _free_port()
    Path(tmp, "playground.conf").write_text(site_config(port, replica_ports))
    Path(tmp, "nginx.conf").write_text(MAIN.format(tmp=tmp))
    nginx = subprocess.Popen([nginx_binary(), "-c", f"{tmp}/nginx.conf", "-p", tmp], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"nginx did not start: {nginx.stderr.read().decode() if nginx.poll() else ''}")
        yield url
    finally:
        nginx.terminate()
        nginx.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


def shared_env(database: str) -> dict[str, str]:
    """What every replica of one deployment shares: the store and the cookie secret."""
    return {"PLAYGROUND_DATABASE_URL": database, "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(16)}


@contextlib.contextmanager
def deployment(replicas: int = 2, env: dict | None = None):
    """`replicas` streamlit servers on one fresh PostgreSQL database behind nginx; everything stops on exit."""
    with throwaway_postgres() as server, contextlib.ExitStack() as stack:
        database = fresh_database(server)
        shared = shared_env(database) | (env or {})
        dep = Deployment("", database)
        for _ in range(replicas):
            proc, url = start_streamlit(shared)
            stack.callback(stop_streamlit, proc)
            dep.replicas.append((proc, url))
        dep.url = stack.enter_context(balancer([int(url.rsplit(":", 1)[1]) for _, url in dep.replicas]))
        yield dep
