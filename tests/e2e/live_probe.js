// Samples the live view on every animation frame (tests/e2e/test_live_e2e.py and bench/bench_live.py).
// start(loss_title): begins sampling; stop(): returns the figures. A frame is "clean" when every chart
// the page showed at start is drawn exactly once (no blank chart, no stale copy beside a new one).
(() => {
  const title = (el) => {
    const t = el.layout && el.layout.title && el.layout.title.text;
    return t ? t.replace(/<[^>]+>/g, "") : "";
  };
  // A chart's identity: its live-chart key (a title may change, e.g. "3 shown"), else its title.
  const name = (el) => el.dataset.chart || title(el);
  const charts = () =>
    Array.from(document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot')).filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    });
  const drawn = (el) => !!(el._fullLayout && el.querySelector(".main-svg"));
  // Shown: drawn and not faded (Streamlit fades a stale element while its replacement is on its way).
  const shown = (el) => {
    if (!drawn(el)) return false;
    let o = 1;
    for (let e = el; e && e !== document.body; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o > 0.9;
  };
  window.__liveProbe = {
    start(lossTitle) {
      const s = {
        frames: 0, clean: 0, blank: 0, dup: 0, nodes: new WeakSet(), newNodes: 0, redraws: 0,
        gaps: [], last: performance.now(), lastData: null, lastNode: null, running: true,
        expected: new Set(charts().filter(drawn).map(name)), t0: performance.now(), why: {},
      };
      charts().forEach((el) => s.nodes.add(el));
      const tick = (now) => {
        if (!s.running) return;
        s.gaps.push(now - s.last);
        s.last = now;
        s.frames += 1;
        const els = charts();
        const seen = new Map();
        for (const el of els) {
          if (!s.nodes.has(el)) { s.nodes.add(el); s.newNodes += 1; }
          const t = name(el);
          seen.set(t, (seen.get(t) || 0) + 1);
        }
        const fresh = els.filter(shown);
        const freshTitles = new Set(fresh.map(name));
        const gone = [...s.expected].filter((t) => !freshTitles.has(t));
        const missing = gone.length > 0;
        for (const t of gone) {
          const el = els.find((e) => name(e) === t);
          const why = !el ? "absent" : !drawn(el) ? "undrawn" : "faded";
          s.why[`${t}: ${why}`] = (s.why[`${t}: ${why}`] || 0) + 1;
        }
        const twice = [...seen.values()].some((n) => n > 1);
        if (missing) s.blank += 1;
        if (twice) s.dup += 1;
        if (!missing && !twice) s.clean += 1;
        const loss = els.find((el) => title(el) === lossTitle && el.closest('[data-stale="true"]') === null);
        if (loss && (loss.data !== s.lastData || loss !== s.lastNode)) {
          if (s.lastData !== null) s.redraws += 1;
          s.lastData = loss.data; s.lastNode = loss;
        }
        requestAnimationFrame(tick);
      };
      const loss0 = charts().find((el) => title(el) === lossTitle);
      s.lossNode0 = loss0 || null;
      s.renders0 = loss0 ? loss0.__renders || 0 : 0;
      window.__liveState = s;
      requestAnimationFrame(tick);
      return s.expected.size;
    },
    stop() {
      const s = window.__liveState;
      s.running = false;
      const g = s.gaps.slice(1).sort((a, b) => a - b);
      const q = (p) => (g.length ? g[Math.min(g.length - 1, Math.floor(p * g.length))] : 0);
      return {
        seconds: (performance.now() - s.t0) / 1000, frames: s.frames, clean: s.clean, blank: s.blank,
        dup: s.dup, new_nodes: s.newNodes, redraws: s.redraws, expected: [...s.expected],
        // Plotly.react calls on the loss chart (every redraw, even two within one animation frame)
        renders: s.lossNode0 && s.lossNode0.isConnected ? (s.lossNode0.__renders || 0) - s.renders0 : null,
        frame_p50_ms: q(0.5), frame_p95_ms: q(0.95),
        chart_ms: (window.__liveChartMs || []).slice(), why: s.why,
      };
    },
  };
})();
