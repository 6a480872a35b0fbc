// The live view's zones, counting lines and masks: one ShapeLayer per camera
// tile (shapes.js), fed the camera's shapes from /api/cameras (and from a
// PATCH's answer when the editor saves), what is in them from the live
// socket's "analytics" messages, and flashes from its "zone" and "crossing"
// messages. The header's switches show or hide the shapes and the boxes that
// do not count; both are kept in the browser. What each layer drew is left
// on window.lookoutZones for the tests.
import { byId } from './dom.js';
import { layerShown, saveLayerShown } from './settings.js';
import { ShapeLayer } from './shapes.js';

/** @typedef {import('./api.js').CameraSummary} CameraSummary */
/** @typedef {import('./player.js').CameraPlayer} CameraPlayer */
/** @typedef {import('./protocol.js').Shapes} Shapes */
/** @typedef {import('./protocol.js').AnalyticsMessage} AnalyticsMessage */
/** @typedef {import('./protocol.js').ZoneMessage} ZoneMessage */
/** @typedef {import('./protocol.js').CrossingMessage} CrossingMessage */

/**
 * @typedef {object} EditorLog
 * @property {string} camera
 * @property {'idle' | 'drawing' | 'form'} mode
 * @property {'zone' | 'line' | 'mask'} kind
 * @property {import('./protocol.js').Point[]} points
 * @property {string} error the server's refusal shown, if any
 */

/**
 * @typedef {object} ZonesLog
 * @property {Record<string, import('./shapes.js').ZonesDrawn>} cameras per camera, what its layer drew last
 * @property {{ analytics: number, zone: number, crossing: number }} messages how many of each the page got
 * @property {EditorLog | null} editor
 */

/** @type {Map<string, ShapeLayer>} */
const layers = new Map();
/** @type {Set<(camera: string) => void>} */
const listeners = new Set();
let zonesShown = layerShown('zones');
let filteredShown = layerShown('filtered');

/** @type {ZonesLog} */
export const zonesLog = { cameras: {}, messages: { analytics: 0, zone: 0, crossing: 0 }, editor: null };
window.lookoutZones = zonesLog;

/** A header switch, set from and saved to the viewer's settings. */
function wireSwitch(/** @type {string} */ id, /** @type {boolean} */ on, /** @type {(on: boolean) => void} */ change) {
  const input = byId(id, HTMLInputElement);
  input.checked = on;
  input.addEventListener('change', () => change(input.checked));
}

export function initZones() {
  wireSwitch('zones-toggle', zonesShown, (on) => {
    zonesShown = on;
    saveLayerShown('zones', on);
    for (const layer of layers.values()) layer.visible = on;
  });
  wireSwitch('filtered-toggle', filteredShown, (on) => {
    filteredShown = on;
    saveLayerShown('filtered', on);
    for (const layer of layers.values()) layer.player.overlay.showFiltered = on;
  });
}

/** A new tile on the live view: its shapes layer, with the switches as they are. */
export function attachTile(/** @type {CameraPlayer} */ player) {
  const id = /** @type {string} */ (player.camera);
  const layer = new ShapeLayer(player);
  layer.visible = zonesShown;
  player.overlay.showFiltered = filteredShown;
  layers.set(id, layer);
  zonesLog.cameras[id] = layer.drawn;
}

export function detachTile(/** @type {string} */ id) {
  layers.get(id)?.close();
  layers.delete(id);
  delete zonesLog.cameras[id];
}

export function layerOf(/** @type {string} */ id) {
  return layers.get(id);
}

/** Told when a camera's shapes or what is in them change (the editor's list follows). */
export function onShapesChanged(/** @type {(camera: string) => void} */ listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const changed = (/** @type {string} */ camera) => listeners.forEach((l) => l(camera));

/** A camera's zones, lines and masks from its settings. @returns {Shapes} */
function shapesOf(/** @type {NonNullable<CameraSummary['settings']>} */ s) {
  return { zones: s.zones ?? [], lines: s.lines ?? [], masks: s.masks ?? [] };
}

/**
 * Cameras as /api/cameras gives them. Shapes changed elsewhere (the API,
 * another browser) are taken; what is in them only with `withAnalytics`
 * (the first answer, a reconnection), the live messages keep it after that.
 */
export function showCameras(/** @type {CameraSummary[]} */ list, /** @type {boolean} */ withAnalytics) {
  for (const c of list) {
    const layer = layers.get(c.id);
    if (!layer || !c.settings) continue;
    const shapes = shapesOf(c.settings);
    if (!withAnalytics && JSON.stringify(shapes) === JSON.stringify(layer.shapes)) continue;
    layer.set(shapes, c.analytics);
    changed(c.id);
  }
}

/** The camera as a PATCH answered it: its shapes as saved, drawn at once. */
export function applyCamera(/** @type {CameraSummary} */ camera) {
  showCameras([camera], true);
}

/** A live message about zones and lines (analytics, zone, crossing). */
export function onZonesMessage(/** @type {AnalyticsMessage | ZoneMessage | CrossingMessage} */ m) {
  zonesLog.messages[m.type]++;
  const layer = layers.get(m.camera);
  if (!layer) return;
  if (m.type === 'analytics') {
    layer.setAnalytics({ zones: m.zones, lines: m.lines, counts: m.counts });
    changed(m.camera);
  } else if (m.type === 'zone') {
    if (m.phase === 'enter') layer.flash('zone', m.zone);
  } else layer.flash('line', m.line, `${m.label} ${m.direction}`);
}
