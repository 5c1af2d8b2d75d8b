// The local inspector's page. Plain ES module, no build step: everything it loads comes from the
// server that served it (the Content-Security-Policy says so too). The server sends what changed
// four times a second; the page keeps at most `limits.events` events (the server's ring size).

const token = document.querySelector('meta[name="token"]').content;
const api = (path) => `${path}${path.includes('?') ? '&' : '?'}token=${token}`;
const $ = (id) => document.getElementById(id);

const mermaid = globalThis.mermaid;
mermaid.initialize({
  startOnLoad: false,
  securityLevel: 'strict',
  theme: 'neutral',
  fontFamily: 'system-ui, "DejaVu Sans", sans-serif',
  // Mermaid 11 takes the text size of a sequence diagram from here, not from `sequence`'s own
  // font sizes (measured): 16px makes a chain of twenty events far wider than a screen.
  fontSize: 12,
  sequence: {
    useMaxWidth: false,
    mirrorActors: false,
    actorMargin: 24,
    width: 110,
    height: 40,
    boxMargin: 4,
    messageMargin: 24,
  },
});

const state = {
  limits: { events: 5000 },
  charts: {},
  nodes: new Map(),
  /** Oldest first. */
  events: [],
  byId: new Map(),
  /** event id -> [{ daemon, how, host }] */
  handled: new Map(),
  selectedDaemon: null,
  selectedChain: null,
  paused: false,
  /** { event, nodes, exact } while looking at the moment after an event. */
  travel: null,
  missed: 0,
};

// ---- the feed

async function start() {
  const [hello, charts] = await Promise.all([
    fetch(api('/api/hello')).then((r) => r.json()),
    fetch(api('/api/charts')).then((r) => r.json()),
  ]);
  state.limits = hello.limits;
  state.charts = charts;
  if (hello.allowSend) setUpSend(hello.eventTypes);
  const feed = new EventSource(api('/api/feed'));
  feed.onopen = () => setMode();
  feed.onerror = () => setMode('down');
  feed.onmessage = (message) => {
    merge(JSON.parse(message.data));
    if (!state.paused) render();
  };
}

function merge(update) {
  if (update.nodes) state.nodes = new Map(update.nodes.map((n) => [n.id, n]));
  if (update.missed) state.missed += update.missed;
  for (const event of update.events ?? []) {
    if (state.byId.has(event.id)) continue;
    state.events.push(event);
    state.byId.set(event.id, event);
  }
  while (state.events.length > state.limits.events) {
    const old = state.events.shift();
    state.byId.delete(old.id);
    state.handled.delete(old.id);
  }
  for (const [id, daemon, how, host] of update.deliveries ?? []) {
    if (!state.byId.has(id)) continue;
    const list = state.handled.get(id) ?? [];
    if (!list.some((d) => d.daemon === daemon && d.host === host)) list.push({ daemon, how, host });
    state.handled.set(id, list);
  }
}

function setMode(down) {
  const mode = $('mode');
  if (down) {
    mode.textContent = 'disconnected';
    mode.className = 'pill down';
  } else if (state.travel) {
    const e = state.travel.event;
    mode.textContent = `at #${e.seq} ${e.type}${state.travel.exact ? '' : ' (approximate)'}`;
    mode.className = 'pill travel';
  } else if (state.paused) {
    mode.textContent = 'paused';
    mode.className = 'pill paused';
  } else {
    mode.textContent = 'live';
    mode.className = 'pill live';
  }
  $('live').hidden = !state.travel;
  $('pause').textContent = state.paused ? 'Resume' : 'Pause';
}

// ---- rendering

function render() {
  const nodes = state.travel ? new Map(state.travel.nodes.map((n) => [n.id, n])) : state.nodes;
  renderTree(nodes);
  renderChart(nodes);
  renderLanes();
  renderSequence();
  renderLog();
  $('counts').textContent =
    `${state.events.length} events kept${state.missed ? `, ${state.missed} skipped while behind` : ''}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function childrenOf(nodes) {
  const map = new Map();
  for (const n of nodes.values()) {
    const list = map.get(n.parent) ?? [];
    list.push(n);
    map.set(n.parent, list);
  }
  for (const list of map.values()) list.sort((a, b) => a.label.localeCompare(b.label));
  return map;
}

function renderTree(nodes) {
  const kids = childrenOf(nodes);
  const out = [];
  const walk = (parent) => {
    for (const n of kids.get(parent) ?? []) {
      out.push(treeRow(n));
      walk(n.id);
    }
  };
  walk(null);
  $('tree').replaceChildren(...out);
  const daemons = [...nodes.values()].filter((n) => n.kind === 'daemon').map((n) => n.label);
  if (!state.selectedDaemon && daemons.length > 0) state.selectedDaemon = daemons.sort()[0];
  const select = $('filter-daemon');
  const known = new Set([...select.options].map((o) => o.value));
  for (const d of [...new Set(daemons)].sort())
    if (!known.has(d)) select.append(el('option', { value: d }, d));
}

function treeRow(n) {
  if (n.kind === 'daemon') {
    return el(
      'div',
      {
        class: `node daemon${n.label === state.selectedDaemon ? ' selected' : ''}`,
        'data-daemon': n.label,
        'data-status': n.status,
        'data-state': n.state,
        title: `${n.label} on ${n.host}`,
        onclick: () => {
          state.selectedDaemon = n.label;
          render();
        },
      },
      el('span', { class: `dot ${n.status ?? ''}` }),
      el('span', { class: 'name' }, n.label),
      el('span', { class: 'tag' }, `${n.status ?? '?'}${n.ready ? ' · ready' : ''}`),
      el('span', { class: 'state' }, n.state ?? ''),
      el(
        'span',
        { class: 'tag' },
        `#${n.incarnation ?? 0} · ${n.restarts ?? 0} restarts · ${n.host ?? ''}`,
      ),
    );
  }
  if (n.kind === 'worker') {
    const pct =
      n.progress === null || n.progress === undefined ? null : Math.round(n.progress * 100);
    return el(
      'div',
      { class: 'node worker', 'data-worker': n.job },
      el('span', {}, `↳ ${n.label}`),
      el('progress', { max: 100, value: pct ?? undefined }),
      el('span', { class: 'tag' }, pct === null ? 'started' : `${pct}%`),
    );
  }
  if (n.kind === 'cluster' || n.kind === 'host') {
    return el(
      'div',
      { class: `node ${n.kind}`, 'data-host': n.host, 'data-status': n.status },
      el('span', { class: `dot ${n.status === 'degraded' ? 'failed' : 'running'}` }),
      el('span', { class: 'name' }, n.label),
      el('span', { class: 'tag' }, `${n.status ?? ''} · ${n.message ?? ''}`),
    );
  }
  return el(
    'div',
    { class: `node ${n.kind}` },
    el('span', {}, n.kind === 'runtime' ? `${n.label} on ${n.host}` : n.label),
  );
}

let chartDrawn = '';
let renderCount = 0;

/**
 * Mermaid draws one diagram at a time, and a large one takes a while: only the latest wish per
 * target is kept, so a busy pipeline does not queue up drawings the page would throw away.
 */
const wanted = new Map();
let drawing = false;
function draw(target, source, done) {
  wanted.set(target, { source, done });
  if (!drawing) void pump();
}
async function pump() {
  drawing = true;
  while (wanted.size > 0) {
    const [target, { source, done }] = wanted.entries().next().value;
    wanted.delete(target);
    try {
      const { svg } = await mermaid.render(`m${++renderCount}`, source);
      target.innerHTML = svg;
      target.removeAttribute('data-error');
    } catch (error) {
      target.textContent = `could not draw: ${error.message ?? error}`;
      target.setAttribute('data-error', String(error.message ?? error));
    }
    done?.();
  }
  drawing = false;
}

function renderChart(nodes) {
  const type = state.selectedDaemon;
  const chart = $('chart');
  if (!type) return;
  const daemon = [...nodes.values()].find((n) => n.kind === 'daemon' && n.label === type);
  const active = (daemon?.state ?? '').split('.')[0];
  $('chart-name').textContent = type;
  $('chart-state').textContent = active ? `in ${daemon.state}` : '';
  const source = state.charts[type];
  const key = `${type}|${active}`;
  if (key === chartDrawn) return;
  chartDrawn = key;
  if (!source) {
    chart.textContent = `${type} has no statechart`;
    return;
  }
  const states = new Set(source.match(/\b\w+\b/g));
  const highlight =
    active && states.has(active)
      ? `\n  classDef active fill:#ffb74d,stroke:#e65100,stroke-width:3px,color:#000,font-weight:bold\n  class ${active} active`
      : '';
  draw(chart, source + highlight, () => {
    chart.setAttribute('data-chart-daemon', type);
    chart.setAttribute('data-active', active);
  });
}

/** The chain an event belongs to: its correlation id, else its trace. */
const chainOf = (e) => e.correlationId ?? `trace ${e.traceId}`;

function chains() {
  const map = new Map();
  for (const e of state.events) {
    const key = chainOf(e);
    const list = map.get(key) ?? [];
    list.push(e);
    map.set(key, list);
  }
  // A lone event (a status change) is not a chain worth a lane.
  return [...map.entries()]
    .filter(([, list]) => list.length > 1)
    .sort((a, b) => b[1][b[1].length - 1].seq - a[1][a[1].length - 1].seq);
}

const byTime = (a, b) => a.at - b.at || a.seq - b.seq;

function renderLanes() {
  const lanes = chains().slice(0, 12);
  if (!state.selectedChain && lanes.length > 0) state.selectedChain = lanes[0][0];
  $('lanes').replaceChildren(
    ...lanes.map(([key, list]) =>
      el(
        'div',
        {
          class: `lane${key === state.selectedChain ? ' selected' : ''}`,
          'data-chain': key,
          onclick: () => {
            state.selectedChain = key;
            render();
          },
        },
        el('span', { class: 'label' }, key),
        ...[...list]
          .sort(byTime)
          .slice(-14)
          .map((e) => el('span', { class: `chip${e.remote ? ' remote' : ''}` }, e.type)),
      ),
    ),
  );
}

let sequenceDrawn = '';

/** The selected chain as a Mermaid sequence diagram: each event in time order, to every daemon that handled it. */
export function sequenceSource(events, handled) {
  const hosts = new Set(events.map((e) => e.host));
  for (const e of events) for (const d of handled.get(e.id) ?? []) hosts.add(d.host);
  const name = (daemon, host) => (hosts.size > 1 ? `${daemon}@${host}` : daemon);
  const ids = new Map();
  const lines = ['sequenceDiagram'];
  const participant = (label) => {
    if (!ids.has(label)) {
      ids.set(label, `p${ids.size}`);
      lines.push(`  participant ${ids.get(label)} as ${label}`);
    }
    return ids.get(label);
  };
  const number = new Map();
  const ordered = [...events].sort(byTime);
  for (const [i, e] of ordered.entries()) number.set(e.id, i + 1);
  for (const e of ordered) {
    const from = participant(name(e.source, e.host));
    const parent = e.parentId && number.has(e.parentId) ? ` ← ${number.get(e.parentId)}` : '';
    const label = `${number.get(e.id)}. ${e.type}${parent}`;
    const to = handled.get(e.id) ?? [];
    if (to.length === 0) lines.push(`  Note over ${from}: ${label} (no handler seen)`);
    // Every delivery is drawn: a subscriber that reacts without replying is still a receiver.
    for (const d of to) lines.push(`  ${from}->>${participant(name(d.daemon, d.host))}: ${label}`);
  }
  return lines.join('\n');
}

function renderSequence() {
  const key = state.selectedChain;
  if (!key) return;
  const events = state.events.filter((e) => chainOf(e) === key);
  const source = sequenceSource(events, state.handled);
  if (source === sequenceDrawn) return;
  sequenceDrawn = source;
  const target = $('sequence');
  draw(target, source, () => target.setAttribute('data-chain', key));
}

function renderLog() {
  const type = $('filter-type').value.trim().toUpperCase();
  const daemon = $('filter-daemon').value;
  const chain = $('filter-chain').value.trim();
  const rows = [];
  for (let i = state.events.length - 1; i >= 0 && rows.length < 300; i--) {
    const e = state.events[i];
    const by = state.handled.get(e.id) ?? [];
    if (type && !e.type.includes(type)) continue;
    if (daemon && e.source !== daemon && !by.some((d) => d.daemon === daemon)) continue;
    if (chain && !chainOf(e).includes(chain)) continue;
    rows.push(
      el(
        'tr',
        {
          'data-event-id': e.id,
          'data-type': e.type,
          class: `${e.remote ? 'remote ' : ''}${state.travel?.event.id === e.id ? 'picked' : ''}`,
          onclick: () => travelTo(e),
        },
        el('td', {}, String(e.seq)),
        el('td', {}, new Date(e.at).toISOString().slice(11, 23)),
        el('td', {}, e.type),
        el('td', {}, e.source),
        el('td', {}, e.remote ? `${e.host} (pid ${e.pid})` : e.host),
        el('td', {}, e.correlationId ?? ''),
        el('td', {}, by.map((d) => (d.how === 'handled' ? d.daemon : `${d.daemon}?`)).join(', ')),
      ),
    );
  }
  document.querySelector('#log tbody').replaceChildren(...rows);
}

async function travelTo(event) {
  const response = await fetch(api(`/api/at?event=${encodeURIComponent(event.id)}`));
  const body = await response.json();
  const by = state.handled.get(event.id) ?? [];
  const parent = event.parentId ? state.byId.get(event.parentId) : null;
  $('detail').className = '';
  $('detail').textContent = [
    `${event.type}  #${event.seq}  id ${event.id}`,
    `from ${event.source} on ${event.host} (pid ${event.pid}, runtime ${event.runtimeId})`,
    `chain ${chainOf(event)}; caused by ${parent ? `#${parent.seq} ${parent.type}` : (event.parentId ?? 'nothing')}`,
    `handled by ${by.map((d) => d.daemon + (d.how === 'handled' ? '' : ' (subscribed)')).join(', ') || 'nobody seen'}`,
    `payload ${event.payload}`,
  ].join('\n');
  if (!response.ok) {
    $('detail').textContent += `\n(time travel: ${body.error})`;
    return;
  }
  state.travel = { event, nodes: body.nodes, exact: body.exact };
  chartDrawn = '';
  setMode();
  render();
}

// ---- controls

$('pause').addEventListener('click', () => {
  state.paused = !state.paused;
  setMode();
  if (!state.paused) render();
});
$('live').addEventListener('click', () => {
  state.travel = null;
  chartDrawn = '';
  setMode();
  render();
});
for (const id of ['filter-type', 'filter-daemon', 'filter-chain'])
  $(id).addEventListener('input', () => renderLog());

function setUpSend(types) {
  $('send-view').hidden = false;
  $('event-types').replaceChildren(...types.map((t) => el('option', { value: t })));
  $('send').addEventListener('submit', async (submit) => {
    submit.preventDefault();
    const result = $('send-result');
    let payload;
    try {
      payload = JSON.parse($('send-payload').value || '{}');
    } catch (error) {
      result.textContent = `payload is not JSON: ${error.message}`;
      result.className = 'error';
      return;
    }
    const response = await fetch(api('/api/send'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: $('send-type').value.trim(), payload }),
    });
    const body = await response.json();
    result.textContent = response.ok ? `sent ${body.id}` : body.error;
    result.className = response.ok ? '' : 'error';
  });
}

globalThis.inspectorReady = start().then(() => true);
