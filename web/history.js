// The page's history views: the events timeline (each tracked object once,
// with the snapshot of its best frame) and the searchable detection log with
// its exports. Both read the query API; new events also arrive live over the
// WebSocket (see app.js), so the timeline never needs a reload.
const $ = (id) => document.getElementById(id);
const PAGE = 60;
const MAX_CARDS = 600;

/** The same colour per class id as the server's drawing (golden-angle hues). */
export function colour(classId) {
  return `hsl(${(classId * 137.508) % 360}, 80%, 55%)`;
}

function duration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The form's filters as API query parameters (empty fields left out; local times to ms). */
function filters(form) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    if (v === '') continue;
    q.set(k, k === 'since' || k === 'until' ? String(new Date(v).getTime()) : v);
  }
  return q;
}

async function get(url) {
  const res = await fetch(url);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

// ---- events timeline ----------------------------------------------------

const events = { cursor: null, cards: new Map(), filter: new URLSearchParams() };

function matches(e) {
  const camera = events.filter.get('camera');
  const label = events.filter.get('label');
  return (!camera || camera === e.camera) && (!label || label === e.label);
}

function renderEvent(e, where = 'append') {
  let card = events.cards.get(e.id);
  if (!card) {
    card = $('event-card').content.firstElementChild.cloneNode(true);
    card.dataset.id = e.id;
    events.cards.set(e.id, card);
    if (where === 'prepend') $('events').prepend(card);
    else $('events').append(card);
  }
  // A page left open all day keeps the newest cards only.
  while (events.cards.size > MAX_CARDS) {
    const oldest = $('events').lastElementChild;
    if (!oldest) break;
    events.cards.delete(oldest.dataset.id);
    oldest.remove();
  }
  card.dataset.label = e.label;
  card.dataset.ongoing = String(e.end === null);
  card.querySelector('.swatch').style.background = colour(e.classId);
  card.querySelector('.label').textContent = e.label;
  card.querySelector('.score').textContent = `${Math.round(e.maxScore * 100)}%`;
  card.querySelector('.camera').textContent = e.camera;
  const start = card.querySelector('.start');
  start.textContent = new Date(e.start).toLocaleString();
  start.dateTime = new Date(e.start).toISOString();
  card.querySelector('.duration').textContent = e.end === null ? 'in view now' : `in view ${duration(e.end - e.start)}`;
  const img = card.querySelector('img');
  if (e.snapshot) {
    const src = `api/events/${encodeURIComponent(e.id)}/snapshot.jpg?v=${encodeURIComponent(e.snapshot)}-${e.snapshotBytes}`;
    if (img.getAttribute('src') !== src) img.src = src;
    card.querySelector('.shot').href = src;
  }
  $('events-empty').hidden = events.cards.size > 0;
}

async function loadEvents(more = false) {
  const q = new URLSearchParams(events.filter);
  q.set('limit', String(PAGE));
  if (more && events.cursor) q.set('cursor', events.cursor);
  if (!more) {
    events.cards.clear();
    $('events').replaceChildren();
  }
  const body = await get(`api/events?${q}`);
  for (const e of body.events) renderEvent(e);
  events.cursor = body.nextCursor;
  $('events-more').hidden = !body.nextCursor;
  $('events-empty').hidden = events.cards.size > 0;
  $('events-count').textContent = `${events.cards.size}${body.nextCursor ? '+' : ''} events`;
}

/** A live event message: a new one goes to the top, a known one is updated in place. */
export function onEvent(message) {
  const e = message.event;
  if (!matches(e)) return;
  renderEvent(e, 'prepend');
}

// ---- detection log --------------------------------------------------------

const log = { cursor: null, filter: new URLSearchParams() };

function exportLinks() {
  for (const format of ['csv', 'jsonl']) {
    const q = new URLSearchParams(log.filter);
    q.set('format', format);
    $(`export-${format}`).href = `api/detections?${q}`;
  }
}

async function loadDetections(more = false) {
  const q = new URLSearchParams(log.filter);
  q.set('limit', '100');
  if (more && log.cursor) q.set('cursor', log.cursor);
  $('detections-error').hidden = true;
  let body;
  try {
    body = await get(`api/detections?${q}`);
  } catch (err) {
    $('detections-error').textContent = err.message;
    $('detections-error').hidden = false;
    return;
  }
  const rows = body.detections.map((d) => {
    const tr = document.createElement('tr');
    tr.dataset.label = d.label;
    const sw = Object.assign(document.createElement('span'), { className: 'swatch' });
    sw.style.background = colour(d.classId);
    const label = document.createElement('td');
    label.append(sw, ` ${d.label}`);
    const cells = [new Date(d.time).toLocaleString(), d.camera, null, `${(d.score * 100).toFixed(0)}%`, d.trackId ?? '—', d.box.map((v) => v.toFixed(3)).join(', ')];
    tr.append(...cells.map((c) => (c === null ? label : Object.assign(document.createElement('td'), { textContent: String(c) }))));
    return tr;
  });
  if (more) $('detections').append(...rows);
  else $('detections').replaceChildren(...rows);
  log.cursor = body.nextCursor;
  $('detections-more').hidden = !body.nextCursor;
  $('detections-empty').hidden = $('detections').children.length > 0;
}

// ---- wiring ---------------------------------------------------------------

export function setCameras(ids) {
  for (const select of document.querySelectorAll('.camera-select')) {
    const keep = select.value;
    select.replaceChildren(new Option('all', ''), ...ids.map((id) => new Option(id, id)));
    select.value = keep;
  }
}

/** Labels seen so far, offered as the label filter's suggestions. */
export function addLabel(label) {
  const list = $('labels');
  if (![...list.options].some((o) => o.value === label)) list.append(new Option(label, label));
}

export function showView(name) {
  for (const view of document.querySelectorAll('.view')) view.hidden = view.id !== `view-${name}`;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === name);
  if (name === 'events') loadEvents().catch((err) => { $('events-count').textContent = err.message; });
  if (name === 'detections') {
    exportLinks();
    loadDetections();
  }
}

export function initHistory() {
  $('events-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    events.filter = filters(e.target);
    loadEvents().catch((err) => { $('events-count').textContent = err.message; });
  });
  $('events-more').addEventListener('click', () => loadEvents(true).catch((err) => { $('events-count').textContent = err.message; }));
  $('detections-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    log.filter = filters(e.target);
    exportLinks();
    loadDetections();
  });
  $('detections-more').addEventListener('click', () => loadDetections(true));
  for (const label of ['person', 'car', 'bicycle', 'dog', 'cat', 'bottle']) addLabel(label);
}
