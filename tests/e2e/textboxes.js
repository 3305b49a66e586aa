// Text a reader cannot read: overlapping or clipped text in every Plotly chart; text cut with an ellipsis
// or wider than its box in metrics, captions and buttons; table cells wider than their column. Evaluated in
// the page; returns a list of problems ({kind, where, a, b}) for the test to print. Only what is on screen counts: charts and elements
// with no size (a collapsed expander, another tab) are skipped.
() => {
  const SLACK = 1; // px: boxes that touch are fine
  const problems = [];
  const canvas = document.createElement("canvas").getContext("2d");
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || r.right <= 0) return false; // a collapsed sidebar lies left of the page
    // A closed expander keeps its content's boxes but does not draw it.
    if (el.checkVisibility && !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
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
    '[data-testid="stMultiSelect"] *',
  ].join(",");
  for (const e of document.querySelectorAll(SELECT)) {
    const s = getComputedStyle(e);
    if (s.textOverflow !== "ellipsis" || e.scrollWidth <= e.clientWidth + SLACK || !visible(e)) continue;
    {
      const owner = e.closest('[data-testid="stMetric"], button, [data-testid="stCaptionContainer"]') || e;
      problems.push({ kind: "ellipsis", where: owner.getAttribute("data-testid") || owner.tagName, a: e.innerText, b: "" });
    }
  }
  // A number or label wider than its box runs into the next one or is hidden; one that ends in an ellipsis
  // was shortened by the page.
  const CUT = [
    '[data-testid="stMetricValue"]', '[data-testid="stMetricLabel"]', '[data-testid="stMetricLabel"] p',
    'button [data-testid="stMarkdownContainer"] p', 'button p',
  ].join(",");
  for (const e of document.querySelectorAll(CUT)) {
    if (!visible(e)) continue;
    const owner = e.closest('[data-testid="stMetric"], button');
    const where = owner.getAttribute("data-testid") || owner.tagName;
    if (e.scrollWidth > e.clientWidth + SLACK) problems.push({ kind: "cut", where, a: e.innerText, b: "" });
    else if (/(\u2026|\.\.\.)$/.test(e.innerText.trim())) problems.push({ kind: "ellipsis", where, a: e.innerText, b: "" });
  }

  // A widget's value as its box shows it (a select box's choice, a number, a text): a text wider than the room
  // inside the box is cut off. Measured in the box's own font, so presentation mode's larger type counts.
  const FIELDS = ["stSelectbox", "stNumberInput", "stTextInput", "stMultiSelect", "stDateInput", "stTimeInput"];
  for (const e of document.querySelectorAll(FIELDS.map((t) => `[data-testid="${t}"] input`).join(","))) {
    const text = (e.value || e.placeholder || "").trim();
    if (!text || !visible(e)) continue;
    const s = getComputedStyle(e);
    canvas.font = s.font;
    const room = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    if (canvas.measureText(text).width > room + SLACK) {
      const owner = e.closest(FIELDS.map((t) => `[data-testid="${t}"]`).join(","));
      const label = owner.querySelector('[data-testid="stWidgetLabel"]');
      const where = `${owner.getAttribute("data-testid")} "${label ? label.innerText.trim() : e.getAttribute("aria-label") || ""}"`;
      problems.push({ kind: "cut", where, a: text, b: "" });
    }
  }

  // A row of options (segmented control, pills) wider than its place scrolls sideways: the last ones are hidden.
  for (const e of document.querySelectorAll('[data-testid="stButtonGroup"] *')) {
    if (getComputedStyle(e).overflowX === "visible" || e.scrollWidth <= e.clientWidth + SLACK || !visible(e)) continue;
    const hidden = Array.from(e.querySelectorAll("button")).filter((b) => b.getBoundingClientRect().right > e.getBoundingClientRect().right + SLACK);
    problems.push({ kind: "cut", where: "stButtonGroup", a: hidden.map((b) => b.innerText.trim()).join(", "), b: "" });
  }

  // Table cells: a dataframe is drawn on a canvas, so each cell's text as drawn (the grid's `displayData`: a
  // number rounded, a share in %) is measured in the grid's font against its column's width. Both come from the
  // grid's props (React's copy: the canvas holds no other). A table that cannot be measured is a problem too.
  const grid = (el) => {
    const k = Object.keys(el).find((n) => n.startsWith("__reactFiber"));
    for (let f = k && el[k]; f; f = f.return) {
      const p = f.memoizedProps;
      if (p && Array.isArray(p.columns) && typeof p.getCellContent === "function" && typeof p.rows === "number")
        return p;
    }
    return null;
  };
  for (const df of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    const drawn = df.querySelector("canvas");
    const p = drawn && visible(df) && grid(drawn);
    if (!drawn || !visible(df)) continue;
    if (!p || !p.columns.every((c) => typeof c.width === "number")) {
      problems.push({ kind: "cut", where: "stDataFrame", a: "cannot read the table's columns", b: "" });
      continue;
    }
    const s = getComputedStyle(drawn);
    const pad = parseFloat(s.getPropertyValue("--gdg-cell-horizontal-padding")) || 8;
    const family = s.getPropertyValue("--gdg-font-family").trim();
    const fits = (text, style, column) => {
      canvas.font = `${s.getPropertyValue(style).trim()} ${family}`;
      return canvas.measureText(text).width + 2 * pad <= column.width + SLACK;
    };
    p.columns.forEach((column, c) => {
      const where = `stDataFrame column "${column.title}"`;
      if (!fits(String(column.title), "--gdg-header-font-style", column))
        problems.push({ kind: "cut", where, a: column.title, b: "" });
      for (let r = 0; r < Math.min(p.rows, 500); r++) {
        const cell = p.getCellContent([c, r]);
        const text = String(cell.displayData ?? cell.data ?? "").trim();
        if (text && !fits(text, "--gdg-base-font-style", column)) problems.push({ kind: "cut", where, a: text, b: "" });
      }
    });
  }
  return { charts, problems };
};
