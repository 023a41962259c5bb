// SPDX-License-Identifier: GPL-2.0
// ptscope serve: the page. It listens to /events (Server-Sent Events), loads
// /state on each update, draws the server's map picture with the changed
// cells outlined, and on a click or a key asks the server for the tool's
// maps, walk and vtop of the place. Everything it loads comes from the
// server that sent it, with the token of the page's own URL.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

let state = null;       // the last /state
let prev = null;        // the one before
let loading = false, again = false;
let sel = null;         // { vma: index, cell: number or null }
let mapsCache = null;   // { seq, rows }
let zoom = 1;           // the map's width: 1 = the panel's

function url(path, args = {}) {
  const q = new URLSearchParams({ token: TOKEN, ...args });
  return `${path}?${q}`;
}

async function getJSON(path, args) {
  const r = await fetch(url(path, args), { cache: "no-store" });
  const text = await r.text();
  if (!r.ok)
    throw new Error(text.trim() || `${r.status}`);
  return JSON.parse(text);
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const k of kids)
    e.append(k);
  return e;
}

function svgEl(tag, attrs = {}) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs))
    e.setAttribute(k, v);
  return e;
}

// --- numbers and words -------------------------------------------------------

const hex = (n) => "0x" + n.toString(16);
const big = (s) => BigInt(s);

function size(bytes) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = Number(bytes), i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return (Number.isInteger(v) ? v : v.toFixed(1)) + " " + units[i];
}

function vmaName(v) {
  return v.name || "[anon]";
}

function shortName(v) {
  const n = vmaName(v);
  return n.startsWith("/") ? n.slice(n.lastIndexOf("/") + 1) : n;
}

const LEVEL_WORDS = {
  PGD: "Page Global Directory, the top table (CR3 points to it)",
  P4D: "fourth-level directory (5-level paging only)",
  PUD: "Page Upper Directory",
  PMD: "Page Middle Directory",
  PTE: "page table: one entry per 4 KiB page",
};

// What one entry of a walk run says, in the words of the tour.
function explainRun(r) {
  const each = size(Number(r.size) / Math.max(1, r.count));
  const n = r.count === 1 ? "one entry" : `${r.count} entries`;
  switch (r.kind) {
  case "table":
    return `${n}, each covering ${each}: each points to a table of the level below`;
  case "page":
    if (r.level === "PTE")
      return `${n}, each mapping a 4 KiB page` + (r.page ? ` (${r.page})` : "");
    return `${n}, each mapping a ${each} huge page directly: no table below`;
  case "swap":
    return `${n}, not present: the ${each} page is in swap (${r.swap || "?"}); an access faults it back`;
  case "none":
    return `${n}: empty, nothing mapped in these ${each}`;
  default:
    return `${n}, not present: ${r.kind}`;
  }
}

// --- the map -------------------------------------------------------------------

function vmaRows(v) {
  return Math.ceil(v.cells / state.geom.cells);
}

function vmaHeight(v) {
  return Math.max(vmaRows(v) * state.geom.cell_px, 16);
}

function cellRect(vi, c) {
  const g = state.geom, v = state.vmas[vi];
  return {
    x: g.x_bar + (c % g.cells) * g.cell_px,
    y: v.y + Math.floor(c / g.cells) * g.cell_px,
    w: g.cell_px, h: g.cell_px,
  };
}

function cellAddr(vi, c) {
  return big(state.vmas[vi].start) + BigInt(c) * BigInt(state.geom.cell_bytes);
}

// The place in the picture at SVG point (x, y): { vma, cell } or null.
function placeAt(x, y) {
  const g = state.geom;
  for (let i = 0; i < state.vmas.length; i++) {
    const v = state.vmas[i];
    if (y < v.y || y >= v.y + vmaHeight(v))
      continue;
    if (x >= g.x_bar && x < g.x_bar + g.cells * g.cell_px) {
      const c = Math.floor((y - v.y) / g.cell_px) * g.cells + Math.floor((x - g.x_bar) / g.cell_px);
      if (c < v.cells)
        return { vma: i, cell: c };
    }
    return { vma: i, cell: null };
  }
  return null;
}

function drawMap() {
  const box = $("map");
  if (!state.svg) {
    box.textContent = state.vmas.length ? "the picture is too large to send" : "no VMA";
    return;
  }
  // The server's own SVG (map.c, the renderer of `ptscope map --svg`).
  const doc = new DOMParser().parseFromString(state.svg, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  svg.classList.add("map");
  svg.removeAttribute("width");
  svg.removeAttribute("height");

  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `map of ${state.vmas.length} VMAs`);
  const hl = svgEl("g", { id: "highlights" });
  // One outline around each run of changed cells in a row: the cells'
  // colours stay visible inside it.
  const runs = [];
  for (const [vi, c] of state.changed) {
    const last = runs[runs.length - 1];
    if (vi >= state.vmas.length)
      continue;
    if (last && last.vi === vi && last.c + last.n === c && c % state.geom.cells !== 0)
      last.n++;
    else
      runs.push({ vi, c, n: 1 });
  }
  for (const { vi, c, n } of runs) {
    const r = cellRect(vi, c), w = n * r.w;
    hl.append(svgEl("rect", { class: "hl-changed", x: r.x - 1, y: r.y - 1, width: w + 2, height: r.h + 2 }));
    hl.append(svgEl("rect", { class: "hl-changed-inner", x: r.x + 0.5, y: r.y + 0.5, width: w - 1, height: r.h - 1 }));
  }
  for (const vi of state.new_vmas) {
    const v = state.vmas[vi], g = state.geom;
    hl.append(svgEl("rect", { class: "hl-new-vma", x: g.x_bar - 4, y: v.y - 3,
                              width: g.cells * g.cell_px + 8, height: vmaHeight(v) + 6 }));
  }
  svg.append(hl, svgEl("g", { id: "selection" }));
  svg.addEventListener("click", (ev) => {
    const pt = svg.createSVGPoint();
    pt.x = ev.clientX;
    pt.y = ev.clientY;
    const p = pt.matrixTransform(svg.getScreenCTM().inverse());
    const place = placeAt(p.x, p.y);
    if (place)
      select(place.vma, place.cell);
  });
  svg.style.width = `${zoom * 100}%`;
  box.replaceChildren(svg);
  // The page has its own title and a larger legend: show the VMAs only,
  // from the addresses on the left to the end of the longest label.
  const g = state.geom, top = state.vmas.length ? state.vmas[0].y - 6 : 0;
  let right = g.width;
  for (const t of svg.querySelectorAll(":scope > g > text"))
    right = Math.max(right === g.width ? 0 : right, t.getBBox().x + t.getBBox().width);
  right = Math.min(g.width, Math.max(right, g.x_label) + 8);
  svg.setAttribute("viewBox", `90 ${top} ${right - 90} ${g.height - top}`);
  drawSelection();
}

function drawSelection() {
  const g = document.getElementById("selection");
  if (!g || !sel)
    return;
  g.replaceChildren();
  const v = state.vmas[sel.vma], geom = state.geom;
  if (sel.cell === null) {
    g.append(svgEl("rect", { class: "hl-selected", x: geom.x_bar - 6, y: v.y - 5,
                             width: geom.cells * geom.cell_px + 12, height: vmaHeight(v) + 10 }));
  } else {
    const r = cellRect(sel.vma, sel.cell);
    g.append(svgEl("rect", { class: "hl-selected", x: r.x - 3, y: r.y - 3, width: r.w + 6, height: r.h + 6 }));
  }
  for (const tr of document.querySelectorAll("#vmas tbody tr"))
    tr.setAttribute("aria-selected", String(Number(tr.dataset.vma) === sel.vma));
}

function drawLegend() {
  const ul = $("legend");
  if (ul.childElementCount)
    return;
  for (const c of state.classes) {
    const sw = el("span", { class: "swatch" });
    sw.style.background = c.color;
    ul.append(el("li", {}, sw, c.label));
  }
  ul.append(el("li", {}, el("span", { class: "swatch hugeoutline" }), "a huge page (outline)"));
  ul.append(el("li", {}, el("span", { class: "swatch changed" }), "changed since the last update"));
  ul.append(el("li", {}, el("span", { class: "swatch selected" }), "selected"));
}

// What changed, in words: resident, swapped and huge bytes per VMA.
function describeChanges() {
  const p = $("changes");
  if (!prev || prev.pid !== state.pid) {
    p.textContent = "";
    return;
  }
  const before = new Map(prev.vmas.map((v) => [v.start, v]));
  const words = [];
  for (const v of state.vmas) {
    const b = before.get(v.start);
    if (!b) {
      words.push(`new VMA ${vmaName(v)} (${size(big(v.end) - big(v.start))})`);
      continue;
    }
    before.delete(v.start);
    if (b.end !== v.end)
      words.push(`${vmaName(v)} ${big(v.end) > big(b.end) ? "grew" : "shrank"} to ${size(big(v.end) - big(v.start))}`);
    for (const [k, what] of [["rss", "resident"], ["swap", "swapped"], ["huge", "in huge pages"]]) {
      const d = v[k] - b[k];
      if (d)
        words.push(`${d > 0 ? "+" : "\u2212"}${size(Math.abs(d))} ${what} in ${shortName(v)}`);
    }
  }
  for (const v of before.values())
    words.push(`VMA gone: ${vmaName(v)}`);
  p.textContent = state.nchanged || words.length ?
    `${state.nchanged} cell${state.nchanged === 1 ? "" : "s"} changed. ${words.slice(0, 6).join("; ")}` : "";
}

// --- the VMA list and huge-page coverage -------------------------------------

function drawVmas() {
  const tb = document.querySelector("#vmas tbody");
  tb.replaceChildren();
  state.vmas.forEach((v, i) => {
    const sz = big(v.end) - big(v.start);
    const share = v.rss ? v.huge / v.rss : 0;
    const bar = el("span", { class: "bar", title: `${Math.round(share * 100)}% of the resident bytes` });
    const fill = el("span");
    fill.style.width = `${Math.round(share * 100)}%`;
    bar.append(fill);
    const tr = el("tr", { tabindex: "0", "data-vma": String(i), "aria-selected": "false" },
      el("td", { class: "name" }, el("span", { class: "mono", text: v.perms + " " }), vmaName(v)),
      el("td", { class: "n", text: size(sz) }),
      el("td", { class: "n", text: size(v.rss) }),
      el("td", { class: "n" }, bar, " " + (v.rss ? `${Math.round(share * 100)}%` : "\u2013")));
    tr.addEventListener("click", () => select(i, null));
    tr.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        select(i, null);
      }
    });
    tb.append(tr);
  });
}

// --- details: maps row, walk, vtop --------------------------------------------

function selectedRange() {
  const v = state.vmas[sel.vma];
  if (sel.cell === null)
    return [big(v.start), big(v.end)];
  const a = cellAddr(sel.vma, sel.cell);
  let e = a + BigInt(state.geom.cell_bytes);
  if (e > big(v.end))
    e = big(v.end);
  return [a, e];
}

async function select(vi, cell) {
  if (!state || vi < 0 || vi >= state.vmas.length)
    return;
  sel = { vma: vi, cell };
  drawSelection();
  await showDetails();
}

async function showDetails() {
  if (!sel)
    return;
  $("hint").hidden = true;
  const v = state.vmas[sel.vma];
  const [a, e] = selectedRange();
  const seq = state.seq;
  $("details-title").textContent = sel.cell === null ?
    `VMA ${vmaName(v)}` : `Cell ${sel.cell} of ${shortName(v)}: ${hex(a)}\u2013${hex(e)}`;
  await Promise.all([showMapsRow(v, seq), showHuge(v), showVtop(a), showWalk(a, e)]);
}

// Live targets: can THP back this VMA, and what its mapping costs the TLB.
async function showHuge(v) {
  const box = $("huge");
  if (state.mode === "snapshot") {
    box.replaceChildren();
    return;
  }
  const head = el("h3", { text: "Huge pages here (ptscope huge)" });
  try {
    const row = (await getJSON("huge")).huge.find((r) => r.start === v.start);
    if (!row)
      throw new Error("the VMA is gone");
    const words = [`THP: ${row.thp}` + (row.why ? ` (ruled out by: ${row.why})` : ""),
      `${size(row.huge)} of ${size(row.mapped)} mapped by huge pages (${row.coverage ?? 0}%)`,
      `${row.leaves} leaf entries, so ${row.leaves} TLB entries to cover it all` +
        (row.leaves ? `, each covering ${size(row.reach)} on average` : "")];
    if (row.mthp)
      words.push(`large folios mapped by PTEs: ${row.mthp}`);
    box.replaceChildren(head, el("ul", { id: "huge-list" }, ...words.map((w) => el("li", { text: w }))));
  } catch (err) {
    box.replaceChildren(head, el("p", { text: err.message }));
  }
}

async function showMapsRow(v, seq) {
  const box = $("maps-row");
  try {
    if (!mapsCache || mapsCache.seq !== seq)
      mapsCache = { seq, rows: (await getJSON("maps")).maps };
    const row = mapsCache.rows.find((r) => r.start === v.start);
    if (!row)
      throw new Error("the VMA is gone");
    const t = el("table", { id: "maps-table" });
    for (const [k, val] of Object.entries(row)) {
      const shown = typeof val === "number" && ["size", "rss", "huge", "swap", "dirty", "anon", "file",
        "shmem", "pt", "pagesize"].includes(k) ? `${size(val)} (${val})` : String(val ?? "");
      t.append(el("tr", {}, el("th", { scope: "row", text: k }), el("td", { class: "mono", text: shown })));
    }
    box.replaceChildren(el("h3", { text: "Its row of ptscope maps" }), t);
  } catch (err) {
    box.replaceChildren(el("h3", { text: "Its row of ptscope maps" }), el("p", { text: err.message }));
  }
}

async function showVtop(addr) {
  const box = $("vtop");
  const head = el("h3", { text: `Translation of ${hex(addr)} (ptscope vtop)` });
  try {
    const rows = (await getJSON("vtop", { addr: hex(addr) })).vtop;
    const levels = rows.filter((r) => r.step !== "page");
    const intro = el("p", { class: "explain", text:
      "The CPU cuts the address into one 9-bit index per level and an offset; it reads one entry per " +
      "level, each pointing to the next table: " +
      levels.map((r) => `${r.step}[${r.index}]`).join(" \u2192 ") + "." });
    const t = el("table", { id: "vtop-table" },
      el("tr", {}, ...["level[index]", "entry, flags", "what it says"].map((h) => el("th", { text: h }))));
    for (const r of rows)
      t.append(el("tr", { "data-step": r.step },
        el("td", {}, el("strong", { text: r.step + (r.index !== null && r.index !== undefined && r.step !== "page" ? `[${r.index}]` : "") }),
           el("br"), el("span", { class: "explain", text: r.addr_bits ? `address bits ${r.addr_bits}` : "" })),
        el("td", { class: "mono" }, r.entry ?? "", el("br"), r.flags ?? ""),
        el("td", {}, r.meaning ?? "", el("br"),
           el("span", { class: "explain", text: LEVEL_WORDS[r.step] || "" }))));
    box.replaceChildren(head, intro, t);
  } catch (err) {
    box.replaceChildren(head, el("p", { text: err.message }));
  }
}

const WALK_NODES_MAX = 400;

async function showWalk(a, e) {
  const box = $("walk");
  const head = el("h3", { text: `Page-table tree of ${hex(a)}\u2013${hex(e)} (ptscope walk)` });
  try {
    const roots = (await getJSON("walk", { start: hex(a), end: hex(e) })).walk || [];
    let shown = 0;
    const list = (nodes) => {
      const ul = el("ul", { role: "group" });
      for (const r of nodes) {
        if (shown++ >= WALK_NODES_MAX) {
          ul.append(el("li", { class: "more", text: "\u2026 (more: see ptscope walk)" }));
          break;
        }
        const li = el("li", { role: "treeitem", "data-level": r.level, "data-kind": r.kind },
          el("span", { class: "lvl", title: LEVEL_WORDS[r.level] || "", text: r.level }), " ",
          el("span", { class: "mono", text: r.range }), " ",
          el("span", { class: "why", text: explainRun(r) }));
        if (r.children && r.children.length)
          li.append(list(r.children));
        ul.append(li);
      }
      return ul;
    };
    const tree = list(roots);
    tree.setAttribute("role", "tree");
    tree.id = "walk-tree";
    box.replaceChildren(head, el("p", { class: "explain", text:
      "Each level's table holds 512 entries; an entry covers 512 times what an entry of the level below " +
      "covers. A leaf above PTE is a huge page." }), tree);
    if (!roots.length)
      box.append(el("p", { text: "no page-table entry here: nothing was ever touched" }));
  } catch (err) {
    box.replaceChildren(head, el("p", { text: err.message }));
  }
}

// --- charts ----------------------------------------------------------------------

function chart(id, series, fmt, note) {
  const svg = $(id);
  const W = 480, H = 150, L = 70, R = 10, T = 12, B = 26;
  svg.replaceChildren();
  const hist = state.history;
  let max = 0;
  for (const s of series)
    for (const h of hist)
      max = Math.max(max, h[s.key]);
  max = max > 0 ? max * 1.1 : 1;
  const t0 = hist.length ? hist[0].t : 0, t1 = hist.length ? hist[hist.length - 1].t : 1;
  const span = Math.max(t1 - t0, 1);
  const X = (t) => L + (W - L - R) * (t - t0) / span;
  const Y = (v) => H - B - (H - T - B) * v / max;
  svg.append(svgEl("line", { class: "grid", x1: L, y1: Y(max / 2), x2: W - R, y2: Y(max / 2) }));
  svg.append(svgEl("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  svg.append(svgEl("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
  const lab = (x, y, text, anchor = "end") => {
    const t = svgEl("text", { x, y, "text-anchor": anchor });
    t.textContent = text;
    svg.append(t);
  };
  lab(L - 6, T + 12, fmt(max / 1.1));
  lab(L - 6, H - B, "0");
  lab(W - R, H - 6, hist.length ? `last ${Math.round(span)} s` : "", "end");
  if (note) {
    lab(L + 10, T + 40, note, "start");
    return;
  }
  for (const s of series) {
    if (hist.length < 2)
      break;
    svg.append(svgEl("polyline", { class: s.cls,
      points: hist.map((h) => `${X(h.t).toFixed(1)},${Y(h[s.key]).toFixed(1)}`).join(" ") }));
  }
  const last = hist[hist.length - 1];
  if (last)
    lab(L + 8, T + 14, series.map((s) => `${s.name} ${fmt(last[s.key])}`).join(", "), "start");
}

function drawCharts() {
  const rate = (v) => (v >= 100 ? Math.round(v) : v.toFixed(1)) + "/s";
  const none = state.counters || "";
  $("nocounters").hidden = !none;
  $("nocounters").textContent = none;
  chart("chart-faults", [{ key: "minor", cls: "s-minor", name: "minor" },
                         { key: "major", cls: "s-major", name: "major" }], rate, none);
  chart("chart-tlb", [{ key: "tlb", cls: "s-tlb", name: "flushes" }], rate, none);
  chart("chart-rss", [{ key: "rss", cls: "s-rss", name: "resident" }], size, "");
}

// --- updates -----------------------------------------------------------------------

function drawHeader() {
  $("target").textContent = state.pid ?
    `process ${state.pid} (${state.comm})` : (state.comm || "no process yet");
  document.title = `ptscope live: ${state.pid} ${state.comm}`;
  const cap = $("caption");
  cap.hidden = !state.caption;
  cap.textContent = state.caption;
  const st = $("status");
  st.className = "live";
  st.textContent = `${state.mode === "snapshot" ? "snapshot file" : "live"}, taken ${state.taken}; ` +
    `${state.levels}-level paging; update ${state.seq}`;
}

async function load() {
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    const s = await getJSON("state");
    if (state && s.pid !== state.pid)
      sel = null;
    prev = state;
    state = s;
    drawHeader();
    drawLegend();
    drawMap();
    describeChanges();
    drawVmas();
    drawCharts();
    if (sel && sel.vma < state.vmas.length)
      showDetails();
    else
      sel = null;
    document.body.dataset.seq = String(state.seq);
  } catch (err) {
    $("status").textContent = `cannot load the state: ${err.message}`;
  } finally {
    loading = false;
    if (again) {
      again = false;
      load();
    }
  }
}

function ended(why) {
  const b = $("banner");
  b.hidden = false;
  b.textContent = why;
  $("status").className = "ended";
  $("status").textContent = "stopped: the picture is the last one taken";
  document.body.dataset.ended = "1";
}

function listen() {
  const es = new EventSource(url("events"));
  es.addEventListener("update", () => load());
  es.addEventListener("end", (ev) => {
    const d = JSON.parse(ev.data);
    es.close();
    ended(d.why === "target" ? `${d.reason}: the server stopped.` : "The server stopped (Ctrl-C).");
  });
  es.addEventListener("error", () => {
    if (!document.body.dataset.ended)
      $("status").textContent = "connection lost: reconnecting\u2026";
  });
}

// --- keys ------------------------------------------------------------------------------

function moveCell(delta) {
  if (!state || !state.vmas.length)
    return;
  if (!sel)
    return select(0, 0);
  const v = state.vmas[sel.vma];
  let c = (sel.cell ?? 0) + delta;
  if (c < 0 && sel.vma > 0)
    return select(sel.vma - 1, state.vmas[sel.vma - 1].cells - 1);
  if (c >= v.cells && sel.vma + 1 < state.vmas.length)
    return select(sel.vma + 1, 0);
  c = Math.max(0, Math.min(v.cells - 1, c));
  return select(sel.vma, c);
}

function moveVma(delta) {
  if (!state || !state.vmas.length)
    return;
  const i = sel ? Math.max(0, Math.min(state.vmas.length - 1, sel.vma + delta)) : 0;
  return select(i, null);
}

function setZoom(z) {
  zoom = Math.max(1, Math.min(4, z));
  const svg = document.querySelector("#map svg.map");
  if (svg)
    svg.style.width = `${zoom * 100}%`;
}

function onMapKey(ev) {
  const cells = state ? state.geom.cells : 64;
  const keys = {
    ArrowLeft: () => moveCell(-1), ArrowRight: () => moveCell(1),
    ArrowUp: () => moveCell(-cells), ArrowDown: () => moveCell(cells),
    PageUp: () => moveVma(-1), PageDown: () => moveVma(1),
    Enter: () => (sel ? showDetails() : moveCell(0)),
    "+": () => setZoom(zoom * 1.5), "=": () => setZoom(zoom * 1.5), "-": () => setZoom(zoom / 1.5),
  };
  if (keys[ev.key]) {
    ev.preventDefault();
    keys[ev.key]();
  }
}

// The last update, for the console and the browser test.
window.ptscopeState = () => state;

document.addEventListener("DOMContentLoaded", () => {
  $("map").addEventListener("keydown", onMapKey);
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "?" && !$("help").open) {
      ev.preventDefault();
      $("help").showModal();
    }
  });
  $("help-close").addEventListener("click", () => $("help").close());
  load();
  listen();
});
