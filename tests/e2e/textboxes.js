// Text a reader cannot read: overlapping or clipped text in every Plotly chart, and text cut with an
// ellipsis in metrics, captions and buttons. Evaluated in the page; returns a list of problems
// ({kind, where, a, b}) for the test to print. Only what is on screen counts: charts and elements
// with no size (a collapsed expander, another tab) are skipped.
() => {
  const SLACK = 1; // px: boxes that touch are fine
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || parseFloat(s.opacity) === 0) return false;
    }
    return true;
  };
  const overlap = (a, b) =>
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > SLACK &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > SLACK;
  const outside = (r, box) =>
    r.left < box.left - SLACK || r.right > box.right + SLACK || r.top < box.top - SLACK || r.bottom > box.bottom + SLACK;
  const name = (el) => {
    const t = el.layout && el.layout.title && el.layout.title.text;
    const host = el.closest(".plotly-live");
    return (t ? String(t).replace(/<[^>]+>/g, " ") : "") + (host ? ` [${host.dataset.chart}]` : "");
  };

  let charts = 0;
  for (const el of document.querySelectorAll(".js-plotly-plot")) {
    if (!visible(el) || !el._fullLayout) continue;
    charts += 1;
    const box = el.getBoundingClientRect();
    const texts = [];
    for (const t of el.querySelectorAll("svg text")) {
      if (t.closest(".hoverlayer, .modebar, .scrollbox > .scrollbar")) continue;
      const s = (t.textContent || "").trim();
      if (!s || !visible(t)) continue;
      // A legend that scrolls hides its overflow behind a clip path: only the part in view counts.
      const scroll = t.closest(".legend");
      const clip = scroll && scroll.querySelector(".bg");
      const r = t.getBoundingClientRect();
      if (clip && !overlap(r, clip.getBoundingClientRect())) continue;
      texts.push({ s, r });
    }
    const where = name(el);
    for (let i = 0; i < texts.length; i++) {
      if (outside(texts[i].r, box)) problems.push({ kind: "cut", where, a: texts[i].s, b: "" });
      for (let j = i + 1; j < texts.length; j++)
        if (overlap(texts[i].r, texts[j].r)) problems.push({ kind: "overlap", where, a: texts[i].s, b: texts[j].s });
    }
  }

  const SELECT = [
    '[data-testid="stMetric"] *',
    '[data-testid="stCaptionContainer"] *',
    'button *',
    '[data-testid="stWidgetLabel"] *',
    '[data-testid="stExpander"] summary *',
    '[data-testid="stTab"] *',
  ].join(",");
  for (const e of document.querySelectorAll(SELECT)) {
    const s = getComputedStyle(e);
    if (s.textOverflow !== "ellipsis" || e.scrollWidth <= e.clientWidth + SLACK || !visible(e)) continue;
    {
      const owner = e.closest('[data-testid="stMetric"], button, [data-testid="stCaptionContainer"]') || e;
      problems.push({ kind: "ellipsis", where: owner.getAttribute("data-testid") || owner.tagName, a: e.innerText, b: "" });
    }
  }
  // A number wider than its metric would run into the next one.
  for (const e of document.querySelectorAll('[data-testid="stMetricValue"]')) {
    if (visible(e) && e.scrollWidth > e.clientWidth + SLACK)
      problems.push({ kind: "cut", where: "stMetricValue", a: e.innerText, b: "" });
  }
  return { charts, problems };
};
