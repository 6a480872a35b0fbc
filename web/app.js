// lookout's page: a grid of live cameras with their boxes (drawn by the
// server, one JPEG per frame over the WebSocket), camera and model state, and
// a running list of detections; the events timeline and the detection log
// are in history.js. Plain ES modules, no build step.
import { addLabel, colour, initHistory, onEvent, setCameras, showView } from './history.js';

const $ = (id) => document.getElementById(id);
const tiles = new Map();
const LOG_LIMIT = 200;
let lastLogged = new Map();

function tile(id) {
  let t = tiles.get(id);
  if (t) return t;
  const node = $('tile').content.firstElementChild.cloneNode(true);
  node.dataset.camera = id;
  node.querySelector('.name').textContent = id;
  node.addEventListener('click', () => {
    // Click a camera to see it large; click again for the grid.
    const grid = $('grid');
    const single = !grid.classList.contains('single');
    grid.classList.toggle('single', single);
    for (const [other, o] of tiles) o.node.hidden = single && other !== id;
  });
  $('grid').append(node);
  t = { node, img: node.querySelector('img'), url: undefined, frames: 0 };
  tiles.set(id, t);
  return t;
}

function showFrame(data) {
  const view = new DataView(data);
  const n = view.getUint32(0);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(data, 4, n)));
  const t = tile(header.camera);
  const url = URL.createObjectURL(new Blob([new Uint8Array(data, 4 + n)], { type: 'image/jpeg' }));
  t.img.onload = () => {
    if (t.url) URL.revokeObjectURL(t.url);
    t.url = url;
  };
  t.img.src = url;
  t.frames++;
  t.node.querySelector('.overlay-state').textContent = header.boxAgeMs == null ? '' : `boxes ${header.boxAgeMs} ms old`;
}

function showStatus(s) {
  const t = tile(s.camera);
  const state = t.node.querySelector('.state');
  state.dataset.state = s.state;
  state.textContent = s.state;
  state.title = s.lastError ?? '';
  const drops = Object.values(s.dropped ?? {}).reduce((a, b) => a + b, 0);
  const latency = s.latencyMs?.p50 != null ? `${s.latencyMs.p50} ms` : '—';
  t.node.querySelector('.stats').textContent = `${s.fps.live} fps · detect ${s.fps.detect} fps · inference ${latency} · drops ${drops}`;
  if (s.state !== 'streaming' && s.lastError) t.node.querySelector('.overlay-state').textContent = s.lastError;
  const model = $('model');
  model.dataset.state = s.model.state;
  model.textContent = s.model.state === 'closed' ? 'model server: ready' : `model server: ${s.model.state === 'open' ? 'down' : s.model.state}`;
  model.title = s.model.lastError ?? '';
}

function logDetections(m) {
  // One line per label per camera while it stays in view, not one per frame.
  const seen = lastLogged.get(m.camera) ?? new Map();
  const now = Date.now();
  for (const d of m.detections) {
    addLabel(d.label);
    if (now - (seen.get(d.label) ?? 0) < 5_000) continue;
    seen.set(d.label, now);
    const li = document.createElement('li');
    const sw = Object.assign(document.createElement('span'), { className: 'swatch' });
    sw.style.background = colour(d.classId);
    const time = document.createElement('time');
    time.textContent = new Date(m.timestamp).toLocaleTimeString();
    li.append(time, sw, `${m.camera}: ${d.label} ${(d.score * 100).toFixed(0)}%`);
    li.dataset.label = d.label;
    $('log').prepend(li);
  }
  lastLogged.set(m.camera, seen);
  while ($('log').children.length > LOG_LIMIT) $('log').lastElementChild.remove();
}

/** The cameras the page shows; kept in step with the server (cameras added or removed over REST). */
let cameraIds = [];
let socket;

async function fetchCameras() {
  const res = await fetch('api/cameras');
  // A token is set and this browser has no session (or it expired): log in.
  if (res.status === 401) {
    location.href = 'login';
    return undefined;
  }
  return (await res.json()).cameras.map((c) => c.id);
}

function showCameras(ids) {
  $('empty').hidden = ids.length > 0;
  setCameras(ids);
  for (const id of ids) tile(id);
  for (const [id, t] of tiles) {
    if (ids.includes(id)) continue;
    if (t.url) URL.revokeObjectURL(t.url);
    t.node.remove();
    tiles.delete(id);
  }
  cameraIds = ids;
}

/** Every few seconds: a camera added or removed elsewhere appears or goes without a reload. */
async function followCameras() {
  const ids = await fetchCameras().catch(() => undefined);
  if (!ids || ids.join('\n') === cameraIds.join('\n')) return;
  showCameras(ids);
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'subscribe', cameras: ids }));
}

async function start() {
  initHistory();
  const route = () => showView(['events', 'detections'].includes(location.hash.slice(1)) ? location.hash.slice(1) : 'live');
  window.addEventListener('hashchange', route);
  route();
  const ids = await fetchCameras();
  if (!ids) return;
  showCameras(ids);
  connect();
  setInterval(followCameras, 3_000);
}

function connect() {
  const url = new URL('ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const id of cameraIds) url.searchParams.append('camera', id);
  const ws = new WebSocket(url);
  socket = ws;
  ws.binaryType = 'arraybuffer';
  const link = $('link');
  ws.onopen = () => { link.dataset.state = 'open-link'; link.textContent = 'live'; };
  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return showFrame(e.data);
    const m = JSON.parse(e.data);
    if (m.type === 'status') showStatus(m);
    else if (m.type === 'detections') logDetections(m);
    else if (m.type === 'event') onEvent(m);
  };
  ws.onclose = () => {
    link.dataset.state = 'down';
    link.textContent = 'reconnecting…';
    setTimeout(connect, 2_000);
  };
}

start().catch((err) => {
  $('link').dataset.state = 'down';
  $('link').textContent = `lookout unreachable: ${err.message}`;
});
