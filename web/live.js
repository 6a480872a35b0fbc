// The live view: a grid of <lookout-camera> tiles that fills the window, one
// WebSocket carrying every camera's video, detections, motion and state, and
// the running list of detections beside it. Cameras added or removed over the
// API appear and go without a reload (the list is re-read every 3 s), as do
// their zones, lines and masks (zones.js; the editor, editor.js, opens on a
// tile shown large, beside it) and what moved, when shown (motion.js).
import { isAdmin } from './account.js';
import { LoggedOut, cameraList } from './api.js';
import { byId } from './dom.js';
import { forgetCamera, setDrawnMode } from './drawn.js';
import { closeEditor, editingCamera, openEditor } from './editor.js';
import { addLabel, colour, onEvent, setCameras } from './history.js';
import { median } from './interpolate.js';
import { attachMotion, detachMotion, initMotion, onMotionMessage } from './motion.js';
import { CameraPlayer } from './player.js';
import { subscribeMessage } from './protocol.js';
import { saveSyncedMode, syncedMode } from './settings.js';
import { LiveSocket, liveUrl } from './socket.js';
import { attachTile, detachTile, initZones, onZonesMessage, showCameras as showShapes } from './zones.js';

/** @typedef {import('./protocol.js').BinaryMessage} BinaryMessage */
/** @typedef {import('./protocol.js').TextMessage} TextMessage */
/** @typedef {import('./protocol.js').DetectionsMessage} DetectionsMessage */
/** @typedef {import('./protocol.js').StatusMessage} StatusMessage */
/** @typedef {import('./protocol.js').VideoChoice} VideoChoice */

const LOG_LIMIT = 200;
const FOLLOW_MS = 3_000;
/** Tiles are laid out for pictures of this aspect, the usual camera's. */
const DEFAULT_ASPECT = 16 / 9;
const GAP = 12;
/** A tile's footer and borders (style.css). */
const FOOTER = 38;
const BORDER = 2;
/** Narrower than this, tiles stack and the page scrolls. */
const STACK_BELOW = 640;

/** @type {Map<string, CameraPlayer>} */
const players = new Map();
/** @type {string[]} */
let ids = [];
/** @type {LiveSocket | undefined} */
let socket;
/** The camera shown large, if one is. */
/** @type {string | undefined} */
let large;
let synced = syncedMode();
/** Per camera, per label: when it was last listed. */
/** @type {Map<string, Map<string, number>>} */
const lastLogged = new Map();

export async function startLive() {
  const toggle = byId('sync', HTMLInputElement);
  toggle.checked = synced;
  setDrawnMode(synced ? 'synced' : 'default');
  toggle.addEventListener('change', () => {
    synced = toggle.checked;
    saveSyncedMode(synced);
    setDrawnMode(synced ? 'synced' : 'default');
    for (const p of players.values()) p.setSynced(synced);
  });
  initZones();
  initMotion();
  wireGrid();
  const link = byId('link');
  const first = await firstCameras(link);
  showCameras(first.map((c) => c.id));
  showShapes(first, true);
  socket = new LiveSocket(liveUrl(), {
    onOpen: () => {
      link.dataset.state = 'open-link';
      link.textContent = 'live';
      subscribe();
      // What is in the zones now: the live messages only tell changes, and some may have been missed.
      cameraList().then((list) => showShapes(list, true), () => {});
    },
    onDown: (delayMs) => {
      link.dataset.state = 'down';
      link.textContent = `reconnecting in ${Math.ceil(delayMs / 1000)} s…`;
    },
    onBinary: route,
    onText: onText,
  });
  setInterval(followCameras, FOLLOW_MS);
}

/** The camera list, asked for until lookout answers (it may be starting, or the network down). */
async function firstCameras(/** @type {HTMLElement} */ link) {
  for (let delay = 1_000; ; delay = Math.min(delay * 2, 15_000)) {
    try {
      return await cameraList();
    } catch (err) {
      if (err instanceof LoggedOut) throw err;
      link.dataset.state = 'down';
      link.textContent = `lookout unreachable: ${err instanceof Error ? err.message : String(err)}`;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Tells the server which cameras to send, and how: each tile says what it
 * can play. Video nobody can see (the other cameras while one is large, or
 * every camera while the page is in a background tab) is not sent at all,
 * only its detections and state; it starts again from the newest keyframe.
 */
function subscribe() {
  /** @type {Record<string, VideoChoice>} */
  const video = {};
  for (const id of ids) {
    const seen = !document.hidden && (large === undefined || large === id);
    video[id] = seen ? players.get(id)?.videoChoice ?? 'native' : 'none';
  }
  socket?.send(subscribeMessage(ids, video));
}

/** A binary message to its camera's tile. */
function route(/** @type {BinaryMessage} */ { header, payload }) {
  const player = players.get(header.camera);
  if (!player) return;
  if (header.kind === 'init') player.onInit(header, payload);
  else if (header.kind === 'media') player.onMedia(header, payload);
  else if (header.kind === 'jpeg') player.onJpeg(header, payload);
}

function onText(/** @type {TextMessage} */ m) {
  if (m.type === 'detections') {
    players.get(m.camera)?.onDetections(m);
    logDetections(m);
  } else if (m.type === 'status') {
    players.get(m.camera)?.onStatus(m);
    showModel(m);
  } else if (m.type === 'event') onEvent(m);
  else if (m.type === 'motion') {
    players.get(m.camera)?.onMotion(m);
    onMotionMessage(m);
  }
  else if (m.type === 'analytics' || m.type === 'zone' || m.type === 'crossing') onZonesMessage(m);
  else if (m.type === 'error') console.warn(`lookout: ${m.message}`);
}

function showModel(/** @type {StatusMessage} */ s) {
  const model = byId('model');
  model.dataset.state = s.model.state;
  model.textContent = s.model.state === 'closed' ? 'model server: ready' : `model server: ${s.model.state === 'open' ? 'down' : s.model.state}`;
  model.title = s.model.lastError ?? '';
}

/** One line per label per camera while it stays in view, not one per frame. */
function logDetections(/** @type {DetectionsMessage} */ m) {
  const log = byId('log');
  const seen = lastLogged.get(m.camera) ?? new Map();
  const now = Date.now();
  for (const d of m.detections) {
    addLabel(d.label);
    // What the filters removed is drawn on the picture (marked), not listed as seen.
    if (d.filtered) continue;
    if (now - (seen.get(d.label) ?? 0) < 5_000) continue;
    seen.set(d.label, now);
    const li = document.createElement('li');
    const sw = Object.assign(document.createElement('span'), { className: 'swatch' });
    sw.style.background = colour(d.classId);
    const time = document.createElement('time');
    time.textContent = new Date(m.timestamp).toLocaleTimeString();
    const what = Object.assign(document.createElement('span'), { className: 'what' });
    what.append(Object.assign(document.createElement('b'), { textContent: d.label }), ` ${(d.score * 100).toFixed(0)}%`);
    const where = Object.assign(document.createElement('span'), { className: 'where', textContent: m.camera });
    li.append(sw, what, where, time);
    li.dataset.label = d.label;
    log.prepend(li);
  }
  lastLogged.set(m.camera, seen);
  while (log.children.length > LOG_LIMIT) log.lastElementChild?.remove();
}

// ---- cameras -------------------------------------------------------------

function showCameras(/** @type {string[]} */ list) {
  byId('empty').hidden = list.length > 0;
  setCameras(list);
  const grid = byId('grid');
  for (const id of list) {
    if (players.has(id)) continue;
    const player = /** @type {CameraPlayer} */ (document.createElement('lookout-camera'));
    player.classList.add('tile');
    player.setup(id, synced);
    player.addEventListener('videochange', subscribe);
    players.set(id, player);
    grid.append(player);
    attachTile(player);
    attachMotion(player);
    // The zone editor saves the camera's shapes (PATCH): an admin's only; a viewer's tile has no button for it.
    const edit = player.querySelector('.edit-zones');
    if (!isAdmin()) edit?.remove();
    else edit?.addEventListener('click', () => {
      showLarge(id);
      openEditor(player, () => showLarge(undefined));
    });
  }
  for (const [id, player] of players) {
    if (list.includes(id)) continue;
    player.remove();
    player.dispose();
    players.delete(id);
    forgetCamera(id);
    if (editingCamera() === id) closeEditor();
    detachTile(id);
    detachMotion(id);
    lastLogged.delete(id);
    if (large === id) showLarge(undefined);
  }
  ids = list;
  fit();
}

/** Every few seconds: a camera added or removed elsewhere appears or goes without a reload. */
async function followCameras() {
  const cameras = await cameraList().catch(() => undefined);
  if (!cameras) return;
  const list = cameras.map((c) => c.id);
  if (list.join('\n') !== ids.join('\n')) {
    showCameras(list);
    subscribe();
  }
  showShapes(cameras, false);
}

// ---- layout ----------------------------------------------------------------

function wireGrid() {
  const grid = byId('grid');
  new ResizeObserver(fit).observe(grid);
  // A camera's picture size becomes known (or changes): tiles follow its aspect.
  grid.addEventListener('aspectchange', fit);
  grid.addEventListener('click', (e) => {
    const target = e.target instanceof Element ? e.target : null;
    // The tile's footer holds its menu; a click there is not a click on the picture, nor one the editor takes.
    if (!target || target.closest('footer') || editingCamera()) return;
    const tile = target.closest('lookout-camera');
    if (tile instanceof CameraPlayer && tile.camera) showLarge(large === tile.camera ? undefined : tile.camera);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && large && !editingCamera()) showLarge(undefined);
  });
  // The pictures take the keyboard too: Enter or Space on one shows it large, or the grid again.
  grid.addEventListener('keydown', (e) => {
    const frame = e.target instanceof Element && e.target.classList.contains('frame') ? e.target.closest('lookout-camera') : null;
    if (!(frame instanceof CameraPlayer) || !frame.camera || (e.key !== 'Enter' && e.key !== ' ') || editingCamera()) return;
    e.preventDefault();
    showLarge(large === frame.camera ? undefined : frame.camera);
  });
  document.addEventListener('visibilitychange', subscribe);
}

/** One camera large, fitted to the window (the side list makes room), or all of them. */
function showLarge(/** @type {string | undefined} */ id) {
  large = id;
  document.body.classList.toggle('large', id !== undefined);
  for (const [other, player] of players) player.hidden = id !== undefined && other !== id;
  fit();
  subscribe();
}

/**
 * Columns and rows for the visible tiles, chosen so the pictures are as
 * large as the grid's area allows, and each tile sized to its picture (the
 * cameras' own aspect, 16:9 until known): the grid fills the window, with no
 * black bars of its own.
 */
function fit() {
  const grid = byId('grid');
  const visible = [...players.values()].filter((p) => !p.hidden);
  const n = visible.length;
  const width = grid.clientWidth;
  const height = grid.clientHeight;
  const aspects = visible.map((p) => p.aspect).filter((a) => a !== undefined);
  const aspect = aspects.length ? median(aspects) : DEFAULT_ASPECT;
  grid.style.setProperty('--aspect', String(aspect));
  const stack = width < STACK_BELOW || n === 0;
  grid.classList.toggle('stack', stack);
  if (stack) {
    grid.style.gridTemplateColumns = '';
    grid.style.gridTemplateRows = '';
    return;
  }
  let best = { cols: 1, rows: n, picture: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const w = (width - GAP * (cols - 1)) / cols - BORDER;
    const h = (height - GAP * (rows - 1)) / rows - FOOTER - BORDER;
    const picture = Math.min(w, h * aspect); // the picture's width in a tile of this size
    if (picture > best.picture) best = { cols, rows, picture };
  }
  const tileW = Math.floor(best.picture + BORDER);
  const tileH = Math.floor(best.picture / aspect + FOOTER + BORDER);
  grid.style.gridTemplateColumns = `repeat(${best.cols}, ${tileW}px)`;
  grid.style.gridTemplateRows = `repeat(${best.rows}, ${tileH}px)`;
}
