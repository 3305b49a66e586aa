"""The live view in real Chromium: flicker, redraw rate, training speed, page switches, a class at once.

    python -m bench.bench_live frames [--page playground] [--preset tfp-default] [--seconds 6] [--root DIR]
    python -m bench.bench_live switch
    python -m bench.bench_live home [--repeat 5]
    python -m bench.bench_live class [--sessions 1,5,10,20] [--seconds 20] [--clients protocol|chromium]
                                     [--replicas N]

frames: one tab trains a page; every animation frame is sampled (bench/live_probe.js): the share of
        frames that show every chart drawn once ("clean"), blank and duplicated frames, new chart nodes,
        redraws of the loss chart per second, epochs per second, bytes the server sent per redraw, and
        the server's time per redraw (the fragment run, timed by ui/live.py under PLAYGROUND_TRACE_REDRAW).
home:   seconds from opening Home in a new browser until it is drawn, on a fresh server (its first run imports
        torch and the app) and in a second browser; the server's CPU seconds meanwhile, by thread.
switch: seconds from clicking a page in the navigation until its script is idle and its charts are drawn.
class:  N sessions train the Playground preset at once; per-session redraw interval p50/p95 (as the server
        sends them, and as the sessions receive them), epochs/s per session (the Epoch shown), total steps
        per second, the server's RSS, what a redraw costs and how long it waits to be sent, and redraws the
        server computed but never sent. `--clients protocol` (the default): one real Chromium tab records
        what it sends to open the page, raise Epochs and press Play; N sessions of bench/st_client.py replay
        it over the websocket and keep the page's redraw timer as Streamlit's frontend does, without drawing
        (a class's browsers run on the students' machines; 20 tabs would take this machine's CPUs).
        `--clients chromium`: N real tabs, the server on CPU 0 and the browsers on CPU 1.
        `--replicas N`: N servers on one throwaway PostgreSQL behind nginx (deploy/nginx.conf), as
        docs/deploy.md sets them up; each session lands on a replica as a new browser would (by chance).
Every figure is printed with the machine's load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.e2e import server as server_process
from ui.pages import PAGES as NAV_PAGES

ROOT = Path(__file__).resolve().parents[1]
PROBE_JS = (ROOT / "tests" / "e2e" / "live_probe.js").read_text()
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
LOSS_TITLE = {"playground": "Loss", "gan": "Losses", "gradients": "A: gradient norm per layer", "cnn": "Loss"}
PAGES = {"playground": "Playground", "cnn": "CNN", "gan": "GAN", "gradients": "Gradient lab"}
EPOCH = """() => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]'))
    .find(e => e.innerText.startsWith('Epoch'));
  return m ? parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')) : -1;
}"""
CHARTS_DRAWN = """() => {
  const els = Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'));
  return els.length > 0 && els.every(el => el._fullLayout && el.querySelector('.main-svg'));
}"""

ALL_DRAWN = """() => Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot'))
  .every(el => el._fullLayout && el.querySelector('.main-svg'))"""


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class Server:
    """A `streamlit run app.py` on 127.0.0.1 whose stderr is kept (redraw traces, errors)."""

    def __init__(
        self,
        root: Path = ROOT,
        trace: bool = True,
        max_runs: int = 8,
        cpus: set[int] | None = None,
        env: dict | None = None,
        lines: list[str] | None = None,
    ):
        """`cpus`: run the server on these CPUs only (the class benchmark keeps the browsers off them).
        `env`: more environment (a replica's store); `lines`: a list its stderr lines go to (replicas share one)."""
        env = dict(env or {}) | {"PLAYGROUND_MAX_RUNS": str(max_runs)}  # a class server allows one run per student
        if trace:
            env["PLAYGROUND_TRACE_REDRAW"] = "1"
        self.lines: list[str] = [] if lines is None else lines
        self.proc, self.url = server_process.start(
            root,
            env,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.url.rsplit(":", 1)[1])
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def redraw_times(self, since: int) -> dict[str, list[float]]:
        """Server time of each fragment run traced after line `since`, by browser session."""
        out: dict[str, list[float]] = {}
        for ln in self.lines[since:]:
            if m := re.search(r"live redraw .* session (\S+) at ([\d.]+)", ln):
                out.setdefault(m[1], []).append(float(m[2]))
        return out

    def redraw_ms(self, since: int) -> list[tuple[float, float]]:
        """(wall, CPU) milliseconds of the fragment runs traced after line `since`."""
        pat = r"live redraw ([\d.]+) ms, cpu ([\d.]+) ms"
        return [(float(m[1]), float(m[2])) for ln in self.lines[since:] if (m := re.search(pat, ln))]

    def send_waits(self, since: int) -> tuple[list[float], int]:
        """Milliseconds each redraw traced after line `since` waited for the server to send it, and how many
        gave up waiting (ui/live.py SEND_WAIT_S)."""
        waits = [
            (float(m[1]), bool(m[2]))
            for ln in self.lines[since:]
            if (m := re.search(r"sent after ([\d.]+) ms( \(not yet\))?", ln))
        ]
        return [w for w, _ in waits], sum(late for _, late in waits)

    def thread_cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) of each of the server's threads, by thread id."""
        out = {}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def cpu(self) -> float:
        """CPU seconds (user + system) of the server process so far, threads that have ended included."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_names(self) -> dict[int, str]:
        """The name of each of the server's threads (the kernel's 15-character name), by thread id."""
        out = {}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                out[int(task.name)] = (task / "comm").read_text().strip()
            except OSError:
                continue
        return out

    def rss_mb(self) -> float:
        """The server's resident memory with its worker processes' (every descendant)."""
        return sum(_rss_kb(pid) for pid in _family(self.proc.pid)) / 1024

    def close(self) -> None:
        server_process.stop(self.proc)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    except (OSError, AttributeError):
        return 0  # gone meanwhile, or a zombie


def _family(pid: int) -> list[int]:
    """`pid` and every process below it (read from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    family, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        family += frontier
    return family


class Replicas:
    """Servers behind nginx on one PostgreSQL store, read by the class benchmark as one server: their redraw
    traces go to one list, their memory is summed."""

    def __init__(self, root: Path, max_runs: int, n: int, stack: contextlib.ExitStack):
        from tests.e2e.deployment import balancer, shared_env
        from tests.postgres import fresh_database, throwaway_postgres

        env = shared_env(fresh_database(stack.enter_context(throwaway_postgres())))
        self.lines: list[str] = []
        self.servers = [Server(root, max_runs=max_runs, env=env, lines=self.lines) for _ in range(n)]
        for s in self.servers:
            stack.callback(s.close)
        self.url = stack.enter_context(balancer([s.port for s in self.servers]))
        self.proc, self.port = self.servers[0].proc, self.url.rsplit(":", 1)[1]

    def __getattr__(self, name):  # the trace readers: they read self.lines, which every replica writes
        return getattr(Server, name).__get__(self)

    def rss_mb(self) -> float:
        return sum(s.rss_mb() for s in self.servers)

    def close(self) -> None:
        """The ExitStack stops the servers, nginx and PostgreSQL."""


def open_page(page, url: str, timeout_ms: int = 180000) -> None:
    """Go to url; wait until the script is idle and every chart is drawn (generous: the machine may be busy)."""
    page.goto(url, timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector(IDLE, timeout=timeout_ms)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_ms)


def long_run(page) -> None:
    """Set the page's Epochs to 100,000, so its run still trains when the measurement ends."""
    epochs = page.get_by_label("Epochs", exact=True)
    if epochs.count():
        if not epochs.first.is_visible():  # in a collapsed group of controls
            page.locator('[data-testid="stExpander"]', has=epochs.first).locator("summary").click()
        epochs.first.fill("100000")
        epochs.first.press("Enter")
        page.wait_for_timeout(500)
        page.wait_for_selector(IDLE, timeout=180000)


def measure_frames(server: Server, browser, page_name: str, preset: str, seconds: float):
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    received = [0]
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: received.__setitem__(0, received[0] + len(p))))
    open_page(page, f"{server.url}/{page_name}?preset={preset}")
    long_run(page)
    page.add_script_tag(content=PROBE_JS)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({EPOCH})() >= 3", timeout=60000)
    time.sleep(1.0)  # the first redraws after Play rebuild the page
    n_expected = page.evaluate(f"window.__liveProbe.start({LOSS_TITLE[page_name]!r})")
    e0, b0, l0, t0 = page.evaluate(EPOCH), received[0], len(server.lines), time.perf_counter()
    cpu0 = server.thread_cpu()
    time.sleep(seconds)
    res = page.evaluate("window.__liveProbe.stop()")
    e1, b1, t1 = page.evaluate(EPOCH), received[0], time.perf_counter()
    cpu1 = server.thread_cpu()
    busy = sorted(((cpu1[k] - cpu0.get(k, 0.0)) / (t1 - t0) for k in cpu1), reverse=True)
    server_ms = server.redraw_ms(l0)
    pause = page.get_by_role("button", name="Pause")
    if pause.count():  # the run may have finished meanwhile
        pause.click()
        page.wait_for_selector(IDLE, timeout=30000)
    ctx.close()
    f = max(1, res["frames"])
    red = max(1, res["renders"] or res["redraws"])
    chart_ms = sorted(res["chart_ms"]) or [0.0]
    print(f"frames {page_name} ({preset}, the page's default speed): {load()}")
    print(
        f"  {res['frames']} frames in {res['seconds']:.1f} s, {n_expected} charts: clean {100 * res['clean'] / f:.1f} %,"
        f" blank {100 * res['blank'] / f:.1f} %, duplicated {100 * res['dup'] / f:.1f} %, new chart nodes {res['new_nodes']}"
    )
    print(
        f"  redraws {res['redraws'] / res['seconds']:.2f}/s seen in frames, {(res['renders'] or 0) / res['seconds']:.2f}/s"
        f" drawn by Plotly (loss chart), epochs {(e1 - e0) / (t1 - t0):.1f}/s,"
        f" frame gap p50 {res['frame_p50_ms']:.1f} ms p95 {res['frame_p95_ms']:.1f} ms"
    )
    if res["why"]:
        print("  frames not clean, by chart: " + ", ".join(f"{k} {v}" for k, v in sorted(res["why"].items())))
    wall = sorted(w for w, _ in server_ms) or [0.0]
    cpu = sorted(c for _, c in server_ms) or [0.0]
    print(
        f"  per redraw: {(b1 - b0) / red / 1024:.1f} KiB sent; fragment runs {len(server_ms) / res['seconds']:.1f}/s,"
        f" server {wall[len(wall) // 2]:.0f} ms wall, {cpu[len(cpu) // 2]:.0f} ms CPU (p50);"
        f" browser chart update {chart_ms[len(chart_ms) // 2]:.1f} ms p50 (sum over the page's charts)"
    )
    print(
        f"  server CPU: {sum(busy):.2f} cores in all; busiest threads "
        + ", ".join(f"{b:.2f}" for b in busy[:4])
        + " (the training thread is the busiest while it trains)"
    )
    return res


HOME_DRAWN = """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]') !== null
  && Array.from(document.querySelectorAll('[data-testid="stMain"] h2')).some(h => h.innerText.startsWith('Lessons'))
  && document.querySelectorAll('[data-testid="stMain"] [data-testid="stPageLink"]').length > 0
  && document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]') === null"""


def first_home(server: Server, browser) -> tuple[float, float, dict[str, float]]:
    """Seconds from opening the Home page in a new browser until it is drawn (script idle, lessons listed), the
    server's CPU seconds meanwhile, and those of each thread still alive ("name/tid": a script run's thread ends
    with its run and is counted only in the total)."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = ctx.new_page()
    cpu0, total0 = server.thread_cpu(), server.cpu()
    t0 = time.perf_counter()
    page.goto(server.url)
    page.wait_for_function(HOME_DRAWN, timeout=180000)
    wall = time.perf_counter() - t0
    cpu1, total1 = server.thread_cpu(), server.cpu()
    ctx.close()
    names = server.thread_names()
    by_name: dict[str, float] = {}
    for k, c in cpu1.items():
        name = f"{names.get(k, '?')}/{k}"
        by_name[name] = by_name.get(name, 0.0) + c - cpu0.get(k, 0.0)
    return wall, total1 - total0, by_name


def measure_home(browser, root: Path, repeat: int) -> None:
    """Home's first render on a fresh server (imports and the first run included), then in a second new browser."""
    print(f"Home page, new browser, open -> drawn (script idle, lessons listed): {load()}")
    firsts, seconds = [], []
    for i in range(repeat):
        server = Server(root, trace=False)
        try:
            time.sleep(1.0)  # the server has started; a student opens the page a moment later
            wall, cpu, threads = first_home(server, browser)
            wall2, cpu2, _ = first_home(server, browser)
        finally:
            server.close()
        firsts.append(wall)
        seconds.append(wall2)
        busiest = ", ".join(f"{n} {c:.2f}" for n, c in sorted(threads.items(), key=lambda x: -x[1])[:3])
        print(
            f"  fresh server {i + 1}: first {wall:5.2f} s ({cpu:.2f} s server CPU: {busiest}),"
            f" second browser {wall2:5.2f} s ({cpu2:.2f} s CPU)  ({load()})"
        )
    print(f"  median: first {percentile(firsts, 0.5):.2f} s, second browser {percentile(seconds, 0.5):.2f} s")


def measure_switch(server: Server, browser) -> None:
    print(f"first page from Home in a new browser (click -> script idle and every chart drawn): {load()}")
    for name, title in [(p.name, p.title) for p in NAV_PAGES if p.trains][:3]:
        ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = ctx.new_page()
        page.goto(server.url)
        page.wait_for_selector(IDLE, timeout=60000)
        page.wait_for_timeout(1500)  # a student reads the page for a moment
        t0 = time.perf_counter()
        page.get_by_role("link", name=title).first.click()
        page.wait_for_url(re.compile(f"/{name}"), timeout=60000)
        page.wait_for_selector(IDLE, timeout=60000)
        page.wait_for_function(CHARTS_DRAWN, timeout=60000)
        print(f"  Home -> {title:17s} {time.perf_counter() - t0:5.2f} s  ({load()})")
        ctx.close()
    print(f"page switch from the Playground (click -> script idle and every chart drawn): {load()}")
    for _ in range(2):  # the first round includes each page's first import on this server
        for name, title in [("", "Home")] + [(p.name, p.title) for p in NAV_PAGES if p.name != "playground"]:
            ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
            page = ctx.new_page()
            open_page(page, f"{server.url}/playground")
            # Drawn, and read for a moment: a click before then timed the Playground's own first drawing too (its
            # plotly.js, 0.75 s of parsing in a new tab, went on after the click), not the switch.
            page.wait_for_function(ALL_DRAWN, timeout=60000)
            page.wait_for_timeout(1500)
            t0 = time.perf_counter()
            page.get_by_role("link", name=title, exact=True).first.click()
            page.wait_for_url(re.compile(f"{re.escape(server.url)}/{name}([?#].*)?$"), timeout=60000)
            page.wait_for_selector(IDLE, timeout=60000)
            page.wait_for_function(ALL_DRAWN, timeout=60000)  # Transfer (before pretraining) and Runs have none
            print(f"  -> {title:17s} {time.perf_counter() - t0:5.2f} s  ({load()})")
            ctx.close()


WATCH_JS = """(title) => {
  const times = []; let last = null;
  const tick = () => {
    for (const el of document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')) {
      const t = el.layout && el.layout.title && el.layout.title.text;
      if (t && t.replace(/<[^>]+>/g, '') === title && el.closest('[data-stale="true"]') === null) {
        if (last !== null && el.data !== last) times.push(performance.now());
        last = el.data; break;
      }
    }
  };
  window.__redrawTimes = times;
  setInterval(tick, 20);
}"""


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[int(q * (len(xs) - 1))] if xs else float("nan")


def server_side(server: Server, since: int, sessions: int, seconds: float) -> None:
    """Redraw intervals as the server sent them (its fragment runs, by session), after trace line `since`."""
    runs = server.redraw_times(since)
    ms = server.redraw_ms(since)
    waits, late = server.send_waits(since)
    print(
        f"class {sessions:2d} sessions, server side: redraw median {percentile([w for w, _ in ms], 0.5):.0f} ms"
        f" ({percentile([c for _, c in ms], 0.5):.0f} ms CPU), then waits {percentile(waits, 0.5):.0f} ms (p95"
        f" {percentile(waits, 0.95):.0f} ms) until sent; {late} of {len(waits)} not sent within the wait"
    )
    gaps = [[b - a for a, b in zip(ts, ts[1:])] for ts in runs.values()]
    flat = [g for gs in gaps for g in gs]
    worst_p95 = max((percentile(gs, 0.95) for gs in gaps if gs), default=seconds)
    print(
        f"class {sessions:2d} sessions, server side: {len(runs)} sessions redrawn, interval p50 {percentile(flat, 0.5):.2f} s,"
        f" p95 {percentile(flat, 0.95):.2f} s, worst session p95 {worst_p95:.2f} s, longest {max(flat, default=0):.2f} s"
    )


def epochs_line(sessions: int, e0: list[float], e1: list[float], dt: float) -> str:
    steps_per_epoch = 25  # tfp-default: 250 training points, batch 10
    rates = sorted((b - a) / dt for a, b in zip(e0, e1))
    total = sum(b - a for a, b in zip(e0, e1)) * steps_per_epoch / dt
    return (
        f"class {sessions:2d} sessions: epochs/s per session min {rates[0]:.1f}, median {rates[len(rates) // 2]:.1f},"
        f" max {rates[-1]:.1f}; total {total:.0f} steps/s"
    )


def measure_class(server: Server, browser, sessions: int, seconds: float) -> None:
    ctxs, pages = [], []
    for _ in range(sessions):
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        open_page(page, f"{server.url}/playground?preset=tfp-default")
        long_run(page)
        page.get_by_role("button", name="Play").click()
        ctxs.append(ctx)
        pages.append(page)
    for page in pages:
        page.wait_for_function(f"({EPOCH})() >= 1", timeout=120000)
        page.evaluate(WATCH_JS, "Loss")
    e0 = [p.evaluate(EPOCH) for p in pages]
    t0, l0 = time.perf_counter(), len(server.lines)
    time.sleep(seconds)
    e1 = [p.evaluate(EPOCH) for p in pages]
    t1 = time.perf_counter()
    server_side(server, l0, sessions, seconds)
    gaps = [[b - a for a, b in zip(ts, ts[1:])] for ts in (p.evaluate("window.__redrawTimes") for p in pages)]
    allg = [x / 1000 for g in gaps for x in g]
    worst_p95 = max((percentile(g, 0.95) / 1000 if g else seconds) for g in gaps)
    longest = max((max(g, default=seconds * 1000) / 1000 for g in gaps), default=seconds)
    print(epochs_line(sessions, e0, e1, t1 - t0))
    print(
        f"class {sessions:2d} sessions, drawn in the tabs: redraw interval p50 {percentile(allg, 0.5):.2f} s,"
        f" p95 {percentile(allg, 0.95):.2f} s, worst session p95 {worst_p95:.2f} s, longest gap {longest:.2f} s,"
        f" RSS {server.rss_mb():.0f} MB; {load()}"
    )
    for page in pages:
        try:
            page.get_by_role("button", name="Pause").click(timeout=5000)
        except Exception:  # a starved tab may not have redrawn its controls yet
            pass
    for ctx in ctxs:
        ctx.close()


def record_tab(server: Server, browser) -> tuple[list[bytes], bytes]:
    """What a Chromium tab sends to open the Playground preset, raise its Epochs and press Play (full reruns),
    and then to press Pause."""
    from bench.st_client import full_reruns

    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(p)))
    open_page(page, f"{server.url}/playground?preset=tfp-default")
    long_run(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"({EPOCH})() >= 1", timeout=120000)
    start = full_reruns(sent)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_selector(IDLE)
    ctx.close()
    return start, full_reruns(sent)[len(start)]


def measure_class_protocol(server: Server, msgs: list[bytes], pause: bytes, sessions: int, seconds: float) -> None:
    """N sessions that replay a tab's messages and keep its fragment timers, without drawing (bench/st_client.py)."""
    import asyncio

    from bench.st_client import Session

    async def run():
        ss = [Session(server.url) for _ in range(sessions)]
        for i, s in enumerate(ss):  # students arrive one after another
            t = time.monotonic()
            try:
                await s.open(msgs[0])
                for m in msgs[1:]:
                    await s.replay(m)
            except TimeoutError:
                print(f"session {i + 1}: the page did not finish within 120 s", flush=True)
                continue
            print(f"session {i + 1} opened and pressed Play in {time.monotonic() - t:.1f} s", flush=True)
        for _ in range(600):
            if all(s.metric("Epoch") >= 1 for s in ss):
                break
            await asyncio.sleep(0.1)
        e0, t0, l0 = [s.metric("Epoch") for s in ss], time.monotonic(), len(server.lines)
        n0, d0 = [len(s.fragment_runs) for s in ss], [s.dropped_runs for s in ss]
        await asyncio.sleep(seconds)
        e1, t1 = [s.metric("Epoch") for s in ss], time.monotonic()
        print(f"class {sessions:2d} sessions: {load()}", flush=True)
        server_side(server, l0, sessions, seconds)
        gaps = []
        for s, n in zip(ss, n0):
            ts = [t0] + s.fragment_runs[n:] + [t1]  # a session that never redraws shows one gap of the whole window
            gaps.append([b - a for a, b in zip(ts[1:-1], ts[2:])] or [t1 - t0])
        allg = [g for gs in gaps for g in gs]
        if os.environ.get("DEBUG_CLASS"):
            for s, n in zip(ss, n0):
                print(len(s.fragment_runs) - n, s.received, s._intervals, s.texts[-2:])

        print(epochs_line(sessions, e0, e1, t1 - t0))
        print(
            f"class {sessions:2d} sessions, received by the clients: redraw interval p50 {percentile(allg, 0.5):.2f} s,"
            f" p95 {percentile(allg, 0.95):.2f} s, worst session p95 {max(percentile(g, 0.95) for g in gaps):.2f} s,"
            f" longest gap {max(allg):.2f} s, RSS {server.rss_mb():.0f} MB; {load()}"
        )
        sent, dropped = (
            sum(len(s.fragment_runs) - n for s, n in zip(ss, n0)),
            sum(s.dropped_runs - d for s, d in zip(ss, d0)),
        )
        print(f"class {sessions:2d} sessions: {sent} redraws received, {dropped} computed but dropped unsent")
        errors = {t for s in ss for t in s.texts if "Exception" in t or "Cannot" in t or "slots" in t}
        if errors:
            print(f"class {sessions:2d} sessions: the pages showed: {sorted(errors)}")
        for s in ss:
            try:
                await s.replay(pause)
            except TimeoutError:
                print("a session's Pause did not finish within 120 s", flush=True)
            await s.close()

    t = threading.Thread(target=lambda: asyncio.run(run()))  # Playwright's loop holds this thread
    t.start()
    t.join()
    if os.environ.get("DEBUG_CLASS"):
        print("".join(ln for ln in server.lines if "live redraw" not in ln)[-3000:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["frames", "switch", "class", "home"])
    ap.add_argument("--repeat", type=int, default=5, help="home: fresh servers to measure")
    ap.add_argument("--page", default="playground", choices=list(PAGES))
    ap.add_argument("--preset", default=None)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--sessions", default="1,5,10,20")
    ap.add_argument(
        "--clients",
        choices=["protocol", "chromium"],
        default="protocol",
        help="class: sessions that replay a tab's messages without drawing (the server's capacity), or real tabs",
    )
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py is served (e.g. a baseline)")
    ap.add_argument("--replicas", type=int, default=0, help="class: servers behind nginx on one PostgreSQL store")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a timeout still stops the server (finally below)
    from playwright.sync_api import sync_playwright

    preset = (
        args.preset
        or {"playground": "tfp-default", "gan": "gan-ring", "gradients": "fix-relu-he", "cnn": "cnn-digits"}[args.page]
    )
    sessions = [int(x) for x in args.sessions.split(",")]
    if args.what == "home":  # a fresh server for each measurement
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            measure_home(browser, args.root, args.repeat)
            browser.close()
        return
    # A class of real tabs: the server on CPU 0, the browsers on CPU 1 (a real class's browsers run on their own
    # machines; here they would otherwise take the server's CPU). Protocol sessions cost little: the server
    # has both CPUs, as on a class's server. Other measurements use both CPUs for everything.
    pin = args.what == "class" and args.clients == "chromium" and os.cpu_count() and os.cpu_count() >= 2
    stack = contextlib.ExitStack()
    if args.replicas:
        server = Replicas(args.root, max(8, *sessions), args.replicas, stack)
    else:
        server = Server(args.root, max_runs=max(8, *sessions), cpus={0} if pin else None)
    if pin:
        os.sched_setaffinity(0, {1})  # this process and the browser it starts
    print(f"server pid {server.proc.pid} on port {server.port}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            if args.what == "frames":
                measure_frames(server, browser, args.page, preset, args.seconds)
            elif args.what == "switch":
                measure_switch(server, browser)
            elif args.clients == "chromium":
                for n in sessions:
                    measure_class(server, browser, n, args.seconds)
            else:
                start, pause = record_tab(server, browser)
                for n in sessions:
                    measure_class_protocol(server, start, pause, n, args.seconds)
            browser.close()
    finally:
        server.close()
        stack.close()


if __name__ == "__main__":
    main()
