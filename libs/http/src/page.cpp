//
// Copyright (c) 2026 The Spindle authors
// Distributed under the Boost Software License, Version 1.0.
//

// The live system page. Everything is here, compiled in: the page must
// work on a machine without Internet access, and a service should not
// load code from a CDN into its operators' browsers.

#include <spindle/http/page.hpp>

namespace spindle::http {

namespace {

constexpr std::string_view html = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Spindle</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/spindle.css">
<script src="/static/spindle.js" defer></script>
</head>
<body data-polls="0">
<header>
  <h1><span class="logo">&#x2699;</span> <span id="system-name">Spindle</span></h1>
  <span id="health" class="badge">health &hellip;</span>
  <span id="conn" class="conn">connecting&hellip;</span>
</header>
<main>
  <section class="figures" id="figures">
    <div class="figure"><span class="value" id="fig-rate">&ndash;</span><span class="label">messages/s</span></div>
    <div class="figure"><span class="value" id="fig-actors">&ndash;</span><span class="label">actors</span></div>
    <div class="figure"><span class="value" id="fig-fibers">&ndash;</span><span class="label">fibers</span></div>
    <div class="figure"><span class="value" id="fig-workers">&ndash;</span><span class="label">workers</span></div>
    <div class="figure"><span class="value" id="fig-restarts">&ndash;</span><span class="label">restarts</span></div>
    <div class="figure"><span class="value" id="fig-dead">&ndash;</span><span class="label">dead letters</span></div>
    <div class="figure"><span class="value" id="fig-depth">&ndash;</span><span class="label">deepest mailbox</span></div>
    <div class="figure"><span class="value" id="fig-memory">&ndash;</span><span class="label">memory MiB</span></div>
  </section>
  <div class="columns">
    <div class="primary">
      <section class="panel tree-panel">
        <h2>Supervision tree</h2>
        <div class="tree-tools">
          <input type="search" id="tree-filter" placeholder="filter: name or type" aria-label="filter the actors by name or type">
          <select id="tree-sort" aria-label="order of the actors">
            <option value="start">start order</option>
            <option value="name">by name</option>
            <option value="mailbox">by mailbox depth</option>
            <option value="restarts">by restarts</option>
          </select>
          <label><input type="checkbox" id="tree-internal"> internal actors</label>
          <span id="tree-hidden" class="empty"></span>
        </div>
        <div id="tree" class="tree"><p class="empty">waiting for the first snapshot&hellip;</p></div>
      </section>
      <section class="panel drill" id="drill" hidden>
        <h2><span id="drill-title">Actor</span> <button type="button" id="drill-close" aria-label="close">&times;</button></h2>
        <div id="drill-body"></div>
      </section>
      <div id="sections" class="sections"></div>
    </div>
    <div class="side">
      <section class="panel">
        <h2>Workers</h2>
        <table id="workers"><thead><tr><th>worker</th><th>messages/s</th><th>messages</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="panel">
        <h2>Messages by type</h2>
        <table id="message-types"><thead><tr><th>actor</th><th>message</th><th>messages/s</th><th>messages</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="panel">
        <h2>Executors</h2>
        <table id="executors"><thead><tr><th>executor</th><th>running</th><th>queued</th><th>completed</th><th>failed</th><th>rejected</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="panel">
        <h2>Circuit breakers</h2>
        <table id="breakers"><thead><tr><th>breaker</th><th>state</th><th>ok</th><th>failed</th><th>rejected</th></tr></thead><tbody></tbody></table>
      </section>
      <section class="panel">
        <h2>Health</h2>
        <ul id="checks" class="checks"></ul>
      </section>
      <section class="panel">
        <h2>Recent events</h2>
        <ol id="events" class="events"></ol>
      </section>
    </div>
  </div>
</main>
<footer>snapshot <span id="snapshot">&ndash;</span> at <span id="updated">&ndash;</span> &middot; refreshed every <span id="interval"></span> ms &middot; <a href="/health">/health</a> &middot; <a href="/metrics">/metrics</a> &middot; <a href="/api/system">/api/system</a></footer>
</body>
</html>
)HTML";

constexpr std::string_view css = R"CSS(:root {
  --bg: #f6f7f9; --panel: #ffffff; --ink: #1d2330; --muted: #6b7385; --line: #e2e5ec;
  --pass: #1f8a4c; --warn: #b7791f; --fail: #c53030; --accent: #2b6cb0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 1rem; padding: .8rem 1.2rem; background: #1d2330; color: #fff; }
header h1 { font-size: 1.2rem; margin: 0; font-weight: 600; }
.logo { color: #90cdf4; }
.conn { margin-left: auto; color: #a0aec0; font-size: .85rem; }
.conn.down { color: #feb2b2; }
main { padding: 1rem 1.2rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: .8rem; margin-bottom: 1rem; }
.figure { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .7rem .9rem; }
.figure .value { display: block; font-size: 1.5rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .label { color: var(--muted); font-size: .8rem; }
.figure svg.spark { display: block; width: 100%; height: 24px; margin-top: .3rem; overflow: visible; }
.spark path { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.spark line { stroke: var(--line); stroke-width: 1; vector-effect: non-scaling-stroke; }
.columns { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1rem; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
.panel h2 { font-size: .95rem; margin: 0 0 .6rem; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: .25rem .4rem; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
th { color: var(--muted); font-weight: 500; font-size: .8rem; }
.tree-tools { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: center; margin-bottom: .5rem; font-size: .85rem; }
.tree-tools input[type=search] { flex: 1 1 10rem; max-width: 16rem; padding: .2rem .4rem; border: 1px solid var(--line); border-radius: 4px; }
.tree-tools select { padding: .15rem .3rem; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); }
.node > .row .name { cursor: pointer; }
.node.selected > .row .name { text-decoration: underline; color: var(--accent); }
.drill h2 { display: flex; justify-content: space-between; align-items: center; }
.drill button { border: none; background: none; font-size: 1.1rem; cursor: pointer; color: var(--muted); }
.drill .spark-box { max-width: 22rem; }
.drill svg.spark { display: block; width: 100%; height: 32px; overflow: visible; }
.drill .failure { color: var(--fail); white-space: pre-wrap; overflow-wrap: anywhere; margin: .2rem 0; }
.tree ul { list-style: none; margin: 0; padding-left: 1.2rem; border-left: 1px dashed var(--line); }
.tree > ul { padding-left: 0; border-left: none; }
.node { margin: .25rem 0; }
.node > .row { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; }
.kind { font-size: .7rem; text-transform: uppercase; letter-spacing: .05em; color: #fff; background: var(--muted); border-radius: 3px; padding: 0 .3rem; }
.type-root > .row .kind { background: #1d2330; }
.type-supervisor > .row .kind { background: var(--accent); }
.type-agent > .row .kind { background: #805ad5; }
.name { font-weight: 600; }
.atype { color: var(--muted); font-family: ui-monospace, monospace; font-size: .8rem; }
.badge { display: inline-block; border-radius: 10px; padding: 0 .5rem; font-size: .75rem; background: #edf2f7; color: var(--ink); }
.badge.pass, .badge.running, .badge.closed { background: #c6f6d5; color: #22543d; }
.badge.warn, .badge.starting, .badge.restarting, .badge.half_open { background: #fefcbf; color: #744210; }
.badge.fail, .badge.stopping, .badge.stopped, .badge.open { background: #fed7d7; color: #822727; }
.badge.busy { background: #feebc8; color: #7b341e; }
.badge.agent { background: #e9d8fd; color: #44337a; }
.badge.all { background: #bee3f8; color: #2a4365; }
.strategy { color: var(--muted); font-size: .75rem; font-style: italic; }
.empty { color: var(--muted); }
.checks, .events { margin: 0; padding-left: 1.1rem; }
.checks li, .events li { margin: .2rem 0; }
.events .when { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .3rem; }
td.num { font-variant-numeric: tabular-nums; }
td.text, th.text { text-align: left; }
td.text { max-width: 9rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.table-wrap { overflow-x: auto; }
.section-table { font-size: .85rem; }
.section-table th, .section-table td { padding: .25rem .3rem; }
td.bad { color: var(--fail); font-weight: 600; }
.panel h3 { font-size: .85rem; margin: .8rem 0 .3rem; font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: 0 0 .4rem; }
.fact .k { color: var(--muted); margin-right: .3rem; }
.fact .v { font-weight: 600; font-variant-numeric: tabular-nums; }
.section-error { color: var(--fail); margin: 0; }
code.json { font-family: ui-monospace, monospace; font-size: .8rem; color: var(--muted); }
footer { color: var(--muted); font-size: .8rem; padding: 0 1.2rem 1rem; }
footer a { color: var(--accent); }
.wf-trace { border-top: 1px solid var(--line); padding: .3rem 0; }
.wf-trace > summary { cursor: pointer; display: flex; flex-wrap: wrap; gap: .2rem .8rem; align-items: baseline; }
.wf-trace > summary .name { font-family: ui-monospace, monospace; font-size: .85rem; }
.wf-meta { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
.wf-meta.bad { color: var(--fail); font-weight: 600; }
.wf-row { display: grid; grid-template-columns: minmax(8rem, 38%) 1fr 4.5rem; gap: .4rem; align-items: center; font-size: .8rem; margin: .15rem 0; }
.wf-label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: ui-monospace, monospace; }
.wf-track { position: relative; height: .8rem; background: #f1f3f7; border-radius: 2px; }
.wf-bar { position: absolute; top: 0; bottom: 0; min-width: 2px; border-radius: 2px; background: var(--accent); }
.wf-bar.server { background: #2f855a; }
.wf-bar.client, .wf-bar.producer { background: #805ad5; }
.wf-row.error .wf-bar { background: var(--fail); }
.wf-row.error .wf-label { color: var(--fail); }
.wf-ms { text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); }
)CSS";

constexpr std::string_view js = R"JS('use strict';
// The live page: polls /api/system and renders it. No framework, no CDN.
(function () {
  const params = new URLSearchParams(window.location.search);
  const interval = Math.max(100, parseInt(params.get('interval') || '1000', 10) || 1000);
  const $ = (id) => document.getElementById(id);
  let previous = null;
  let polls = 0;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmt(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '\u2013';
    if (Math.abs(n) >= 1e9) return (n / 1e9).toFixed(1) + 'G';
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n));
  }

  function shortType(t) {
    if (!t) return '';
    const i = t.lastIndexOf('::', t.indexOf('<') >= 0 ? t.indexOf('<') : t.length);
    return i >= 0 ? t.slice(i + 2) : t;
  }

  function label(node) {
    if (node.type === 'root') return 'root';
    return node.name || shortType(node.actor_type) || node.id;
  }

  function order(a, b) {
    const rank = (n) => (n.type === 'supervisor' ? 0 : 1);
    return rank(a) - rank(b) || label(a).localeCompare(label(b));
  }

  // The tree's controls: a text filter (an actor shows if its name or type
  // contains it, with its ancestors; a match shows its whole subtree), an
  // order for siblings, and the runtime's own actors (executor lanes, the
  // health probe: types in a `detail` namespace of spindle) hidden unless
  // asked for. ?filter=, ?sort= and ?internal=1 set them from the URL.
  const internalType = /^spindle::(?:\w+::)*detail::/;
  const isInternal = (n) => n.type !== 'root' && internalType.test(n.actor_type || '');
  const treeView = {
    filter: (params.get('filter') || '').toLowerCase(),
    sort: params.get('sort') || 'start',
    internal: params.get('internal') === '1',
  };
  const sorters = {
    name: (a, b) => label(a).localeCompare(label(b)),
    mailbox: (a, b) => (b.mailbox_depth || 0) - (a.mailbox_depth || 0) || label(a).localeCompare(label(b)),
    restarts: (a, b) => (b.restarts || 0) - (a.restarts || 0) || label(a).localeCompare(label(b)),
  };
  let lastTree = null;
  // The drill-down: one actor's figures, its mailbox depth over the polls
  // this page has seen, its type's messages, its events and last failure.
  // ?actor=NAME opens it on an actor by name (or id).
  let selected = null;
  let wantedActor = params.get('actor');
  let lastDoc = null;
  const depthHistory = new Map(); // actor id -> [[time ms, depth], ...]
  function recordDepths(doc) {
    const t = Date.parse(doc.system.time);
    const seen = new Set();
    const walk = (n, parent) => {
      if (n.type !== 'root' && n.id) {
        seen.add(n.id);
        const h = depthHistory.get(n.id) || [];
        h.push([t, n.mailbox_depth || 0]);
        if (h.length > 300) h.shift();
        depthHistory.set(n.id, h);
        if (wantedActor && (n.name === wantedActor || n.id === wantedActor)) { selected = n.id; wantedActor = null; }
      }
      for (const c of n.children || []) walk(c, n);
    };
    walk(doc.tree, null);
    for (const id of Array.from(depthHistory.keys())) if (!seen.has(id)) depthHistory.delete(id);
  }
  function findNode(n, id, parent) {
    if (n.id === id) return { node: n, parent };
    for (const c of n.children || []) {
      const r = findNode(c, id, n);
      if (r) return r;
    }
    return null;
  }
  function renderDrill() {
    const panel = $('drill');
    const found = selected && lastDoc ? findNode(lastDoc.tree, selected, null) : null;
    if (!found) { panel.hidden = true; return; }
    const { node, parent } = found;
    panel.hidden = false;
    panel.dataset.actor = label(node);
    $('drill-title').textContent = label(node);
    const body = el('div');
    const facts = body.appendChild(el('div', 'facts'));
    const fact = (k, v) => {
      const f = facts.appendChild(el('span', 'fact'));
      f.appendChild(el('span', 'k', k));
      f.appendChild(el('span', 'v', String(v)));
    };
    fact('type', node.actor_type || node.type);
    fact('id', node.id);
    fact('state', node.state);
    fact('supervisor', parent ? label(parent) : '\u2013');
    fact('mailbox', node.mailbox_depth);
    fact('restarts', node.restarts);
    if (node.children && node.children.length) fact('children', node.children.length);
    body.appendChild(el('h3', null, 'mailbox depth (this page\u2019s polls)'));
    const box = body.appendChild(el('div', 'spark-box'));
    const h = depthHistory.get(node.id) || [];
    sparkline(box, h.map((x) => x[0]), h.map((x) => x[1]), interval, 'mailbox depth');
    const mine = (lastDoc.message_types || []).filter((m) => m.actor_type === node.actor_type);
    body.appendChild(el('h3', null, 'messages handled by actors of its type'));
    body.appendChild(mine.length ? rowsTable(mine.map((m) => ({ message: shortType(m.message_type), messages: m.messages })))
                                 : el('p', 'empty', 'none'));
    const evs = (lastDoc.events || []).filter((e) => e.source === node.id);
    const failure = evs.slice().reverse().find((e) => /fail|escalat/.test(e.type) && e.detail);
    body.appendChild(el('h3', null, 'last failure'));
    body.appendChild(failure ? el('p', 'failure', failure.time.slice(11, 19) + ' ' + failure.detail) : el('p', 'empty', 'none seen'));
    body.appendChild(el('h3', null, 'its recent events'));
    if (evs.length) {
      const ol = body.appendChild(el('ol', 'events'));
      for (const e of evs.slice(-10).reverse()) {
        const li = ol.appendChild(el('li'));
        li.appendChild(el('span', 'when', e.time.slice(11, 19)));
        li.appendChild(el('span', 'badge', e.type));
        if (e.detail) li.appendChild(document.createTextNode(' ' + e.detail));
      }
    } else {
      body.appendChild(el('p', 'empty', 'none'));
    }
    $('drill-body').replaceChildren(body);
  }
  $('drill-close').addEventListener('click', () => { selected = null; renderDrill(); renderTree(); });
  function countAll(n) { return 1 + (n.children || []).reduce((k, c) => k + countAll(c), 0); }
  // A copy of `node` with what the controls hide left out, counting it.
  function prune(node, isRoot, shown, hidden) {
    if (!isRoot && !treeView.internal && isInternal(node)) {
      hidden.internal += countAll(node);
      return null;
    }
    const hit = !treeView.filter || (label(node) + ' ' + (node.actor_type || '')).toLowerCase().includes(treeView.filter);
    const kids = [];
    for (const c of node.children || []) {
      const k = prune(c, false, shown || (hit && !isRoot && treeView.filter !== ''), hidden);
      if (k) kids.push(k);
    }
    if (isRoot || shown || hit || kids.length) return Object.assign({}, node, { children: kids });
    hidden.filtered += 1;
    return null;
  }
  function renderTree() {
    if (!lastTree) return;
    const hidden = { internal: 0, filtered: 0 };
    const pruned = prune(lastTree, true, false, hidden);
    const tree = el('ul');
    tree.appendChild(renderNode(pruned, true));
    $('tree').replaceChildren(tree);
    $('tree').dataset.hiddenInternal = hidden.internal;
    $('tree').dataset.filteredOut = hidden.filtered;
    const notes = [];
    if (hidden.internal) notes.push(hidden.internal + ' internal hidden');
    if (hidden.filtered) notes.push(hidden.filtered + ' filtered out');
    $('tree-hidden').textContent = notes.join(', ');
  }
  $('tree-filter').value = treeView.filter;
  $('tree-sort').value = sorters[treeView.sort] ? treeView.sort : 'start';
  $('tree-internal').checked = treeView.internal;
  $('tree-filter').addEventListener('input', (e) => { treeView.filter = e.target.value.toLowerCase(); renderTree(); });
  $('tree-sort').addEventListener('change', (e) => { treeView.sort = e.target.value; renderTree(); });
  $('tree-internal').addEventListener('change', (e) => { treeView.internal = e.target.checked; renderTree(); });

  function renderNode(node, isRoot) {
    const li = el('li', 'node type-' + node.type + ' state-' + node.state);
    li.dataset.name = label(node);
    li.dataset.state = node.state;
    li.dataset.depth = node.mailbox_depth;
    li.dataset.restarts = node.restarts;
    const row = el('div', 'row');
    // "worker" is OTP's word for a child that is not a supervisor; the page
    // says "actor", so it is not taken for one of the worker threads
    row.appendChild(el('span', 'kind', node.type === 'worker' ? 'actor' : node.type));
    const name = row.appendChild(el('span', 'name', label(node)));
    if (!isRoot) {
      name.title = 'details of ' + label(node);
      name.addEventListener('click', () => { selected = node.id; renderDrill(); renderTree(); });
    }
    if (!isRoot && node.id === selected) li.classList.add('selected');
    if (node.actor_type && node.name) row.appendChild(el('span', 'atype', shortType(node.actor_type)));
    row.appendChild(el('span', 'badge ' + node.state, node.state));
    if (!isRoot) {
      row.appendChild(el('span', 'badge' + (node.mailbox_depth > 0 ? ' busy' : ''), 'mailbox ' + node.mailbox_depth));
      row.appendChild(el('span', 'badge' + (node.restarts > 0 ? ' warn' : ''), 'restarts ' + node.restarts));
    }
    if (node.strategy) row.appendChild(el('span', 'strategy', node.strategy));
    li.appendChild(row);
    const by = sorters[treeView.sort];
    const children = (node.children || []).slice().sort(by || (isRoot ? order : () => 0));
    if (children.length || node.omitted) {
      const ul = el('ul');
      for (const c of children) ul.appendChild(renderNode(c, false));
      if (node.omitted) ul.appendChild(el('li', 'empty', node.omitted + ' more not listed'));
      li.appendChild(ul);
    }
    return li;
  }

  function fillTable(id, rows) {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    for (const cells of rows) {
      const tr = el('tr');
      for (const c of cells) {
        if (c instanceof Node) {
          const td = el('td');
          td.appendChild(c);
          tr.appendChild(td);
        } else {
          tr.appendChild(el('td', null, c));
        }
      }
      body.appendChild(tr);
    }
    if (!rows.length) {
      const tr = el('tr');
      const td = el('td', 'empty', 'none');
      td.colSpan = $(id).tHead.rows[0].cells.length;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  // Sparklines under the figures from the server's history (the last
  // minutes, there from the first poll). x is time from the oldest sample
  // kept to the newest (at least ten intervals, so a young server's line
  // starts part-way); a gap in the samples (a sampler that could not run)
  // is a gap in the line, never a drop to zero.
  const sparks = [
    ['fig-rate', 'messages_per_s', 'messages/s'], ['fig-actors', 'actors', 'actors'],
    ['fig-restarts', 'restarts_per_s', 'restarts/s'], ['fig-dead', 'dead_letters_per_s', 'dead letters/s'],
    ['fig-depth', 'mailbox_depth_max', 'deepest mailbox'], ['fig-memory', 'memory_mib', 'memory MiB']];
  const svgNS = 'http://www.w3.org/2000/svg';
  function sparkline(fig, times, values, interval, what) {
    let svg = fig.querySelector('svg.spark');
    if (!svg) {
      svg = document.createElementNS(svgNS, 'svg');
      svg.setAttribute('class', 'spark');
      svg.setAttribute('viewBox', '0 0 100 24');
      svg.setAttribute('preserveAspectRatio', 'none');
      const base = svg.appendChild(document.createElementNS(svgNS, 'line'));
      base.setAttribute('x1', '0'); base.setAttribute('x2', '100');
      base.setAttribute('y1', '23.5'); base.setAttribute('y2', '23.5');
      svg.appendChild(document.createElementNS(svgNS, 'path'));
      svg.appendChild(document.createElementNS(svgNS, 'title'));
      fig.appendChild(svg);
    }
    const n = Math.min(times.length, values.length);
    const end = n ? times[n - 1] : 0;
    const window = Math.max(interval * 10, n > 1 ? end - times[0] : 0, 1);
    const start = end - window;
    const top = n ? Math.max(...values.slice(0, n)) : 0;
    const max = Math.max(1, top);
    let d = '';
    for (let i = 0; i < n; i++) {
      const x = (100 * (times[i] - start) / window).toFixed(2);
      const y = (23 - 22 * values[i] / max).toFixed(2);
      const gap = i === 0 || times[i] - times[i - 1] > 2.5 * interval;
      d += (gap ? 'M' : 'L') + x + ' ' + y + ' ';
    }
    svg.querySelector('path').setAttribute('d', d.trim());
    svg.dataset.series = what;
    svg.dataset.points = n;
    const spanS = n > 1 ? (end - times[0]) / 1000 : 0;
    const over = spanS >= 120 ? Math.round(spanS / 60) + ' min' : Math.round(spanS) + ' s';
    svg.querySelector('title').textContent = n
      ? what + ': now ' + num(values[n - 1]) + ', highest ' + num(top) + ' over the last ' + over
      : what + ': no samples yet';
  }
  function renderHistory(h) {
    if (!h || !Array.isArray(h.time_ms)) return;
    const last = h.time_ms.length - 1;
    if (last >= 0) {
      $('fig-depth').textContent = fmt(h.mailbox_depth_max[last]);
      $('fig-memory').textContent = num(h.memory_mib[last]);
    }
    for (const [id, key, what] of sparks) {
      if (Array.isArray(h[key])) sparkline($(id).parentNode, h.time_ms, h[key], h.interval_ms || 1000, what);
    }
  }

  function render(doc) {
    polls += 1;
    const t = Date.parse(doc.system.time);
    const dt = previous ? (t - previous.time) / 1000 : 0;
    const rate = (now, before) => (previous && dt > 0 ? (now - before) / dt : null);

    document.title = doc.system.name + ' \u2013 Spindle';
    $('system-name').textContent = doc.system.name;
    $('fig-rate').textContent = fmt(rate(doc.stats.messages, previous && previous.messages));
    $('fig-actors').textContent = fmt(doc.stats.actors);
    $('fig-fibers').textContent = fmt(doc.stats.fibers);
    $('fig-workers').textContent = fmt(doc.system.workers);
    $('fig-restarts').textContent = fmt(doc.stats.restarts);
    $('fig-dead').textContent = fmt(doc.stats.dead_letters);
    renderHistory(doc.history);

    lastTree = doc.tree;
    lastDoc = doc;
    recordDepths(doc);
    renderTree();
    renderDrill();

    const before = {};
    if (previous) for (const w of previous.workers) before[w.worker] = w.messages;
    fillTable('workers', doc.workers.map((w) => [w.worker, fmt(rate(w.messages, before[w.worker])), fmt(w.messages)]));
    const typeKey = (m) => m.actor_type + '\u0000' + m.message_type;
    const beforeType = {};
    if (previous) for (const m of previous.messageTypes) beforeType[typeKey(m)] = m.messages;
    const types = (doc.message_types || []).map((m) => ({ m, r: rate(m.messages, beforeType[typeKey(m)]) }));
    types.sort((a, b) => (b.r || 0) - (a.r || 0) || b.m.messages - a.m.messages);
    fillTable('message-types', types.slice(0, 15).map(({ m, r }) => {
      const actor = el('span', null, shortType(m.actor_type));
      actor.title = m.actor_type;
      const message = el('span', null, shortType(m.message_type));
      message.title = m.message_type;
      return [actor, message, fmt(r), fmt(m.messages)];
    }));
    fillTable('executors', doc.executors.map((e) =>
      [e.name, fmt(e.running), fmt(e.queued), fmt(e.completed), fmt(e.failed), fmt(e.rejected)]));
    fillTable('breakers', doc.breakers.map((b) =>
      [b.name, el('span', 'badge ' + b.state, b.state.replace('_', '-')), fmt(b.calls.success), fmt(b.calls.failure), fmt(b.calls.rejected)]));

    const health = $('health');
    const checks = $('checks');
    checks.replaceChildren();
    if (doc.health) {
      health.className = 'badge ' + doc.health.status;
      health.textContent = 'health: ' + doc.health.status;
      for (const [name, c] of Object.entries(doc.health.checks)) {
        const li = el('li');
        li.appendChild(el('span', 'badge ' + c.status, c.status));
        li.appendChild(document.createTextNode(' ' + name + (c.observed !== undefined ? ': ' + c.observed + (c.unit ? ' ' + c.unit : '') : '') + (c.output ? ' \u2013 ' + c.output : '')));
        checks.appendChild(li);
      }
    } else {
      health.textContent = 'health: n/a';
    }

    const events = $('events');
    events.replaceChildren();
    const recent = doc.events.slice().reverse();
    for (const e of recent) {
      const li = el('li');
      li.appendChild(el('span', 'when', e.time.slice(11, 19)));
      li.appendChild(el('span', 'badge', e.type));
      li.appendChild(document.createTextNode(' ' + (e.source_name || shortType(e.actor_type) || '') + (e.detail ? ': ' + e.detail : '')));
      events.appendChild(li);
    }
    if (!recent.length) events.appendChild(el('li', 'empty', 'none yet'));

    renderSections(doc.sections);

    $('snapshot').textContent = doc.snapshot !== undefined ? doc.snapshot : polls;
    $('updated').textContent = doc.system.time.slice(11, 23) + ' UTC';
    const ds = document.body.dataset;
    ds.polls = polls;
    if (ds.firstSnapshot === undefined) ds.firstSnapshot = doc.snapshot;
    ds.lastSnapshot = doc.snapshot;
    if (ds.firstMessages === undefined) ds.firstMessages = doc.stats.messages;
    ds.lastMessages = doc.stats.messages;
    previous = { time: t, messages: doc.stats.messages, workers: doc.workers, messageTypes: doc.message_types || [] };
  }

  // The application's own sections (system_server::add_section): drawn
  // generically, a panel each. Arrays of objects become tables, objects
  // key/value pairs, anything nested deeper compact JSON.
  const isScalar = (v) => v === null || typeof v !== 'object';
  const isRecord = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const isRows = (v) => Array.isArray(v) && v.length > 0 && v.every(isRecord);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const alarming = /error|fail|timeout|timed_out|reject|denied/;
  const badged = /^(kind|state|status|grants)$/;
  const title = (k) => k.replace(/_/g, ' ');

  function num(n) {
    if (Number.isInteger(n)) return Math.abs(n) >= 1e6 ? fmt(n) : String(n);
    const a = Math.abs(n);
    return a >= 100 ? n.toFixed(0) : a >= 1 ? n.toFixed(2) : n.toPrecision(2);
  }

  // One value as a node; `key` names its column or row.
  function valueNode(v, key) {
    if (v === null || v === undefined) return el('span', 'empty', '\u2013');
    if (typeof v === 'number') return document.createTextNode(num(v));
    if (typeof v === 'string') {
      if (uuid.test(v)) {
        const s = el('span', 'atype', v.slice(0, 8) + '\u2026');
        s.title = v;
        return s;
      }
      if (key && badged.test(key)) return el('span', 'badge ' + v, v);
      return document.createTextNode(v);
    }
    if (typeof v === 'boolean') return document.createTextNode(v ? 'yes' : 'no');
    if (Array.isArray(v) && v.every(isScalar)) {
      if (!v.length) return el('span', 'empty', '\u2013');
      if (key && badged.test(key)) {
        const s = el('span');
        for (const x of v) { s.appendChild(el('span', 'badge', x)); s.appendChild(document.createTextNode(' ')); }
        return s;
      }
      return document.createTextNode(v.join(', '));
    }
    if (isRecord(v) && Object.values(v).every(isScalar)) {
      const entries = Object.entries(v);
      if (!entries.length) return el('span', 'empty', '\u2013');
      return document.createTextNode(entries.map(([k, x]) => title(k) + ' ' + (typeof x === 'number' ? num(x) : x)).join(', '));
    }
    return el('code', 'json', JSON.stringify(v));
  }

  function rowsTable(rows) {
    const columns = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
    const numeric = columns.map((c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number'));
    const wrap = el('div', 'table-wrap');
    const table = wrap.appendChild(el('table', 'section-table'));
    const head = el('tr');
    columns.forEach((c, i) => head.appendChild(el('th', i && !numeric[i] ? 'text' : null, title(c))));
    table.appendChild(el('thead')).appendChild(head);
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      columns.forEach((c, i) => {
        const v = r[c];
        let cls = numeric[i] ? 'num' : i ? 'text' : null;
        if (numeric[i] && v > 0 && alarming.test(c)) cls += ' bad';
        const td = el('td', cls);
        td.appendChild(valueNode(v, c));
        if (typeof v === 'string' && !uuid.test(v)) td.title = v;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    table.appendChild(body);
    return wrap;
  }

  // A section of view "waterfall" (spindle::trace::recent_traces): each
  // trace a collapsible list of its spans in tree order, each a bar placed
  // on the trace's time line. Which traces are open survives the polls.
  const openTraces = new Set();
  let firstTraceShown = false;
  function ms(x) { return (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)) + ' ms'; }
  function waterfall(v) {
    const box = el('div', 'waterfall');
    const facts = el('div', 'facts');
    for (const k of ['spans', 'spans_dropped', 'traces_evicted']) {
      if (typeof v[k] !== 'number') continue;
      const f = facts.appendChild(el('span', 'fact'));
      f.appendChild(el('span', 'k', title(k)));
      f.appendChild(el('span', 'v', num(v[k])));
    }
    box.appendChild(facts);
    if (!v.traces.length) box.appendChild(el('p', 'empty', 'no traces yet'));
    if (!firstTraceShown && v.traces.length) {
      openTraces.add(v.traces[0].trace_id); // the newest, once
      firstTraceShown = true;
    }
    for (const t of v.traces) {
      const d = box.appendChild(el('details', 'wf-trace'));
      d.dataset.trace = t.trace_id;
      d.open = openTraces.has(t.trace_id);
      d.addEventListener('toggle', () => { if (d.open) openTraces.add(t.trace_id); else openTraces.delete(t.trace_id); });
      const s = d.appendChild(el('summary'));
      s.appendChild(el('span', 'name', t.name));
      s.appendChild(el('span', 'wf-meta', ms(t.duration_ms)));
      s.appendChild(el('span', 'wf-meta', t.spans + (t.spans === 1 ? ' span' : ' spans')));
      if (t.errors) s.appendChild(el('span', 'wf-meta bad', t.errors + (t.errors === 1 ? ' error' : ' errors')));
      if (t.spans_dropped) s.appendChild(el('span', 'wf-meta', t.spans_dropped + ' not kept'));
      if (typeof t.start_unix_ms === 'number') s.appendChild(el('span', 'wf-meta', new Date(t.start_unix_ms).toISOString().slice(11, 23) + ' UTC'));
      const id = s.appendChild(el('span', 'atype', t.trace_id.slice(0, 8) + '\u2026'));
      id.title = 'trace ' + t.trace_id;
      const total = t.duration_ms > 0 ? t.duration_ms : 1;
      for (const r of t.rows) {
        const row = d.appendChild(el('div', 'wf-row' + (r.status === 'error' ? ' error' : '')));
        row.dataset.span = r.span_id;
        const label = row.appendChild(el('span', 'wf-label', r.name));
        label.style.paddingLeft = Math.min(r.depth, 12) + 'rem';
        label.title = r.name + ' (' + r.kind + ', span ' + r.span_id + ')' + (r.status_message ? ': ' + r.status_message : '');
        const bar = row.appendChild(el('span', 'wf-track')).appendChild(el('span', 'wf-bar ' + r.kind));
        bar.style.left = Math.min(100, 100 * r.offset_ms / total) + '%';
        bar.style.width = Math.min(100, 100 * r.duration_ms / total) + '%';
        bar.title = '+' + ms(r.offset_ms) + ', ' + ms(r.duration_ms);
        row.appendChild(el('span', 'wf-ms', ms(r.duration_ms)));
      }
    }
    return box;
  }

  function sectionBody(v, depth) {
    const box = el('div');
    if (isRecord(v) && typeof v.error === 'string' && Object.keys(v).length === 1) {
      box.appendChild(el('p', 'section-error', 'error: ' + v.error));
    } else if (depth === 0 && isRecord(v) && v.view === 'waterfall' && Array.isArray(v.traces)) {
      return waterfall(v);
    } else if (isRows(v)) {
      box.appendChild(rowsTable(v));
    } else if (isRecord(v) && depth < 2) {
      // scalars (and short lists) first as key/value pairs, then a heading
      // and a table for each list of rows (an empty list: "none")
      const isList = (x) => isRows(x) || (Array.isArray(x) && !x.length);
      const isNested = (x) => isRecord(x) && !Object.values(x).every(isScalar);
      const facts = el('div', 'facts');
      for (const [k, x] of Object.entries(v)) {
        if (isList(x) || isNested(x)) continue;
        const f = el('span', 'fact');
        f.appendChild(el('span', 'k', title(k)));
        f.appendChild(el('span', 'v')).appendChild(valueNode(x, k));
        facts.appendChild(f);
      }
      if (facts.childNodes.length) box.appendChild(facts);
      for (const [k, x] of Object.entries(v)) {
        if (!isList(x) && !isNested(x)) continue;
        box.appendChild(el('h3', null, title(k)));
        box.appendChild(isNested(x) ? sectionBody(x, depth + 1) : x.length ? rowsTable(x) : el('p', 'empty', 'none'));
      }
    } else {
      box.appendChild(valueNode(v));
    }
    return box;
  }

  function renderSections(sections) {
    const host = $('sections');
    const seen = new Set();
    for (const [name, v] of Object.entries(sections || {})) {
      seen.add(name);
      let panel = host.querySelector('section[data-section="' + CSS.escape(name) + '"]');
      if (!panel) {
        panel = el('section', 'panel app-section');
        panel.dataset.section = name;
        panel.appendChild(el('h2', null, title(name)));
        panel.appendChild(el('div'));
        host.appendChild(panel);
      }
      panel.replaceChild(sectionBody(v, 0), panel.lastChild);
    }
    for (const p of Array.from(host.children)) if (!seen.has(p.dataset.section)) p.remove();
  }

  async function poll() {
    const conn = $('conn');
    try {
      const r = await fetch('/api/system', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      render(await r.json());
      conn.className = 'conn';
      conn.textContent = 'live';
    } catch (e) {
      conn.className = 'conn down';
      conn.textContent = 'disconnected (' + e.message + ')';
    }
    window.setTimeout(poll, interval);
  }

  $('interval').textContent = interval;
  poll();
})();
)JS";

constexpr page_asset assets[] = {
    {"/", "text/html; charset=utf-8", html},
    {"/static/spindle.css", "text/css; charset=utf-8", css},
    {"/static/spindle.js", "text/javascript; charset=utf-8", js},
};

} // namespace

std::span<page_asset const> page_assets() noexcept
{
    return assets;
}

} // namespace spindle::http
