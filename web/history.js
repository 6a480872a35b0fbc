// The page's history views: the events timeline (each tracked object once,
// with the snapshot of its best frame) and the searchable detection log with
// its exports. Both read the query API; new events also arrive live over the
// WebSocket (see live.js), so the timeline never needs a reload. A card plays
// its event's recorded clip (viewer.js).
import { getJson } from './api.js';
import { byId as $ } from './dom.js';
import { showEventClip } from './viewer.js';

/** @typedef {import('./protocol.js').EventRecord} EventRecord */
/** @typedef {import('./protocol.js').EventMessage} EventMessage */
/** @typedef {import('./protocol.js').Box} Box */

/**
 * A row of the detection log as /api/detections gives it.
 * @typedef {object} DetectionRow
 * @property {number} time
 * @property {string} camera
 * @property {string} label
 * @property {number} classId
 * @property {number} score
 * @property {number | null} trackId
 * @property {Box} box
 */

/** @typedef {{ events: EventRecord[], nextCursor: string | null }} EventsPage */
/** @typedef {{ detections: DetectionRow[], nextCursor: string | null }} DetectionsPage */
const PAGE = 60;
const MAX_CARDS = 600;

/** The same colour per class id as the server's drawing (golden-angle hues). */
export function colour(/** @type {number} */ classId) {
  return `hsl(${(classId * 137.508) % 360}, 80%, 55%)`;
}

function duration(/** @type {number} */ ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The form's filters as API query parameters (empty fields left out; local times to ms). */
function filters(/** @type {HTMLFormElement} */ form) {
  const q = new URLSearchParams();
  for (const [k, entry] of new FormData(form)) {
    const v = String(entry);
    if (v === '') continue;
    q.set(k, k === 'since' || k === 'until' ? String(new Date(v).getTime()) : v);
  }
  return q;
}

/** A clone of a <template>'s first element. */
function fromTemplate(/** @type {string} */ id) {
  return /** @type {HTMLElement} */ ($(id, HTMLTemplateElement).content.firstElementChild?.cloneNode(true));
}

/**
 * The element under `root` matching `selector`, as a `type`.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} type
 * @returns {T}
 */
function find(root, selector, type) {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`no ${selector} in the card`);
  return el;
}

const errorText = (/** @type {unknown} */ err) => (err instanceof Error ? err.message : String(err));

// ---- events timeline ----------------------------------------------------

/** @type {{ cursor: string | null, cards: Map<string, HTMLElement>, records: WeakMap<HTMLElement, EventRecord>, filter: URLSearchParams }} */
const events = { cursor: null, cards: new Map(), records: new WeakMap(), filter: new URLSearchParams() };

function matches(/** @type {EventRecord} */ e) {
  const camera = events.filter.get('camera');
  const label = events.filter.get('label');
  return (!camera || camera === e.camera) && (!label || label === e.label);
}

function renderEvent(/** @type {EventRecord} */ e, where = 'append') {
  let card = events.cards.get(e.id);
  if (!card) {
    card = fromTemplate('event-card');
    card.dataset.id = e.id;
    events.cards.set(e.id, card);
    if (where === 'prepend') $('events').prepend(card);
    else $('events').append(card);
  }
  // A page left open all day keeps the newest cards only.
  while (events.cards.size > MAX_CARDS) {
    const oldest = $('events').lastElementChild;
    if (!(oldest instanceof HTMLElement)) break;
    events.cards.delete(oldest.dataset.id ?? '');
    oldest.remove();
  }
  events.records.set(card, e);
  card.dataset.label = e.label;
  card.dataset.ongoing = String(e.end === null);
  find(card, '.swatch', HTMLElement).style.background = colour(e.classId);
  find(card, '.label', HTMLElement).textContent = e.label;
  find(card, '.score', HTMLElement).textContent = `${Math.round(e.maxScore * 100)}%`;
  find(card, '.camera', HTMLElement).textContent = e.camera;
  const start = find(card, '.start', HTMLTimeElement);
  start.textContent = new Date(e.start).toLocaleString();
  start.dateTime = new Date(e.start).toISOString();
  const zones = e.zones?.length ? ` · in ${e.zones.join(', ')}` : '';
  find(card, '.duration', HTMLElement).textContent = `${e.end === null ? 'in view now' : `in view ${duration(e.end - e.start)}`}${zones}`;
  const img = find(card, 'img', HTMLImageElement);
  if (e.snapshot) {
    const src = `api/events/${encodeURIComponent(e.id)}/snapshot.jpg?v=${encodeURIComponent(e.snapshot)}-${e.snapshotBytes}`;
    if (img.getAttribute('src') !== src) img.src = src;
    find(card, '.shot', HTMLAnchorElement).href = src;
  }
  find(card, '.play', HTMLButtonElement).title = `Play the recording of this ${e.label}`;
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
  /** @type {EventsPage} */
  const body = await getJson(`api/events?${q}`);
  for (const e of body.events) renderEvent(e);
  events.cursor = body.nextCursor;
  $('events-more').hidden = !body.nextCursor;
  $('events-empty').hidden = events.cards.size > 0;
  $('events-count').textContent = `${events.cards.size}${body.nextCursor ? '+' : ''} events`;
}

/** A live event message: a new one goes to the top, a known one is updated in place. */
export function onEvent(/** @type {EventMessage} */ message) {
  const e = message.event;
  if (!matches(e)) return;
  renderEvent(e, 'prepend');
}

// ---- detection log --------------------------------------------------------

/** @type {{ cursor: string | null, filter: URLSearchParams }} */
const log = { cursor: null, filter: new URLSearchParams() };

function exportLinks() {
  for (const format of ['csv', 'jsonl']) {
    const q = new URLSearchParams(log.filter);
    q.set('format', format);
    $(`export-${format}`, HTMLAnchorElement).href = `api/detections?${q}`;
  }
}

async function loadDetections(more = false) {
  const q = new URLSearchParams(log.filter);
  q.set('limit', '100');
  if (more && log.cursor) q.set('cursor', log.cursor);
  $('detections-error').hidden = true;
  /** @type {DetectionsPage} */
  let body;
  try {
    body = await getJson(`api/detections?${q}`);
  } catch (err) {
    $('detections-error').textContent = errorText(err);
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

export function setCameras(/** @type {string[]} */ ids) {
  for (const select of document.querySelectorAll('select.camera-select')) {
    if (!(select instanceof HTMLSelectElement)) continue;
    const keep = select.value;
    select.replaceChildren(new Option('all', ''), ...ids.map((id) => new Option(id, id)));
    select.value = keep;
  }
}

/** Labels seen so far, offered as the label filter's suggestions. */
export function addLabel(/** @type {string} */ label) {
  const list = $('labels', HTMLDataListElement);
  if (![...list.options].some((o) => o.value === label)) list.append(new Option(label, label));
}

export function showView(/** @type {string} */ name) {
  for (const view of document.querySelectorAll('.view')) if (view instanceof HTMLElement) view.hidden = view.id !== `view-${name}`;
  for (const a of document.querySelectorAll('#nav a')) if (a instanceof HTMLElement) a.classList.toggle('active', a.dataset.view === name);
  if (name === 'events') loadEvents().catch((err) => { $('events-count').textContent = errorText(err); });
  if (name === 'detections') {
    exportLinks();
    loadDetections();
  }
}

export function initHistory() {
  const eventsForm = $('events-filter', HTMLFormElement);
  eventsForm.addEventListener('submit', (e) => {
    e.preventDefault();
    events.filter = filters(eventsForm);
    loadEvents().catch((err) => { $('events-count').textContent = errorText(err); });
  });
  // The snapshot or the play button opens the event's clip; a middle or modified click still opens the JPEG.
  $('events').addEventListener('click', (ev) => {
    const target = ev.target instanceof Element ? ev.target : null;
    const card = target?.closest('.event');
    if (!(card instanceof HTMLElement) || !target?.closest('.shot, .play') || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    const e = events.records.get(card);
    if (!e) return;
    ev.preventDefault();
    showEventClip(e);
  });
  $('events-more').addEventListener('click', () => loadEvents(true).catch((err) => { $('events-count').textContent = errorText(err); }));
  const detectionsForm = $('detections-filter', HTMLFormElement);
  detectionsForm.addEventListener('submit', (e) => {
    e.preventDefault();
    log.filter = filters(detectionsForm);
    exportLinks();
    loadDetections();
  });
  $('detections-more').addEventListener('click', () => loadDetections(true));
  for (const label of ['person', 'car', 'bicycle', 'dog', 'cat', 'bottle']) addLabel(label);
}
