"""Live Plotly charts: one chart element that keeps its DOM node and is updated in place.

`live_chart(fig, key)` is a drop-in for `st.plotly_chart(fig)` inside a live view. It mounts a
Streamlit custom component (`st.components.v2.component`) holding a Plotly div and applies every
redraw with `Plotly.react`, so the chart is never remounted: no blank or duplicated chart between
redraws, and zoom, pan and hover survive them (`layout.uirevision`).

Only what changed is sent: on a fragment rerun a trace (or the layout) equal to the one the browser
already holds is sent as null. Each trace is turned into JSON once (NumPy arrays as Plotly's base64
typed arrays) and compared as text; the payload goes to the browser as one JSON string, so Streamlit
does not walk it again. A browser that lost the chart's state (a remount) asks for a full
copy through the component's `resync` state, which reruns the fragment.

Plotly.js itself comes from the installed `plotly` package (no network). It is copied into the app's
`static/` folder, which the server serves (`server.enableStaticServing`); a second, tiny component adds
it to the page as a script once per browser tab, so the browser fetches its 4.8 MB over HTTP once and
keeps it in its cache. (Sent inside the component's message instead, it crossed the websocket again on
every page a tab opened: Streamlit's message cache misses, as the element's id differs by page.) Where
the folder cannot be written or the server does not serve it, the bundle goes inside the message.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import numpy as np
import orjson
import plotly
import plotly.graph_objects as go
import streamlit as st

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATE = "_plotly_live"  # session-state key: {chart key: (rev, traces, layout)} as the browser last got them
LOADER_KEY = "_plotly_live_loader"

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"  # served at <base>/app/static/
PLOTLY_FILE = f"plotly-{plotly.__version__}.min.js"

# The loaders hide their own empty element. The inline one carries the plotly.js bundle (it sets window.Plotly);
# the other adds <script src=data.src> to the page once per tab (window.Plotly survives page switches).
_HIDE_JS = """
  const host = parentElement.host || parentElement;
  const box = host.closest && host.closest('[data-testid="stElementContainer"]');
  if (box) box.style.display = "none";
"""
_LOADER_JS = PLOTLY_JS.read_text(encoding="utf-8") + "export default function ({ parentElement }) {" + _HIDE_JS + "}"
_SRC_LOADER_JS = (
    "export default function ({ data, parentElement }) {"
    + _HIDE_JS
    + """
  if (window.Plotly || window.__plotlyScript) return;
  const s = document.createElement("script");
  s.src = data.src;
  s.onerror = () => { s.remove(); window.__plotlyScript = null; };  // the next full run tries again
  window.__plotlyScript = s;
  document.head.appendChild(s);
}
"""
)

_CHART_JS = r"""
const CONFIG = { displaylogo: false, responsive: true };
const store = (window.__plotlyLive = window.__plotlyLive || {});
const timings = (window.__liveChartMs = window.__liveChartMs || []);

const TYPED = { f8: Float64Array, f4: Float32Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
  u2: Uint16Array, i4: Int32Array, u4: Uint32Array };

// 1-D base64 arrays ({dtype, bdata}) become typed arrays, so el.data reads like plain arrays.
function decode(o) {
  if (Array.isArray(o)) return o.map(decode);
  if (o === null || typeof o !== "object") return o;
  if (typeof o.bdata === "string" && TYPED[o.dtype] && !o.shape) {
    const bytes = Uint8Array.from(atob(o.bdata), (c) => c.charCodeAt(0));
    return new TYPED[o.dtype](bytes.buffer);
  }
  for (const k of Object.keys(o)) o[k] = decode(o[k]);
  return o;
}

function whenPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  return new Promise((resolve) => {
    const t = setInterval(() => { if (window.Plotly) { clearInterval(t); resolve(window.Plotly); } }, 20);
  });
}

export default function ({ data, key, parentElement, setStateValue }) {
  let host = parentElement.querySelector(":scope > .plotly-live");
  if (!host) {
    host = document.createElement("div");
    host.className = "plotly-live";
    parentElement.appendChild(host);
  }
  if (!data) return;
  if (typeof data === "string") data = JSON.parse(data);
  const id = data.key;
  host.dataset.chart = id;  // a stable name for tests, even when the title changes
  data.traces = decode(data.traces);
  let s = store[id];
  if (data.full || !s) s = store[id] = { traces: [], got: [], layout: null, layoutGot: 0, rev: 0 };
  if (data.rev < s.rev) return;  // an older payload drawn again: ours is newer
  const n = data.traces.length;
  const stale = (got, since) => got === undefined || got < since;
  let behind = data.layout === null && stale(s.layoutGot, data.since[n]);
  data.traces.forEach((t, i) => { if (t === null && stale(s.got[i], data.since[i])) behind = true; });
  if (behind) {
    setStateValue("resync", data.rev);  // a change we never received: ask for a full copy
    return;
  }
  data.traces.forEach((t, i) => { if (t !== null) { s.traces[i] = t; s.got[i] = data.rev; } });
  s.traces.length = n;
  s.got.length = n;
  if (data.layout !== null) { s.layout = data.layout; s.layoutGot = data.rev; }
  s.rev = data.rev;
  whenPlotly().then((Plotly) => draw(Plotly, host, s));
  if (!host.__observer) {
    host.__observer = new ResizeObserver(() => {
      const cur = store[host.dataset.chart];
      if (!window.Plotly || !host._fullLayout || !cur || host.clientWidth === host.__width) return;
      if (!host.clientWidth || getComputedStyle(host).display === "none") return;  // hidden (another tab): later
      host.__width = host.clientWidth;  // a fit that made the chart taller must not start this again
      cur.fit = {};  // measured again at the new width
      window.Plotly.Plots.resize(host).then(() => draw(window.Plotly, host, cur), () => {});  // hidden meanwhile
    });
    host.__observer.observe(host);
  }
}

// Text that fits, measured where it is drawn (a chart added later gets it too):
// - a title wider than the chart is broken into lines at spaces (" <br>": without its tags it reads as sent);
//   Plotly lifts a title of several lines above its pad: it is moved down by what was measured;
// - the top margin holds the title and, under it, a legend that sits above the plot, however many rows the
//   legend needs at this width (the figure grows by as much: the plot keeps its height);
// - an annotation that would run past the chart's edge is broken into lines the same way;
// - an axis whose tick labels run into each other is given fewer ticks (`nticks`), halved until they stand
//   apart; that stays until the chart is resized.
const canvas = document.createElement("canvas").getContext("2d");

function wrapTitle(text, font, width) {
  canvas.font = `${font.size}px ${font.family}`;
  const lines = [];
  for (const part of String(text).split(/<br\s*\/?>/i)) {
    let line = "";
    for (const word of part.split(" ")) {
      const next = line ? line + " " + word : word;
      if (line && canvas.measureText(next.replace(/<[^>]+>/g, "")).width > width) { lines.push(line); line = word; }
      else line = next;
    }
    lines.push(line);
  }
  return lines;
}

const apart = (a, b) =>
  a.right <= b.left + 1 || b.right <= a.left + 1 || a.bottom <= b.top + 1 || b.bottom <= a.top + 1;

function titlePad(layout) {
  const tmpl = (layout.template && layout.template.layout && layout.template.layout.title) || {};
  return Object.assign({}, tmpl.pad, layout.title && layout.title.pad);
}

function measureFit(host, layout, old) {
  const fl = host._fullLayout;
  const box = host.getBoundingClientRect();
  const fit = { axes: Object.assign({}, old.axes) };
  const tmpl = (layout.template && layout.template.layout) || {};
  const top = (layout.margin && layout.margin.t) ?? (tmpl.margin && tmpl.margin.t) ?? 100;
  const text = layout.title && layout.title.text;
  const gt = text && host.querySelector(".gtitle");
  let need = 0;
  if (gt) {
    const font = fl.title.font;
    const pad = titlePad(layout);
    const lines = wrapTitle(text, font, fl.width - (pad.l || 0) - 16);
    if (lines.length > 1) fit.title = lines.join(" <br>");
    const r = gt.getBoundingClientRect();
    const dy = Math.max(0, Math.round((old.dy || 0) + box.top + (pad.t || 0) - r.top));
    if (dy > 0) fit.dy = dy;
    const drawn = (fit.title || "") === (old.title || "") && r.height > 0;
    need = (drawn ? r.bottom - box.top + dy - (old.dy || 0) : (pad.t || 0) + dy + lines.length * font.size * 1.3) + 12;
  }
  const legend = fl.showlegend && host.querySelector(".legend");
  const lg = fl.legend || {};
  if (legend && lg.orientation === "h" && lg.y >= 1 && lg.yanchor === "bottom") {
    need += legend.getBoundingClientRect().height + 4;
  }
  if (Math.ceil(need) > top) {
    fit.top = Math.ceil(need);
    if (layout.height) fit.height = layout.height + fit.top - top;  // the plot keeps its height
  }
  (layout.annotations || []).forEach((note, i) => {
    const el = host.querySelectorAll(".annotation")[i];
    const font = (fl.annotations[i] || {}).font;
    if (!el || !font || !note.text) return;
    const r = el.getBoundingClientRect();
    const room = r.left > box.left + 1 ? box.right - r.left : r.right - box.left;  // from the side it is pinned to
    const lines = wrapTitle(note.text, font, room - 8);
    if (lines.length > 1) (fit.notes = fit.notes || {})[i] = { from: note.text, to: lines.join(" <br>") };
  });
  for (const name of Object.keys(fl)) {
    const ax = fl[name];
    if (!/^[xy]axis\d*$/.test(name) || !ax || !ax._id || !ax.visible) continue;
    const boxes = Array.from(host.querySelectorAll(`.${ax._id}tick text`))
      .filter((t) => t.textContent.trim()).map((t) => t.getBoundingClientRect());
    const had = (fit.axes[name] && fit.axes[name].nticks) || boxes.length;  // halve again if still crowded
    if (boxes.some((a, i) => boxes.slice(i + 1).some((b) => !apart(a, b))))
      fit.axes[name] = { tickmode: "auto", nticks: Math.max(2, Math.floor(Math.min(boxes.length, had) / 2)) };
  }
  return fit;
}

function withFit(layout, fit) {
  const out = Object.assign({}, layout);
  if (fit.title || fit.dy) {
    const pad = titlePad(layout);
    out.title = Object.assign({}, layout.title, { text: fit.title || layout.title.text });
    out.title.pad = Object.assign(pad, { t: (pad.t || 0) + (fit.dy || 0) });
  }
  // A note is wrapped only while it says what was measured: a newer layout may have other notes, or none.
  const note = (a, i) => (fit.notes[i] && fit.notes[i].from === a.text ? Object.assign({}, a, { text: fit.notes[i].to }) : a);
  if (fit.notes && layout.annotations) out.annotations = layout.annotations.map(note);
  if (fit.top) out.margin = Object.assign({}, layout.margin, { t: fit.top });
  if (fit.height) out.height = fit.height;
  for (const [name, ax] of Object.entries(fit.axes || {})) out[name] = Object.assign({}, layout[name], ax);
  return out;
}

// Plotly.react writes a user's zoom, pan or legend click into the objects it is given (uirevision). It gets
// copies: the server's layout and traces stay as sent, so a zoom survives the next layout the server sends.
function draw(Plotly, host, s, tries = 0) {
  const layout = Object.assign({}, s.layout, { uirevision: s.layout.uirevision || "live", datarevision: s.rev });
  const traces = s.traces.map((t) => Object.assign({}, t));
  const t0 = performance.now();
  return Plotly.react(host, traces, structuredClone(withFit(layout, s.fit || {})), CONFIG).then(() => {
    host.__renders = (host.__renders || 0) + 1;  // redraws of this chart (read by tests/e2e/live_probe.js)
    timings.push(performance.now() - t0);
    if (timings.length > 2000) timings.splice(0, 1000);
    // Measured after every draw (a legend grows as traces arrive); drawn again only when the fit changed.
    const fit = measureFit(host, s.layout, s.fit || {});
    if (JSON.stringify(fit) !== JSON.stringify(s.fit || {})) {
      s.fit = fit;
      if (tries < 3) return draw(Plotly, host, s, tries + 1);
    }
  });
}
"""

_loader = st.components.v2.component("playground.plotly_live_loader", js=_LOADER_JS)
_src_loader = st.components.v2.component("playground.plotly_live_src", js=_SRC_LOADER_JS)
_chart = st.components.v2.component("playground.plotly_live", js=_CHART_JS, isolate_styles=False)


_SHORT = {"float64": "f8", "float32": "f4", "int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2"}
_SHORT |= {"int32": "i4", "uint32": "u4"}


def _typed(obj):
    """JSON for what `json` cannot write: NumPy arrays as Plotly's typed-array spec ({dtype, bdata[, shape]})."""
    if isinstance(obj, np.ndarray):
        if obj.dtype == np.int64 and obj.size:
            obj = obj.astype(np.int32) if np.abs(obj).max() < 2**31 else obj.astype(np.float64)
        if obj.dtype.name not in _SHORT or obj.size == 0:
            return obj.tolist()
        spec = {"dtype": _SHORT[obj.dtype.name], "bdata": base64.b64encode(np.ascontiguousarray(obj)).decode()}
        return spec | ({"shape": ", ".join(map(str, obj.shape))} if obj.ndim > 1 else {})
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot send {type(obj).__name__} to a chart")


def _json(obj) -> str:
    """Compact JSON text of a trace or layout. orjson writes NaN and infinities as null (JSON has no such numbers;
    Plotly draws a gap) and is several times faster than `json` on the long lists of a live chart's history."""
    return orjson.dumps(obj, default=_typed).decode()


def figure_json(fig: go.Figure | dict) -> tuple[list[str], str]:
    """Each trace and the layout of `fig` as JSON text.

    A go.Figure is read where it holds what was set (`_data`, `_layout`: what `to_plotly_json` returns, before
    that deep-copies every list element by element, a third of a live redraw's time); nothing here changes it.
    """
    if isinstance(fig, dict):
        return [_json(t) for t in fig.get("data", [])], _json(fig.get("layout", {}))
    return [_json(t) for t in fig._data], _json(fig._layout)


def ensure_loader() -> None:
    """Mount the plotly.js loader once per full script run, before the run's first live chart.

    A live view calls it outside its fragment: an element drawn inside the fragment would be removed
    by the next redraw, before the browser may have finished loading plotly.js (a refresh mid-run).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:  # bare mode
        _mount_loader()
        return
    if ctx.fragment_ids_this_run:  # a live redraw: the page's full run already loaded plotly.js
        return
    if getattr(ctx, "_plotly_live_run", None) is not ctx.cursors:  # ctx.cursors is a new dict every run
        ctx._plotly_live_run = ctx.cursors
        _mount_loader()


def _mount_loader() -> None:
    if st.get_option("server.enableStaticServing") and publish_plotly():
        base = "/".join(p for p in st.get_option("server.baseUrlPath").split("/") if p)
        _src_loader(key=LOADER_KEY, data={"src": f"{'/' + base if base else ''}/app/static/{PLOTLY_FILE}"})
    else:
        _loader(key=LOADER_KEY)


def publish_plotly() -> bool:
    """Put the installed plotly.js into static/ (once per version); False if the folder cannot be written."""
    target = STATIC_DIR / PLOTLY_FILE
    try:
        if target.is_file() and target.stat().st_size == PLOTLY_JS.stat().st_size:
            return True
        tmp = target.with_name(f".{PLOTLY_FILE}.{os.getpid()}.tmp")
        shutil.copyfile(PLOTLY_JS, tmp)
        os.replace(tmp, target)  # a browser never reads half a file
        return True
    except OSError:
        return False


def _fragment_rerun() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


def live_payload(fig: go.Figure, key: str, sent: dict, diff: bool) -> str:
    """What to send for `fig`, as JSON text: everything, or (diff) only the traces and layout that changed.

    Each trace (and the layout) goes with `since`, the revision it last changed at: the browser can keep
    its copy if it got one at that revision or later, so a payload the browser never drew (the page
    redrew twice within one of its frames) costs nothing unless it held the only copy of a change.
    `sent` maps chart keys to (rev, traces, layout, since) as sent last (JSON text); it is updated.
    """
    traces, layout = figure_json(fig)
    old = sent.get(key)
    rev = (old[0] + 1) if old else 1
    head = {"key": key, "rev": rev, "full": not diff or old is None}
    if head["full"]:
        since = [rev] * (len(traces) + 1)  # the last entry is the layout's
    else:
        _, old_traces, old_layout, old_since = old
        same = [i < len(old_traces) and t == old_traces[i] for i, t in enumerate(traces)] + [layout == old_layout]
        since = [old_since[i] if keep else rev for i, keep in enumerate(same[:-1])] + [
            old_since[-1] if same[-1] else rev
        ]
    sent[key] = (rev, traces, layout, since)
    parts = [t if since[i] == rev else "null" for i, t in enumerate(traces)]
    head["since"] = since
    body = ',"traces":[' + ",".join(parts) + '],"layout":' + (layout if since[-1] == rev else "null") + "}"
    return json.dumps(head)[:-1] + body


def live_chart(fig: go.Figure, key: str, where=None) -> None:
    """Draw `fig` as a chart that updates in place across reruns (a drop-in for st.plotly_chart in a live view).

    `where` is a container (a column) to draw in, as `col.plotly_chart(fig)` would.
    """
    if where is not None:
        with where:
            return live_chart(fig, key)
    ensure_loader()
    sent = st.session_state.setdefault(STATE, {})
    wanted = (st.session_state.get(key) or {}).get("resync")
    resync = wanted is not None and wanted != sent.get(f"{key}/resync")
    if resync:
        sent[f"{key}/resync"] = wanted
    # A full script run may have remounted the chart (page switch, reconnect): send everything then.
    payload = live_payload(fig, key, sent, diff=_fragment_rerun() and not resync)
    _chart(key=key, data=payload, on_resync_change=lambda: None)
