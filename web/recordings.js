// The recordings view: per camera, a timeline of what is recorded (spans;
// the holes between them are hatched) and the events on it, all cameras on
// one time axis so they line up. The last 1 h, 6 h or 24 h, following now;
// the wheel zooms around the pointer and a drag moves along. A click plays
// the recording from that moment (or from the next span, a click just beside
// one), a click on an event plays the event's clip (viewer.js). Read again
// every 15 s while it is shown and follows now.
import { getJson } from './api.js';
import { byId } from './dom.js';
import { colour } from './history.js';
import { showClip, showEventClip, wallClock } from './viewer.js';

/** @typedef {import('./protocol.js').EventRecord} EventRecord */
/** @typedef {{ camera: string, start: number, end: number }} Span */
/**
 * @typedef {object} RecordingsPage the answer of GET /api/recordings (docs/recordings.md)
 * @property {{ id: number, camera: string, start: number, end: number }[]} segments
 * @property {Span[]} spans
 * @property {Span[]} gaps
 * @property {boolean} truncated
 */
/** @typedef {{ id: string, recording?: { mode: string, state: string, reason?: string | null } }} CameraInfo */
/** @typedef {{ spans: Span[], events: EventRecord[], error?: string }} Row */

const HOUR = 3_600_000;
const MIN_WINDOW = 2 * 60_000;
const MAX_WINDOW = 7 * 24 * HOUR;
/** A clip from a click plays this long at most (or to the end of its span). */
const CLIP_MS = 10 * 60_000;
/** A click this close to a span (in pixels) plays from its edge. */
const SNAP_PX = 8;
const REFRESH_MS = 15_000;
const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * 60_000);

const view = {
  from: Date.now() - HOUR,
  to: Date.now(),
  /** The window ends at now and moves with it. */
  follow: true,
  /** @type {CameraInfo[]} */ cameras: [],
  /** @type {Map<string, Row>} */ rows: new Map(),
  visible: false,
  loads: 0,
};
/** @type {ReturnType<typeof setTimeout> | undefined} */
let loadTimer;

/** The spans of a camera in the window, following the pages when there are more segments than one answer holds. */
async function spansOf(/** @type {string} */ camera, /** @type {number} */ since, /** @type {number} */ until) {
  /** @type {Span[]} */
  const spans = [];
  for (let page = 0, from = since; page < 10; page++) {
    const q = new URLSearchParams({ camera, since: String(Math.round(from)), until: String(Math.round(until)), limit: '10000' });
    /** @type {RecordingsPage} */
    const body = await getJson(`api/recordings?${q}`);
    for (const s of body.spans) {
      const last = spans[spans.length - 1];
      // Pages meet where one ends: a span cut there is one span.
      if (last && s.start - last.end < 1_000) last.end = Math.max(last.end, s.end);
      else spans.push({ ...s });
    }
    const lastSegment = body.segments[body.segments.length - 1];
    if (!body.truncated || !lastSegment || lastSegment.end <= from) break;
    from = lastSegment.end;
  }
  return spans;
}

async function eventsOf(/** @type {string} */ camera, /** @type {number} */ since, /** @type {number} */ until) {
  const q = new URLSearchParams({ camera, since: String(Math.round(since)), until: String(Math.round(until)), limit: '2000' });
  /** @type {{ events: EventRecord[] }} */
  const body = await getJson(`api/events?${q}`);
  return body.events;
}

async function load() {
  const load = ++view.loads;
  /** @type {{ cameras: CameraInfo[] }} */
  const body = await getJson('api/cameras');
  if (load !== view.loads) return;
  view.cameras = body.cameras;
  const { from, to } = view;
  await Promise.all(view.cameras.map(async ({ id }) => {
    /** @type {Row} */
    let row;
    try {
      const [spans, events] = await Promise.all([spansOf(id, from, to), eventsOf(id, from, to)]);
      row = { spans, events };
    } catch (err) {
      row = { spans: view.rows.get(id)?.spans ?? [], events: view.rows.get(id)?.events ?? [], error: err instanceof Error ? err.message : String(err) };
    }
    if (load === view.loads) view.rows.set(id, row);
  }));
  if (load === view.loads) render();
}

/** Loads the window's data soon (once, however many moves of the window come first); draws what is known now. */
function reload(delayMs = 150) {
  render();
  clearTimeout(loadTimer);
  loadTimer = setTimeout(() => load().catch((err) => { byId('rec-error').textContent = String(err instanceof Error ? err.message : err); }), delayMs);
}

/** A time's place along a track, 0–100 %. */
const at = (/** @type {number} */ t) => ((t - view.from) / (view.to - view.from)) * 100;

function render() {
  byId('rec-window').textContent = `${wallClock(view.from, true)} – ${view.follow ? 'now' : wallClock(view.to, true)}`;
  for (const b of document.querySelectorAll('#rec-ranges button')) {
    if (b instanceof HTMLElement) b.classList.toggle('active', view.follow && Number(b.dataset.range) === Math.round((view.to - view.from) / HOUR) * HOUR);
  }
  renderAxis();
  const list = byId('rec-cameras');
  byId('rec-empty').hidden = view.cameras.length > 0;
  const rows = view.cameras.map((c) => {
    const found = list.querySelector(`.rec-row[data-camera="${CSS.escape(c.id)}"]`);
    const el = found instanceof HTMLElement ? found : newRow(c.id);
    renderRow(el, c, view.rows.get(c.id));
    return el;
  });
  list.replaceChildren(...rows);
}

function newRow(/** @type {string} */ camera) {
  const row = Object.assign(document.createElement('section'), { className: 'rec-row' });
  row.dataset.camera = camera;
  const name = Object.assign(document.createElement('div'), { className: 'rec-name' });
  name.append(Object.assign(document.createElement('b'), { textContent: camera }), Object.assign(document.createElement('span'), { className: 'rec-mode hint' }));
  const track = Object.assign(document.createElement('div'), { className: 'rec-track', tabIndex: 0 });
  track.setAttribute('aria-label', `${camera}: recordings; click a moment to play it`);
  const lane = Object.assign(document.createElement('div'), { className: 'rec-lane' });
  const cursor = Object.assign(document.createElement('div'), { className: 'rec-cursor', hidden: true });
  const note = Object.assign(document.createElement('div'), { className: 'rec-note', hidden: true });
  track.append(lane, cursor, note);
  row.append(name, track);
  wireTrack(track, camera);
  return row;
}

function renderRow(/** @type {HTMLElement} */ row, /** @type {CameraInfo} */ camera, /** @type {Row | undefined} */ data) {
  const rec = camera.recording;
  const mode = /** @type {HTMLElement} */ (row.querySelector('.rec-mode'));
  mode.textContent = !rec ? '' : rec.state === 'paused' ? `paused: ${rec.reason ?? ''}` : rec.mode === 'off' ? 'not recording' : `${rec.mode === 'continuous' ? 'continuous' : 'events only'} · ${rec.state}`;
  mode.dataset.state = rec?.state ?? '';
  const lane = /** @type {HTMLElement} */ (row.querySelector('.rec-lane'));
  if (!data) return;
  const inView = (/** @type {number} */ a, /** @type {number} */ b) => b > view.from && a < view.to;
  const spans = data.spans.filter((s) => inView(s.start, s.end)).map((s) => {
    const el = Object.assign(document.createElement('div'), { className: 'rec-span' });
    Object.assign(el.style, { left: `${Math.max(0, at(s.start))}%`, width: `${Math.min(100, at(s.end)) - Math.max(0, at(s.start))}%` });
    return el;
  });
  const events = data.events.filter((e) => inView(e.start, e.end ?? Date.now())).map((e) => {
    const el = Object.assign(document.createElement('button'), { type: 'button', className: 'rec-event' });
    el.dataset.eventId = e.id;
    el.dataset.label = e.label;
    el.title = `${e.label} ${Math.round(e.maxScore * 100)}% · ${wallClock(e.start, true)}${e.end === null ? ' · in view now' : ''}`;
    el.style.left = `${Math.max(0, at(e.start))}%`;
    el.style.width = `${Math.max(0, Math.min(100, at(e.end ?? Date.now())) - Math.max(0, at(e.start)))}%`;
    el.style.background = colour(e.classId);
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      showEventClip(e);
    });
    return el;
  });
  lane.replaceChildren(...spans, ...events);
  row.dataset.spans = String(spans.length);
  row.dataset.events = String(events.length);
  row.title = data.error ? `Could not read the recordings: ${data.error}` : '';
  row.classList.toggle('failed', Boolean(data.error));
}

/** Ticks along the top: a step that leaves labels ~90 px apart, on round local times. */
function renderAxis() {
  const axis = byId('rec-axis');
  const width = Math.max(1, axis.clientWidth);
  const span = view.to - view.from;
  const step = TICK_STEPS.find((s) => (s / span) * width >= 90) ?? 24 * HOUR;
  const offset = new Date().getTimezoneOffset() * 60_000;
  const first = Math.ceil((view.from - offset) / step) * step + offset;
  const ticks = [];
  for (let t = first; t < view.to; t += step) {
    // A label cut by the track's ends says nothing: left out.
    const x = (at(t) / 100) * width;
    if (x < 30 || x > width - 30) continue;
    const d = new Date(t);
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    const text = midnight ? d.toLocaleDateString(undefined, { weekday: 'short', month: 'short', day: 'numeric' }) : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    const el = Object.assign(document.createElement('span'), { className: midnight ? 'tick day' : 'tick', textContent: text });
    el.style.left = `${at(t)}%`;
    ticks.push(el);
  }
  axis.replaceChildren(...ticks);
}

/** The time under the pointer on a track. */
function timeAt(/** @type {HTMLElement} */ track, /** @type {number} */ clientX) {
  const rect = track.getBoundingClientRect();
  return view.from + ((clientX - rect.left) / rect.width) * (view.to - view.from);
}

function wireTrack(/** @type {HTMLElement} */ track, /** @type {string} */ camera) {
  const cursor = /** @type {HTMLElement} */ (track.querySelector('.rec-cursor'));
  /** @type {{ x: number, from: number, to: number, moved: boolean } | undefined} */
  let drag;
  track.addEventListener('pointermove', (e) => {
    const t = timeAt(track, e.clientX);
    cursor.hidden = false;
    cursor.style.left = `${at(t)}%`;
    // Its time beside it, on the left near the right end (where there is no room on the right).
    cursor.classList.toggle('flip', at(t) > 88);
    cursor.replaceChildren(Object.assign(document.createElement('span'), { textContent: wallClock(t) }));
    if (!drag) return;
    const dx = e.clientX - drag.x;
    if (Math.abs(dx) > 4) drag.moved = true;
    if (!drag.moved) return;
    const shift = (-dx / track.clientWidth) * (drag.to - drag.from);
    const now = Date.now();
    const to = Math.min(now, drag.to + shift);
    setWindow(to - (drag.to - drag.from), to, false);
  });
  track.addEventListener('pointerleave', () => { cursor.hidden = true; });
  track.addEventListener('pointerdown', (e) => {
    if (e.button !== 0 || (e.target instanceof Element && e.target.closest('.rec-event'))) return;
    track.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, from: view.from, to: view.to, moved: false };
  });
  track.addEventListener('pointerup', (e) => {
    const was = drag;
    drag = undefined;
    if (was && !was.moved) playAt(camera, timeAt(track, e.clientX), track);
  });
  track.addEventListener('wheel', (e) => {
    e.preventDefault();
    const t = timeAt(track, e.clientX);
    const factor = Math.pow(1.0015, e.deltaY);
    const span = Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, (view.to - view.from) * factor));
    const f = (t - view.from) / (view.to - view.from);
    const now = Date.now();
    const to = Math.min(now, t + (1 - f) * span);
    setWindow(to - span, to, false);
  }, { passive: false });
  track.addEventListener('keydown', (e) => {
    const span = view.to - view.from;
    if (e.key === 'ArrowLeft') setWindow(view.from - span / 4, view.to - span / 4, false);
    else if (e.key === 'ArrowRight') {
      const to = Math.min(Date.now(), view.to + span / 4);
      setWindow(to - span, to, false);
    } else return;
    e.preventDefault();
  });
}

/** Shows [from, to); one that ends within a pixel or two of now follows now. */
function setWindow(/** @type {number} */ from, /** @type {number} */ to, /** @type {boolean} */ follow) {
  const now = Date.now();
  const near = Math.max(1_000, (to - from) / 500);
  view.follow = follow || to >= now - near;
  view.to = view.follow ? now : to;
  view.from = view.to - (to - from);
  reload();
}

/** Plays the camera's recording from time t: in a span, from there; beside one, from its edge; else says so. */
function playAt(/** @type {string} */ camera, /** @type {number} */ t, /** @type {HTMLElement} */ track) {
  const spans = view.rows.get(camera)?.spans ?? [];
  const snap = (SNAP_PX / track.clientWidth) * (view.to - view.from);
  const span = spans.find((s) => t >= s.start && t < s.end) ?? spans.find((s) => t >= s.start - snap && t < s.end + snap);
  if (!span) {
    const note = /** @type {HTMLElement} */ (track.querySelector('.rec-note'));
    note.textContent = `Nothing recorded at ${wallClock(t)}`;
    note.style.left = `${at(t)}%`;
    note.hidden = false;
    setTimeout(() => { note.hidden = true; }, 2_500);
    return;
  }
  const since = Math.round(Math.min(Math.max(t, span.start), span.end - 1_000));
  const until = Math.round(Math.min(span.end, since + CLIP_MS));
  const q = new URLSearchParams({ since: String(since), until: String(until) });
  showClip({
    camera,
    url: `api/recordings/${encodeURIComponent(camera)}/clip.mp4?${q}`,
    title: camera,
    subtitle: `recorded ${wallClock(since, true)} – ${wallClock(until)}`,
    startAt: since,
    lengthS: (until - since) / 1000,
  });
}

/** The view is shown or hidden: it follows now only while it is seen. */
export function showRecordings(/** @type {boolean} */ visible) {
  view.visible = visible;
  if (!visible) return;
  if (view.follow) {
    const span = view.to - view.from;
    view.to = Date.now();
    view.from = view.to - span;
  }
  reload(0);
}

export function initRecordings() {
  byId('rec-ranges').addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button') : null;
    if (!(b instanceof HTMLElement) || !b.dataset.range) return;
    const now = Date.now();
    setWindow(now - Number(b.dataset.range), now, true);
  });
  new ResizeObserver(() => renderAxis()).observe(byId('rec-axis'));
  setInterval(() => {
    if (!view.visible || !view.follow || document.hidden) return;
    const span = view.to - view.from;
    view.to = Date.now();
    view.from = view.to - span;
    reload(0);
  }, REFRESH_MS);
}
