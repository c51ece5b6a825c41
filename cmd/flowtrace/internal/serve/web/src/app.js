// The page of `flowtrace serve`: a view of a case folder's graph.json.
// Everything that comes from the trace (labels, symbols, addresses) is put
// in the page with textContent or drawn on the canvas, never parsed as HTML.
import Graph from 'graphology';
import Sigma from 'sigma';
import { NodePointProgram } from 'sigma/rendering';

const token = document.querySelector('meta[name="flowtrace-token"]').content;
const $ = (id) => document.getElementById(id);

// Node looks per category: the colours of graph.dot's legend (graph/dot.go),
// but a UTXO chain's transactions are small grey diamonds and the miners'
// fee sink is gold (graph.dot's pale fills need the outline it draws).
const STYLES = {
  seed: { color: '#e74c3c', size: 9 },
  eoa: { color: '#dfe6e9' },
  contract: { color: '#b2bec3' },
  exchange: { color: '#27ae60' },
  bridge: { color: '#2980b9' },
  mixer: { color: '#8e44ad' },
  dex: { color: '#f39c12' },
  sanctioned: { color: '#000000' },
  other: { color: '#ecf0f1' },
  cross_chain: { color: '#d6eaf8' },
  transaction: { color: '#7f8c8d', size: 5, type: 'diamond' },
  fees: { color: '#b7950b', size: 7 },
};
const GROUP_COLOR = '#95a5a6';
const styleOf = (category) => ({ size: 6, type: 'circle', ...(STYLES[category] || STYLES.other) });

// The diamond of a transaction node: sigma's point program with another
// fragment shader (inside where |x| + |y| < 1/2, smoothed over one pixel).
const DIAMOND_SHADER = `
precision mediump float;
varying vec4 v_color;
varying float v_border;
void main(void) {
  vec2 m = gl_PointCoord - vec2(0.5, 0.5);
  float dist = 0.5 - (abs(m.x) + abs(m.y));
  #ifdef PICKING_MODE
  if (dist > v_border) gl_FragColor = v_color; else gl_FragColor = vec4(0.0);
  #else
  gl_FragColor = mix(vec4(0.0), v_color, clamp(dist / v_border, 0.0, 1.0));
  #endif
}
`;
class NodeDiamondProgram extends NodePointProgram {
  getDefinition() {
    return { ...super.getDefinition(), FRAGMENT_SHADER_SOURCE: DIAMOND_SHADER };
  }
}
const MIN_FAN_OUT = 4; // plain leaves of one payer folded into a group
// Above MOVE_LIGHT nodes a drag or zoom draws the nodes only, edges and labels
// when the view stops (software WebGL: 50 instead of 180 ms a frame at 1,000
// nodes); above BIG nodes edges are plain lines and only named nodes labelled.
const MOVE_LIGHT = 500;
const BIG = 2000;

const state = { big: false, cfg: null, caseId: '', doc: null, userLabels: [], graph: null, sigma: null, match: new Set(), selectedEdges: new Set(), model: null, expanded: new Set(), selected: '' };

// el builds an element whose text is set with textContent.
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function link(url, text) {
  if (!url) return el('span', text, 'mono');
  const a = el('a', text, 'mono');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

// explorer is the page of a tx or an address on the block explorer the
// config gives the chain, or '' when it gives none.
function explorer(chain, kind, value) {
  const ex = state.cfg && state.cfg.explorers && state.cfg.explorers[chain];
  if (!ex || !ex[kind]) return '';
  const url = ex[kind].replace('{' + kind + '}', encodeURIComponent(value));
  return /^https?:\/\//.test(url) ? url : '';
}

// chainsOf lists the chains of a trace: its own, its nodes' and edges', and
// those qualifying the addresses and assets of another chain ("bitcoin:…").
function chainsOf(doc) {
  const chains = new Set([doc.chain]);
  doc.nodes.forEach((n) => chains.add(n.chain));
  doc.edges.forEach((e) => chains.add(e.chain));
  [...(doc.summary.assets || []).map((a) => a.asset), ...doc.edges.map((e) => e.asset)].forEach((a) => {
    if (a.endsWith(':native')) chains.add(a.slice(0, -':native'.length));
  });
  return chains;
}

// where splits an address or asset into its chain and its id there: one of
// another chain is written "<chain>:<id>" in graph.json.
function where(id, chain) {
  const i = id.indexOf(':');
  const c = i > 0 ? id.slice(0, i) : '';
  if (c && c !== state.doc.chain && state.model.chains.has(c)) return { chain: c, id: id.slice(i + 1) };
  return { chain, id };
}

const chainOf = (n) => where(n.address, n.chain).chain;
const edgeChain = (e) => where(e.asset, e.chain).chain;

// txChain is the chain of a transaction hash, from the edges that carry it.
function txChain(hash) {
  const edges = state.model.txIndex.get(hash.toLowerCase());
  return edges ? edgeChain(edges[0]) : state.doc.chain;
}

// nodeLink links a node to its explorer page: a UTXO transaction ("tx:<txid>")
// as a transaction, a plain address as an address; hubs and sinks
// ("thorchain:…", "fee:miners") have no page.
function nodeLink(n) {
  const { chain, id } = where(n.address, n.chain);
  if (id.startsWith('tx:')) return link(explorer(chain, 'tx', id.slice(3)), n.address);
  return link(id.includes(':') ? '' : explorer(chain, 'address', id), n.address);
}

function short(a) {
  return a.length > 14 ? a.slice(0, 8) + '…' + a.slice(-4) : a;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', body: JSON.stringify(body), credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Flowtrace-Token': token },
  };
  const r = await fetch(path, init);
  const data = await r.json();
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

const isNative = (asset) => asset === 'native' || asset.endsWith(':native');

// Asset metadata: symbol and decimals from graph.json's summary (the
// trace's own coin among them: ETH with 18 decimals, BTC with 8); an asset
// the summary lacks has its edges' symbol and no decimals (base units).
function assetInfo(doc) {
  const info = new Map();
  for (const a of doc.summary.assets || []) info.set(a.asset, { symbol: a.symbol || short(a.asset), decimals: a.decimals });
  for (const e of doc.edges) if (!info.has(e.asset)) info.set(e.asset, { symbol: e.symbol || short(e.asset), decimals: null });
  return info;
}

function units(amount, decimals) {
  const v = BigInt(amount || '0');
  const d = BigInt(10) ** BigInt(decimals || 0);
  return Number(v / d) + Number(v % d) / Number(d);
}

// exactUnits writes base units in whole units, exactly: digits grouped,
// trailing zeros of the fraction dropped (as report.md writes them).
function exactUnits(amount, decimals) {
  let v = BigInt(amount || '0');
  const sign = v < 0n ? '-' : '';
  if (v < 0n) v = -v;
  const digits = v.toString().padStart(decimals + 1, '0');
  const whole = BigInt(digits.slice(0, digits.length - decimals)).toLocaleString('en-US');
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return sign + whole + (frac ? '.' + frac : '');
}

function fmtAmount(amount, asset) {
  const a = state.model.assets.get(asset) || { symbol: short(asset), decimals: null };
  if (a.decimals === null || a.decimals === undefined) return exactUnits(amount, 0) + ' base units of ' + a.symbol;
  return exactUnits(amount, a.decimals) + ' ' + a.symbol;
}

// assetName is an asset's symbol, with its chain when not the trace's own.
function assetName(asset) {
  const a = state.model.assets.get(asset);
  const symbol = a ? a.symbol : short(asset);
  const { chain } = where(asset, state.doc.chain);
  return chain === state.doc.chain ? symbol : symbol + ' (' + chain + ')';
}

// buildModel indexes graph.json and finds the fan-outs to collapse: a
// payer's plain leaves (no outflow, no labels, paid by it only), as graph.dot does.
function buildModel(doc) {
  const nodes = new Map();
  doc.nodes.forEach((n) => nodes.set(n.address, n));
  const out = new Map(); const inc = new Map();
  doc.edges.forEach((e, i) => {
    e.id = 'e' + i;
    if (!out.has(e.from)) out.set(e.from, []);
    if (!inc.has(e.to)) inc.set(e.to, []);
    out.get(e.from).push(e); inc.get(e.to).push(e);
  });
  // Fan-outs: the recipients of a detected fan-out paid by its payer only
  // (no labels, not a seed), and wide runs of plain leaves as graph.dot folds them.
  const groups = new Map(); const groupOf = new Map();
  const plain = (t, payer) => {
    const n = nodes.get(t);
    return n && t !== payer && !groupOf.has(t) && n.labels.length === 0 && n.category !== 'seed' &&
      (inc.get(t) || []).every((e) => e.from === payer);
  };
  const addGroup = (payer, members) => {
    if (members.length < MIN_FAN_OUT) return;
    const id = 'group:' + payer;
    if (groups.has(id)) return;
    const targets = new Set();
    members.forEach((m) => (out.get(m) || []).forEach((e) => { if (!members.includes(e.to)) targets.add(e.to); }));
    groups.set(id, { id, payer, members, targets: [...targets] });
    members.forEach((t) => groupOf.set(t, id));
  };
  for (const p of doc.patterns || []) {
    if (p.kind !== 'fan_out') continue;
    let payer = ''; let best = 0;
    for (const a of p.addresses) {
      const paid = (out.get(a) || []).filter((e) => p.addresses.includes(e.to)).length;
      if (paid > best) { best = paid; payer = a; }
    }
    if (payer) addGroup(payer, [...new Set((out.get(payer) || []).map((e) => e.to))].filter((t) => p.addresses.includes(t) && plain(t, payer)));
  }
  for (const [addr, edges] of out) {
    addGroup(addr, [...new Set(edges.map((e) => e.to))].filter((t) => plain(t, addr) && !out.has(t)).length > 12
      ? [...new Set(edges.map((e) => e.to))].filter((t) => plain(t, addr) && !out.has(t)) : []);
  }
  const patternsOf = new Map();
  (doc.patterns || []).forEach((p) => p.addresses.forEach((a) => {
    if (!patternsOf.has(a)) patternsOf.set(a, []);
    patternsOf.get(a).push(p);
  }));
  const txIndex = new Map();
  doc.edges.forEach((e) => e.transfers.forEach((t) => {
    if (!txIndex.has(t.tx_hash.toLowerCase())) txIndex.set(t.tx_hash.toLowerCase(), []);
    txIndex.get(t.tx_hash.toLowerCase()).push(e);
  }));
  return { nodes, out, inc, groups, groupOf, patternsOf, txIndex, assets: assetInfo(doc), chains: chainsOf(doc) };
}

// filters returns the predicate of visible edges and the pattern filter.
function filters() {
  const asset = $('f-asset').value;
  const min = parseFloat($('f-min').value) || 0;
  const from = $('f-from').value === '' ? -Infinity : Number($('f-from').value);
  const to = $('f-to').value === '' ? Infinity : Number($('f-to').value);
  const pattern = $('f-pattern').value;
  const m = state.model;
  const edge = (e) => {
    if (asset && e.asset !== asset) return false;
    const a = m.assets.get(e.asset);
    if (min > 0 && units(e.tainted || e.amount, a ? a.decimals : 0) < min) return false;
    return e.transfers.some((t) => t.block_number >= from && t.block_number <= to);
  };
  let inPattern = null;
  if (pattern) {
    inPattern = new Set();
    (state.doc.patterns || []).filter((p) => p.kind === pattern).forEach((p) => p.addresses.forEach((a) => inPattern.add(a)));
  }
  return { edge, inPattern };
}

// visibleSets decides what is shown: filtered edges, their ends and the
// seeds; a collapsed fan-out's members shown as one group node.
function visibleSets() {
  const { edge, inPattern } = filters();
  const m = state.model;
  const nodes = new Set(); const edges = new Set();
  for (const e of state.doc.edges) {
    if (!edge(e)) continue;
    if (inPattern && !(inPattern.has(e.from) && inPattern.has(e.to))) continue;
    edges.add(e.id); nodes.add(e.from); nodes.add(e.to);
  }
  for (const s of state.doc.seeds || []) if (m.nodes.has(s)) nodes.add(s);
  const groups = new Set();
  for (const [id, g] of m.groups) {
    if (state.expanded.has(id)) continue;
    const shown = g.members.filter((a) => nodes.has(a));
    if (shown.length < 2) continue;
    groups.add(id);
    shown.forEach((a) => nodes.delete(a));
  }
  return { nodes, edges, groups };
}

// layout places nodes left to right by hop depth; within a layer by the
// mean position of their payers (one barycentre pass), 40px apart.
function layout(vis) {
  const m = state.model;
  const depthOf = (id) => {
    if (id.startsWith('group:')) return m.nodes.get(m.groups.get(id).payer).depth + 1;
    return m.nodes.get(id).depth;
  };
  const layers = new Map();
  const ids = [...vis.nodes, ...vis.groups];
  ids.forEach((id) => {
    const d = depthOf(id);
    if (!layers.has(d)) layers.set(d, []);
    layers.get(d).push(id);
  });
  const pos = new Map();
  const parentsOf = (id) => {
    if (id.startsWith('group:')) return [m.groups.get(id).payer];
    return (m.inc.get(id) || []).map((e) => (vis.nodes.has(e.from) ? e.from : m.groupOf.get(e.from) || e.from));
  };
  // A layer taller than perColumn wraps into columns, so that a wide hop
  // stays a block instead of a line thousands of nodes high.
  const perColumn = Math.max(40, Math.ceil(2 * Math.sqrt(ids.length)));
  let x = 0;
  for (const d of [...layers.keys()].sort((a, b) => a - b)) {
    const layer = layers.get(d);
    const key = new Map();
    layer.forEach((id) => {
      const ys = parentsOf(id).map((p) => pos.get(p)).filter((p) => p).map((p) => p.y);
      key.set(id, ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : 0);
    });
    layer.sort((a, b) => key.get(a) - key.get(b) || (a < b ? -1 : 1));
    const cols = Math.ceil(layer.length / perColumn);
    const rows = Math.ceil(layer.length / cols);
    layer.forEach((id, i) => pos.set(id, { x: x + Math.floor(i / rows) * 60, y: (i % rows - (rows - 1) / 2) * 40 }));
    x += (cols - 1) * 60 + 240;
  }
  return pos;
}

// edgeSize is an edge's width by its value (whole units, log scale).
function edgeSize(e) {
  const a = state.model.assets.get(e.asset);
  const v = units(e.tainted && e.tainted !== '0' ? e.tainted : e.amount, a ? a.decimals : 0);
  return Math.min(8, 1 + 0.8 * Math.log10(1 + v));
}

// shortAddress shortens an address, prefixed with its chain when not the trace's.
function shortAddress(address) {
  const n = state.model.nodes.get(address);
  const { chain, id } = where(address, n ? n.chain : state.doc.chain);
  return (chain !== state.doc.chain ? chain + ': ' : '') + short(id);
}

function nodeLabel(n) {
  const name = n.labels.length ? n.labels[0].name : '';
  const user = state.userLabels.find((l) => l.address.toLowerCase() === n.address.toLowerCase());
  const text = shortAddress(n.address) + (user ? ' · ' + user.label : name ? ' · ' + name : '');
  // Large graphs label only what carries a name: text is the costliest part to lay out.
  return state.big && !user && !name && n.category !== 'seed' ? '' : text;
}

// shownEdge says whether the edge key is drawn under vis.
function shownEdge(vis, id, source, target) {
  if (id.startsWith('ge:')) return vis.groups.has(id.slice(3));
  if (id.startsWith('gx:')) return vis.groups.has(source) && vis.nodes.has(target);
  const d = state.doc.edges[Number(id.slice(1))];
  return vis.edges.has(id) && vis.nodes.has(d.to) && vis.nodes.has(d.from);
}

const EDGE_COLORS = { native: '#34495e', token: '#16a085', grouped: '#95a5a6' };

// buildGraph puts all nodes, groups and edges in a graphology graph, placed
// and hidden as vis and pos say; sigma draws it with WebGL.
function buildGraph(vis, pos) {
  const m = state.model;
  const g = new Graph({ multi: true, type: 'directed' });
  const anywhere = pos.values().next().value || { x: 0, y: 0 };
  const at = (id) => pos.get(id) || anywhere;
  for (const n of state.doc.nodes) {
    const p = at(n.address);
    const st = styleOf(n.category);
    g.addNode(n.address, { x: p.x, y: -p.y, size: st.size, color: st.color, type: st.type, label: nodeLabel(n), hidden: !vis.nodes.has(n.address) });
  }
  for (const grp of m.groups.values()) {
    const p = at(grp.id);
    g.addNode(grp.id, { x: p.x, y: -p.y, size: 10, color: GROUP_COLOR, label: grp.members.length + ' addresses (click to expand)', hidden: !vis.groups.has(grp.id) });
    const ge = 'ge:' + grp.id;
    g.addEdgeWithKey(ge, grp.payer, grp.id, { size: 2.5, color: EDGE_COLORS.grouped, hidden: !shownEdge(vis, ge) });
    grp.targets.forEach((t, i) => {
      const id = 'gx:' + i + ':' + grp.id;
      g.addEdgeWithKey(id, grp.id, t, { size: 1.5, color: EDGE_COLORS.grouped, hidden: !shownEdge(vis, id, grp.id, t) });
    });
  }
  for (const e of state.doc.edges) {
    g.addEdgeWithKey(e.id, e.from, e.to, { size: edgeSize(e), color: isNative(e.asset) ? EDGE_COLORS.native : EDGE_COLORS.token, hidden: !shownEdge(vis, e.id) });
  }
  return g;
}

// counts shows how much of the graph is drawn.
function counts(vis) {
  let shownEdges = 0;
  state.graph.forEachEdge((id, a) => { if (!a.hidden) shownEdges++; });
  const shownNodes = vis.nodes.size + vis.groups.size;
  $('shown-nodes').textContent = shownNodes;
  $('shown-edges').textContent = shownEdges;
  document.body.dataset.shownNodes = String(shownNodes);
  document.body.dataset.shownEdges = String(shownEdges);
}

// rendered resolves after sigma's next frame.
function rendered() {
  return new Promise((resolve) => {
    state.sigma.once('afterRender', () => resolve());
    state.sigma.scheduleRefresh();
  });
}

// refresh applies filters and collapsing, lays out what is shown and
// updates the counts. It resolves after the next render.
function refresh() {
  const g = state.graph;
  const vis = visibleSets();
  const pos = layout(vis);
  const anywhere = pos.values().next().value || { x: 0, y: 0 };
  g.updateEachNodeAttributes((id, a) => {
    const show = id.startsWith('group:') ? vis.groups.has(id) : vis.nodes.has(id);
    const p = pos.get(id) || anywhere;
    return { ...a, hidden: !show, x: p.x, y: -p.y };
  });
  // The hint makes sigma index the edges again: without it, it repaints them
  // in place and throws on an edge it has not drawn yet.
  g.updateEachEdgeAttributes((id, a, source, target) => ({ ...a, hidden: !shownEdge(vis, id, source, target) }), { attributes: ['hidden', 'zIndex'] });
  counts(vis);
  state.sigma.getCamera().setState({ x: 0.5, y: 0.5, ratio: 1, angle: 0 });
  return rendered();
}

function fillSelect(sel, entries, keep) {
  const first = sel.options[0];
  sel.replaceChildren(first);
  for (const [value, text] of entries) {
    const o = el('option', text);
    o.value = value;
    sel.append(o);
  }
  if (keep) sel.value = keep;
}

// BUCKET_CLASSES colour the accounting's buckets; the other buckets are grey.
const BUCKET_CLASSES = ['exchange', 'bridge', 'bridged_arrived', 'refunded', 'mixer', 'swapped', 'fees', 'dormant', 'below_threshold'];

// renderAccounting draws a bar per asset: each bucket with its amount and
// share. Value that arrived from another asset (a followed swap, a bridge's
// payout) is said beside the stolen amount, as the shares count it.
function renderAccounting() {
  const box = $('accounting');
  box.replaceChildren(el('h3', 'Where the stolen value went'));
  for (const a of state.doc.summary.assets || []) {
    const row = el('div', undefined, 'asset');
    row.dataset.asset = a.asset;
    let head = assetName(a.asset) + ' — stolen ' + fmtAmount(a.stolen, a.asset);
    if (a.swapped_in) head += ' · swapped in ' + fmtAmount(a.swapped_in, a.asset);
    if (a.bridged_in) head += ' · bridged in ' + fmtAmount(a.bridged_in, a.asset);
    row.append(el('div', head, 'asset-name'));
    const bar = el('div', undefined, 'bar');
    const legend = el('div', undefined, 'legend');
    for (const [bucket, share] of Object.entries(a.shares || {}).sort()) {
      const pct = parseFloat(share) || 0;
      const cls = 'b-' + (BUCKET_CLASSES.includes(bucket) ? bucket : bucket.startsWith('not_followed') ? 'not_followed' : 'other');
      const text = bucket + ' ' + fmtAmount((a.buckets || {})[bucket] || '0', a.asset) + ' (' + share + ')';
      const seg = el('span', undefined, cls);
      seg.style.width = pct + '%';
      seg.title = text;
      bar.append(seg);
      const item = el('span');
      item.dataset.bucket = bucket;
      item.append(el('span', undefined, 'swatch ' + cls), document.createTextNode(text));
      legend.append(item);
    }
    if (a.bridged_to) {
      Object.entries(a.bridged_to).sort().forEach(([chain, amount]) => legend.append(el('span', 'bridge to ' + chain + ' ' + fmtAmount(amount, a.asset))));
    }
    row.append(bar, legend);
    box.append(row);
  }
}

// renderLegend lists the node categories the graph has, as drawn.
function renderLegend() {
  const box = $('legend');
  box.replaceChildren();
  const present = new Set(state.doc.nodes.map((n) => (STYLES[n.category] ? n.category : 'other')));
  const entry = (name, color, shape) => {
    const item = el('div', undefined, 'legend-item');
    item.dataset.category = name;
    item.dataset.color = color;
    const mark = el('span', undefined, 'mark ' + shape);
    mark.style.background = color;
    item.append(mark, document.createTextNode(name));
    box.append(item);
  };
  Object.keys(STYLES).filter((c) => present.has(c)).forEach((c) => {
    const st = styleOf(c);
    entry(c, st.color, st.type);
  });
  if (state.model.groups.size) entry('N addresses (fan-out)', GROUP_COLOR, 'circle');
}

function renderTimeline() {
  const box = $('timeline');
  // Block numbers of two chains do not compare: the trace's own chain only.
  const blocks = []; let elsewhere = 0;
  state.doc.edges.forEach((e) => e.transfers.forEach((t) => {
    if (edgeChain(e) === state.doc.chain) blocks.push(t.block_number); else elsewhere++;
  }));
  box.replaceChildren(el('h3', 'Timeline: ' + blocks.length + ' transfers by block' + (elsewhere ? ' on ' + state.doc.chain : '')));
  if (elsewhere) box.append(el('div', elsewhere + ' transfers on other chains not shown', 'hint'));
  if (!blocks.length) return;
  const lo = Math.min(...blocks); const hi = Math.max(...blocks);
  const n = Math.min(100, hi - lo + 1);
  const bins = new Array(n).fill(0);
  blocks.forEach((b) => bins[Math.min(n - 1, Math.floor(((b - lo) / (hi - lo + 1)) * n))]++);
  const peak = Math.max(...bins);
  const row = el('div', undefined, 'bins');
  bins.forEach((c, i) => {
    const s = el('span');
    s.style.height = (100 * c / peak) + '%';
    const from = lo + Math.floor(i * (hi - lo + 1) / n);
    s.title = c + ' transfers from block ' + from;
    row.append(s);
  });
  box.append(row, el('div', 'blocks ' + lo + ' – ' + hi, 'hint'));
}

function kv(table, k, v) {
  const tr = el('tr');
  const td = el('td');
  if (v instanceof Node) td.append(v); else td.textContent = v;
  tr.append(el('td', k), td);
  table.append(tr);
}

function showGroup(id) {
  const g = state.model.groups.get(id);
  const p = $('panel');
  p.replaceChildren(el('h2', 'fan-out of ' + short(g.payer)), el('p', g.members.length + ' addresses paid only by ' + g.payer + ', with no outflow and no labels.', 'hint'));
  const ul = el('ul', undefined, 'members');
  g.members.forEach((a) => ul.append(el('li', a, 'mono')));
  p.append(ul);
}

function showNode(addr) {
  const m = state.model; const n = m.nodes.get(addr);
  if (!n) return;
  state.selected = addr;
  const p = $('panel');
  p.replaceChildren();
  p.dataset.address = addr;
  const h = el('h2');
  h.append(nodeLink(n));
  p.append(h);
  const t = el('table', undefined, 'facts');
  kv(t, 'chain', chainOf(n)); kv(t, 'category', n.category); kv(t, 'hop', n.depth);
  kv(t, 'first seen', 'block ' + n.first_seen_block); kv(t, 'contract', n.is_contract ? 'yes' : 'no');
  if (n.stop) kv(t, 'stop', n.stop);
  p.append(t);

  p.append(el('h3', 'Labels'));
  const labels = el('ul', undefined, 'labels');
  n.labels.forEach((l) => labels.append(el('li', l.name + ' (' + l.category + ', source: ' + l.source + ')')));
  state.userLabels.filter((l) => l.address.toLowerCase() === addr.toLowerCase())
    .forEach((l) => labels.append(el('li', l.label + ' (' + l.category + ', source: ' + l.source + ', ' + 'labels.csv)')));
  if (!labels.children.length) labels.append(el('li', 'none', 'hint'));
  p.append(labels);

  p.append(el('h3', 'Received / held'));
  const rh = el('table');
  const assets = new Set([...Object.keys(n.received || {}), ...Object.keys(n.held || {})]);
  assets.forEach((a) => kv(rh, assetName(a),
    'received ' + fmtAmount((n.received || {})[a] || '0', a) + ' · held ' + fmtAmount((n.held || {})[a] || '0', a)));
  if (!assets.size) kv(rh, '—', 'nothing tainted');
  p.append(rh);

  const pats = m.patternsOf.get(addr) || [];
  if (pats.length) {
    p.append(el('h3', 'Patterns'));
    const ul = el('ul', undefined, 'patterns');
    pats.forEach((pt) => {
      const li = el('li', pt.kind + ' (confidence ' + pt.confidence + ')');
      const details = Object.entries(pt.detail || {}).map(([k, v]) => k + ': ' + v).join('; ');
      if (details) li.append(el('div', details, 'hint'));
      const ev = el('ul');
      (pt.evidence || []).forEach((e) => {
        const eli = el('li');
        eli.append(link(explorer(txChain(e.tx_hash), 'tx', e.tx_hash), short(e.tx_hash)), document.createTextNode(' block ' + e.block));
        ev.append(eli);
      });
      li.append(ev);
      ul.append(li);
    });
    p.append(ul);
  }

  p.append(el('h3', 'Transfers'));
  const tt = el('table', undefined, 'transfers');
  const rows = [];
  (m.out.get(addr) || []).forEach((e) => e.transfers.forEach((x) => rows.push(['→', e.to, e, x])));
  (m.inc.get(addr) || []).forEach((e) => e.transfers.forEach((x) => rows.push(['←', e.from, e, x])));
  rows.sort((a, b) => a[3].block_number - b[3].block_number);
  rows.forEach(([dir, other, e, x]) => {
    const tr = el('tr');
    tr.dataset.tx = x.tx_hash;
    const txc = el('td');
    txc.append(link(explorer(edgeChain(e), 'tx', x.tx_hash), x.tx_hash));
    tr.append(el('td', dir + ' ' + shortAddress(other), 'mono'), el('td', fmtAmount(x.amount, e.asset), 'amount'), el('td', '#' + x.block_number), txc);
    tt.append(tr);
  });
  p.append(tt);

  if (n.stop === 'depth' && state.cfg.expand) {
    const b = el('button', 'Expand one hop');
    b.id = 'expand-hop';
    b.type = 'button';
    b.addEventListener('click', () => { b.disabled = true; expandHop(n); });
    p.append(b);
  } else if (n.stop === 'depth') {
    p.append(el('p', 'Not followed: the depth limit. Start flowtrace serve with --rpc to expand it one hop.', 'hint'));
  }

  p.append(el('h3', 'Add a label or note'));
  const form = el('form');
  form.id = 'label-form';
  const name = el('input'); name.name = 'label'; name.placeholder = 'label'; name.required = true;
  const cat = el('select'); cat.name = 'category';
  ['other', 'exchange', 'bridge', 'mixer', 'dex', 'sanctioned', 'contract', 'eoa'].forEach((c) => { const o = el('option', c); o.value = c; cat.append(o); });
  const note = el('input'); note.name = 'note'; note.placeholder = 'note / source (optional)';
  const save = el('button', 'Save to labels.csv'); save.type = 'submit';
  const msg = el('div', '', 'hint');
  form.append(name, cat, note, save, msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      state.userLabels = await api('/api/cases/' + encodeURIComponent(state.caseId) + '/labels',
        { chain: n.chain, address: n.address, label: name.value, category: cat.value, source: note.value });
      state.graph.setNodeAttribute(addr, 'label', nodeLabel(n));
      showNode(addr);
      $('status').textContent = 'label saved to labels.csv';
    } catch (err) { msg.textContent = err.message; msg.className = 'error'; }
  });
  p.append(form);
}

async function expandHop(n) {
  $('status').textContent = 'expanding ' + short(n.address) + '…';
  try {
    const doc = await api('/api/cases/' + encodeURIComponent(state.caseId) + '/expand', { chain: n.chain, address: n.address });
    await show(doc);
    showNode(n.address);
    $('status').textContent = 'expanded ' + short(n.address) + ': ' + doc.nodes.length + ' nodes';
    document.body.dataset.expandedHop = n.address;
    const opt = [...$('case').options].find((o) => o.value === state.caseId);
    if (opt) opt.textContent = state.caseId + ' (' + doc.nodes.length + ' nodes)';
  } catch (err) { $('status').textContent = 'expand failed: ' + err.message; }
}

function search(q) {
  q = q.trim().toLowerCase();
  const m = state.model;
  state.match.clear();
  state.selectedEdges.clear();
  if (!q) { state.sigma.refresh(); return; }
  let hits = [];
  const edges = m.txIndex.get(q);
  if (edges) {
    hits = edges.map((e) => e.from);
    edges.forEach((e) => state.selectedEdges.add(e.id));
  } else {
    for (const n of state.doc.nodes) {
      const names = n.labels.map((l) => l.name.toLowerCase());
      state.userLabels.filter((l) => l.address.toLowerCase() === n.address.toLowerCase()).forEach((l) => names.push(l.label.toLowerCase()));
      if (n.address.toLowerCase().includes(q) || names.some((s) => s.includes(q))) hits.push(n.address);
    }
  }
  $('status').textContent = hits.length + ' match' + (hits.length === 1 ? '' : 'es');
  hits.forEach((a) => {
    const g = m.groupOf.get(a);
    state.match.add(g && !state.graph.getNodeAttribute(g, 'hidden') ? g : a);
  });
  state.sigma.refresh();
  if (hits.length) {
    if (m.nodes.has(hits[0])) showNode(hits[0]);
    const d = state.sigma.getNodeDisplayData([...state.match][0]);
    if (d) state.sigma.getCamera().animate({ x: d.x, y: d.y, ratio: 0.3 }, { duration: 200 });
  }
}

// exportSVG draws the nodes and edges shown, at their positions.
function svgOfView() {
  const g = state.graph;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const shown = g.filterNodes((id, a) => !a.hidden);
  const xs = shown.map((id) => g.getNodeAttribute(id, 'x')); const ys = shown.map((id) => -g.getNodeAttribute(id, 'y'));
  const x1 = Math.min(...xs) - 40; const y1 = Math.min(...ys) - 20;
  const w = Math.max(...xs) - x1 + 80; const h = Math.max(...ys) - y1 + 40;
  svg.setAttribute('xmlns', ns);
  svg.setAttribute('viewBox', [x1, y1, w, h].join(' '));
  svg.setAttribute('width', String(Math.round(w)));
  svg.setAttribute('height', String(Math.round(h)));
  const bg = document.createElementNS(ns, 'rect');
  [['x', x1], ['y', y1], ['width', w], ['height', h], ['fill', '#ffffff']].forEach(([k, v]) => bg.setAttribute(k, String(v)));
  svg.append(bg);
  g.forEachEdge((id, a, s, t, sa, ta) => {
    if (a.hidden) return;
    const l = document.createElementNS(ns, 'line');
    [['x1', sa.x], ['y1', -sa.y], ['x2', ta.x], ['y2', -ta.y], ['stroke', a.color], ['stroke-width', a.size], ['stroke-opacity', 0.7]]
      .forEach(([k, v]) => l.setAttribute(k, String(v)));
    svg.append(l);
  });
  g.forEachNode((id, a) => {
    if (a.hidden) return;
    const c = document.createElementNS(ns, 'circle');
    [['cx', a.x], ['cy', -a.y], ['r', a.size], ['fill', a.color], ['stroke', '#636e72']].forEach(([k, v]) => c.setAttribute(k, String(v)));
    svg.append(c);
    if (a.label) {
      const t = document.createElementNS(ns, 'text');
      [['x', a.x], ['y', -a.y + a.size + 10], ['font-size', 9], ['text-anchor', 'middle'], ['font-family', 'sans-serif']].forEach(([k, v]) => t.setAttribute(k, String(v)));
      t.textContent = a.label;
      svg.append(t);
    }
  });
  return { text: new XMLSerializer().serializeToString(svg), w, h };
}

function exportSVG() {
  download(new Blob([svgOfView().text], { type: 'image/svg+xml' }), 'svg');
}

// exportPNG rasterises the SVG of the view.
function exportPNG() {
  const { text, w, h } = svgOfView();
  const img = new Image();
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  img.onload = () => {
    const scale = Math.min(2, 16000 / Math.max(w, h));
    const c = document.createElement('canvas');
    c.width = Math.round(w * scale); c.height = Math.round(h * scale);
    const ctx = c.getContext('2d');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    URL.revokeObjectURL(url);
    c.toBlob((b) => download(b, 'png'), 'image/png');
  };
  img.src = url;
}

function download(blob, ext) {
  const a = el('a');
  a.href = URL.createObjectURL(blob);
  a.download = (state.caseId || 'flowtrace') + '.' + ext;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// show renders a graph.json document.
async function show(doc) {
  const started = performance.now();
  const phases = [];
  const phase = (name) => phases.push(name + ' ' + Math.round(performance.now()));
  phase('fetched');
  state.doc = doc;
  state.model = buildModel(doc);
  phase('model');
  $('count-nodes').textContent = doc.nodes.length;
  $('count-edges').textContent = doc.edges.length;
  fillSelect($('f-asset'), [...state.model.assets].map(([a]) => [a, assetName(a) + (isNative(a) ? '' : ' ' + short(where(a, doc.chain).id))]), $('f-asset').value);
  fillSelect($('f-pattern'), [...new Set((doc.patterns || []).map((p) => p.kind))].sort().map((k) => [k, k]), $('f-pattern').value);
  renderAccounting(); // before the graph: the footer's height sets the graph's
  renderTimeline();
  renderLegend();
  if (state.sigma) state.sigma.kill();
  state.big = doc.nodes.length > BIG;
  const light = doc.nodes.length > MOVE_LIGHT;
  state.match.clear();
  state.selectedEdges.clear();
  const vis = visibleSets();
  const pos = layout(vis);
  phase('layout');
  state.graph = buildGraph(vis, pos);
  phase('graph');
  state.sigma = new Sigma(state.graph, $('graph'), {
    // Large graphs: plain lines (cheaper than arrows) and fewer labels.
    defaultEdgeType: state.big ? 'line' : 'arrow', renderEdgeLabels: false, labelRenderedSizeThreshold: state.big ? 8 : 5, labelSize: 11, labelDensity: state.big ? 0.1 : 1,
    // Discs and diamonds are GL points: software WebGL draws sigma's default
    // disc program (instanced triangles) several times slower (BenchmarkServeRender).
    nodeProgramClasses: { circle: NodePointProgram, diamond: NodeDiamondProgram },
    zIndex: true, minCameraRatio: 0.02, maxCameraRatio: 20, hideEdgesOnMove: light, hideLabelsOnMove: light,
    // Search hits and the selected node stand out; a reducer changes only what is drawn.
    nodeReducer: (id, a) => (state.match.has(id) || id === state.selected ? { ...a, highlighted: true, zIndex: 1, forceLabel: true } : a),
    edgeReducer: (id, a) => (state.selectedEdges.has(id) ? { ...a, color: '#e84393', size: a.size + 2, zIndex: 1 } : a),
  });
  phase('sigma');
  state.sigma.on('clickNode', ({ node }) => {
    if (node.startsWith('group:')) {
      state.expanded.add(node);
      showGroup(node);
      refresh().then(() => { document.body.dataset.expanded = node; });
    } else {
      showNode(node);
      state.sigma.refresh();
    }
  });
  counts(vis);
  // Sigma drew in its constructor or in a frame it asked for before this one.
  await new Promise((r) => requestAnimationFrame(() => r()));
  phase('frame');
  document.body.dataset.phases = phases.join(', ');
  document.body.dataset.renderMs = String(Math.round(performance.now()));
  document.body.dataset.showMs = String(Math.round(performance.now() - started));
  document.body.dataset.ready = doc.case || '1';
}

async function openCase(id) {
  state.caseId = id;
  state.expanded.clear();
  $('status').textContent = 'loading ' + id + '…';
  const [doc, labels] = await Promise.all([api('/api/cases/' + encodeURIComponent(id) + '/graph'), api('/api/cases/' + encodeURIComponent(id) + '/labels')]);
  state.userLabels = labels;
  await show(doc);
  $('status').textContent = doc.case + ' · ' + doc.chain + ' · stop: ' + doc.stats.stop_reason;
}

async function main() {
  state.cfg = await api('/api/config');
  const cases = await api('/api/cases');
  fillSelect($('case'), cases.map((c) => [c.id, c.id + ' (' + c.nodes + ' nodes)']));
  $('case').firstChild.remove();
  $('case').addEventListener('change', () => openCase($('case').value));
  for (const id of ['f-asset', 'f-min', 'f-from', 'f-to', 'f-pattern']) $(id).addEventListener('change', () => refresh());
  $('search').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') search(ev.target.value); });
  $('fit').addEventListener('click', () => state.sigma.getCamera().animatedReset());
  $('export-png').addEventListener('click', exportPNG);
  $('export-svg').addEventListener('click', exportSVG);
  await openCase(cases[0].id);
}

// flowtraceView is read by the browser tests to find where a node is drawn.
window.flowtraceView = {
  position(id) {
    const g = state.graph;
    if (!g.hasNode(id)) return { x: 0, y: 0, visible: false };
    const a = g.getNodeAttributes(id);
    const r = $('graph').getBoundingClientRect();
    const p = state.sigma.graphToViewport({ x: a.x, y: a.y });
    return { x: r.left + p.x, y: r.top + p.y, visible: !a.hidden };
  },
  // node is how a node is drawn: colour, program type and size.
  node(id) {
    const a = state.graph.getNodeAttributes(id);
    return { color: a.color, type: a.type, size: a.size };
  },
  groups() {
    return [...state.model.groups.values()].map((g) => ({ id: g.id, payer: g.payer, members: g.members, visible: !state.graph.getNodeAttribute(g.id, 'hidden') }));
  },
  svg() {
    return svgOfView().text;
  },
  // pan moves the camera a little on each of n frames and resolves to the
  // mean time between frames, in ms (the benchmark's panning figure).
  pan(n) {
    const cam = state.sigma.getCamera();
    return new Promise((resolve) => {
      let i = 0; let start = 0;
      const step = (t) => {
        if (i === 0) start = t;
        if (i === n) { cam.setState({ x: 0.5, y: 0.5 }); resolve((t - start) / n); return; }
        const st = cam.getState();
        cam.setState({ x: st.x + 0.002, y: st.y }); // sigma draws in the next frame
        i++;
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
  },
  // drag pans by dragging the view with the mouse, as an investigator does:
  // a mousedown on the graph, a mousemove 8 px further on each of n frames,
  // a mouseup; it resolves to the mean time between frames, in ms.
  drag(n) {
    const target = state.sigma.getMouseCaptor().container;
    const r = target.getBoundingClientRect();
    const x = r.left + r.width / 2; const y = r.top + r.height / 2;
    const send = (type, dx) => target.dispatchEvent(new MouseEvent(type, { clientX: x - dx, clientY: y, button: 0, buttons: type === 'mouseup' ? 0 : 1, bubbles: true }));
    return new Promise((resolve) => {
      let i = 0; let start = 0;
      const step = (t) => {
        if (i === 0) { start = t; send('mousedown', 0); }
        if (i === n) { send('mouseup', 8 * n); resolve((t - start) / n); return; }
        i++;
        send('mousemove', 8 * i); // sigma draws in the next frame
        requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    });
  },
  shownEdgeAssets() {
    return state.graph.filterEdges((id, a) => !a.hidden && /^e\d/.test(id)).map((id) => state.doc.edges[Number(id.slice(1))].asset);
  },
};

main().catch((err) => { $('status').textContent = 'error: ' + err.message; document.body.dataset.error = err.message; });
