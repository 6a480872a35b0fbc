// The zone editor: over one camera's live picture (shown large), a surface
// that takes clicks. Pick Zone, Line or Mask in the panel and click points on
// the picture: a line takes two clicks; a polygon closes on a click on its
// first point or Enter (Backspace takes a point back, Escape cancels). Then
// the panel's form names it and Save sends the camera's whole list with it
// (PATCH); the answer's shapes are drawn at once. A click on a shape picks it
// to drag its points or change its settings. The server checks every shape:
// its refusal (a polygon crossing itself, a name taken) is shown as it says.
import { Refused, patchCamera } from './api.js';
import { EditorPanel } from './editor-panel.js';
import { PictureGeometry } from './editor-hit.js';
import { applyCamera, layerOf, onShapesChanged, zonesLog } from './zones.js';

/** @typedef {import('./player.js').CameraPlayer} CameraPlayer */
/** @typedef {import('./shapes.js').ShapeLayer} ShapeLayer */
/** @typedef {import('./protocol.js').Point} Point */
/** @typedef {'zone' | 'line' | 'mask'} Kind */

const LIST = { zone: /** @type {const} */ ('zones'), line: /** @type {const} */ ('lines'), mask: /** @type {const} */ ('masks') };

/**
 * @typedef {object} Session
 * @property {CameraPlayer} player
 * @property {string} camera
 * @property {ShapeLayer} layer
 * @property {HTMLElement} surface
 * @property {PictureGeometry} geo where on the picture the pointer is
 * @property {() => void} onClose
 * @property {() => void} unlisten
 * @property {'idle' | 'drawing' | 'form'} mode
 * @property {Kind} kind
 * @property {number | null} index the shape changed (null: a new one)
 * @property {Point[]} points
 * @property {Point | null} cursor
 * @property {number | null} drag the point being dragged
 * @property {number | null} hover the point under the pointer
 * @property {boolean} over the pointer is over a shape it could pick
 * @property {boolean} busy
 */

/** @type {Session | null} */
let session = null;
/** @type {EditorPanel | undefined} */
let panel;

/** The camera being edited, if one is. */
export function editingCamera() {
  return session?.camera;
}

/** Opens the editor on a tile (live.js shows it large first); onClose is called when it closes. */
export function openEditor(/** @type {CameraPlayer} */ player, /** @type {() => void} */ onClose) {
  if (session) closeEditor();
  const camera = /** @type {string} */ (player.camera);
  const layer = layerOf(camera);
  const frame = player.querySelector('.frame');
  if (!layer || !(frame instanceof HTMLElement)) return;
  panel ??= new EditorPanel({ tool: startDrawing, finish, undo, cancel, save, swap, select, remove, done: closeEditor });
  const surface = Object.assign(document.createElement('div'), { className: 'edit-surface' });
  frame.append(surface);
  surface.addEventListener('pointerdown', down);
  surface.addEventListener('pointermove', move);
  surface.addEventListener('pointerup', up);
  surface.addEventListener('pointerleave', () => set({ cursor: null, hover: null }));
  document.addEventListener('keydown', keys);
  const unlisten = onShapesChanged((id) => {
    if (id === camera) render();
  });
  const geo = new PictureGeometry(surface, layer);
  session = { player, camera, layer, surface, geo, onClose, unlisten, mode: 'idle', kind: 'zone', index: null, points: [], cursor: null, drag: null, hover: null, over: false, busy: false };
  document.body.classList.add('editing');
  panel.show(camera);
  render();
}

export function closeEditor() {
  const s = session;
  if (!s) return;
  session = null;
  s.surface.remove();
  s.unlisten();
  document.removeEventListener('keydown', keys);
  s.layer.setEdit(false, null);
  document.body.classList.remove('editing');
  panel?.hide();
  zonesLog.editor = null;
  s.onClose();
}

/** Changes the session and redraws. @param {Partial<Session>} change */
function set(change) {
  if (!session) return;
  Object.assign(session, change);
  render();
}

function render() {
  const s = session;
  if (!s || !panel) return;
  const shapes = s.layer.shapes;
  const drawing = s.mode === 'drawing';
  const nearFirst = drawing && s.kind !== 'line' && s.points.length >= 3 && s.hover === 0;
  const old = s.index === null ? undefined : shapes[LIST[s.kind]][s.index];
  const label = old === undefined ? `new ${s.kind}` : Array.isArray(old) ? `mask ${(s.index ?? 0) + 1}` : old.name;
  s.layer.setEdit(true, s.mode === 'idle' ? null : { kind: s.kind, points: s.points, closed: s.mode === 'form', cursor: drawing ? s.cursor : null, nearFirst, hover: s.hover, replaces: s.index, label });
  panel.render({ mode: s.mode, kind: s.kind, index: s.index, points: s.points.length, busy: s.busy, shapes, analytics: s.layer.analytics });
  s.surface.dataset.mode = s.drag !== null ? 'dragging' : s.hover !== null && (!drawing || nearFirst) ? 'point' : drawing ? 'drawing' : s.over ? 'pick' : 'idle';
  zonesLog.editor = { camera: s.camera, mode: s.mode, kind: s.kind, points: s.points.map((p) => [p[0], p[1]]), error: panel.errorText };
}

// ---- the pointer on the picture ---------------------------------------------

/** Whether a click on a shape picks it: not while drawing, nor over a new shape not saved yet. */
function canPick(/** @type {Session} */ s) {
  return s.mode === 'idle' || (s.mode === 'form' && s.index !== null);
}

function down(/** @type {PointerEvent} */ e) {
  const s = session;
  if (!s || e.button !== 0 || s.busy) return;
  const p = s.geo.pointAt(e);
  if (!p) return;
  e.preventDefault();
  if (s.mode === 'drawing') {
    if (s.kind !== 'line' && s.points.length >= 3 && s.geo.near([s.points[0]], p) === 0) return finish();
    set({ points: [...s.points, p], cursor: p });
    if (s.kind === 'line' && s.points.length === 2) finish();
    return;
  }
  const near = s.mode === 'form' ? s.geo.near(s.points, p) : null;
  if (near !== null) {
    s.surface.setPointerCapture(e.pointerId);
    return set({ drag: near, hover: near });
  }
  const hit = canPick(s) ? s.geo.shapeAt(p) : null;
  if (hit) select(...hit);
}

function move(/** @type {PointerEvent} */ e) {
  const s = session;
  if (!s) return;
  const p = s.geo.pointAt(e);
  if (s.drag !== null && p) {
    const points = s.points.map((q, i) => (i === s.drag ? p : q));
    return set({ points });
  }
  set({ cursor: p, hover: p && s.mode !== 'idle' ? s.geo.near(s.points, p) : null, over: p !== null && canPick(s) && s.geo.shapeAt(p) !== null });
}

function up() {
  if (session?.drag !== null) set({ drag: null });
}

function keys(/** @type {KeyboardEvent} */ e) {
  const s = session;
  if (!s) return;
  const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
  if (e.key === 'Escape') {
    e.preventDefault();
    if (s.mode === 'idle') closeEditor();
    else cancel();
  } else if (typing || s.mode !== 'drawing') {
    // Keys in the form are the form's (Enter there saves).
  } else if (e.key === 'Enter') {
    e.preventDefault();
    finish();
  } else if (e.key === 'Backspace' || e.key === 'Delete') {
    e.preventDefault();
    undo();
  }
}

// ---- what the panel asks for --------------------------------------------------

function startDrawing(/** @type {Kind} */ kind) {
  panel?.error('');
  panel?.saved('');
  set({ mode: 'drawing', kind, index: null, points: [], drag: null, hover: null });
}

/** The drawn shape is complete (a polygon of 3 points at least, a line of 2): on to its form. */
function finish() {
  const s = session;
  if (!s || s.mode !== 'drawing' || s.points.length < (s.kind === 'line' ? 2 : 3)) return;
  set({ mode: 'form', cursor: null, hover: null });
  panel?.openForm(s.kind, undefined, freeName(s, s.kind), null);
}

function undo() {
  if (session?.mode === 'drawing') set({ points: session.points.slice(0, -1) });
}

function cancel() {
  panel?.error('');
  set({ mode: 'idle', index: null, points: [], drag: null, hover: null, cursor: null });
}

/** A line's direction the other way round: A and B swapped, so "in" is the other side. */
function swap() {
  if (session?.mode === 'form' && session.kind === 'line') set({ points: [...session.points].reverse() });
}

function select(/** @type {Kind} */ kind, /** @type {number} */ index) {
  const s = session;
  if (!s || s.busy) return;
  const shape = s.layer.shapes[LIST[kind]][index];
  if (!shape) return;
  const points = Array.isArray(shape) ? shape : shape.points;
  panel?.error('');
  panel?.saved('');
  set({ mode: 'form', kind, index, points: points.map((p) => /** @type {Point} */ ([p[0], p[1]])), cursor: null, hover: null });
  panel?.openForm(kind, Array.isArray(shape) ? undefined : shape, '', index);
}

/** "zone-2": the first of its kind's names not taken by the camera's zones and lines. */
function freeName(/** @type {Session} */ s, /** @type {Kind} */ kind) {
  const taken = new Set([...s.layer.shapes.zones, ...s.layer.shapes.lines].map((x) => x.name));
  let n = 1;
  while (taken.has(`${kind}-${n}`)) n++;
  return `${kind}-${n}`;
}

/** Sends the camera's whole list of one kind, changed; the answer is drawn, or its refusal shown. */
async function send(/** @type {Session} */ s, /** @type {Kind} */ kind, /** @type {unknown[]} */ list, /** @type {string} */ done) {
  set({ busy: true });
  panel?.error('');
  try {
    const camera = await patchCamera(s.camera, { [LIST[kind]]: list });
    if (session !== s) return;
    applyCamera(camera);
    s.busy = false;
    cancel();
    panel?.saved(done);
  } catch (err) {
    if (session !== s) return;
    const text = err instanceof Refused ? err.message : `Could not save: ${err instanceof Error ? err.message : String(err)}`;
    panel?.error(text);
    set({ busy: false });
  }
}

function save() {
  const s = session;
  if (!s || !panel || s.mode !== 'form' || s.busy) return;
  /** @type {unknown[]} */
  const list = [...s.layer.shapes[LIST[s.kind]]];
  const fields = s.kind === 'mask' ? undefined : panel.fields(s.kind);
  const shape = fields ? { ...fields, points: s.points } : s.points;
  if (s.index === null) list.push(shape);
  else list[s.index] = shape;
  const name = fields ? `${s.kind} “${fields.name}”` : 'mask';
  send(s, s.kind, list, `Saved ${name}.`);
}

function remove(/** @type {Kind} */ kind, /** @type {number} */ index) {
  const s = session;
  if (!s || s.busy) return;
  const list = [...s.layer.shapes[LIST[kind]]];
  const [gone] = list.splice(index, 1);
  if (gone === undefined) return;
  const name = Array.isArray(gone) ? `mask ${index + 1}` : `${kind} “${gone.name}”`;
  send(s, kind, list, `Deleted ${name}.`);
}
