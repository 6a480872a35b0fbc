// The viewer's settings, kept in this browser (localStorage): synced boxes
// on or off, zones, filtered boxes and motion shown or not, and per camera the video
// the viewer picked. A URL parameter
// (?sync=1 or ?sync=0) overrides the stored mode for that page load.

const SYNC_KEY = 'lookout.sync';
const videoKey = (/** @type {string} */ camera) => `lookout.video.${camera}`;

function read(/** @type {string} */ key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage off (private mode, a sandbox): settings last for the page
  }
}

function write(/** @type {string} */ key, /** @type {string | null} */ value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // As above: not kept, still applied.
  }
}

/** Whether boxes are synced (video held back by the model's latency) rather than lowest latency. */
export function syncedMode() {
  const param = new URLSearchParams(location.search).get('sync');
  if (param !== null) return param === '1' || param === 'true';
  return read(SYNC_KEY) === '1';
}

export function saveSyncedMode(/** @type {boolean} */ on) {
  write(SYNC_KEY, on ? '1' : '0');
}

/** Switches that are on until the viewer turns them off: zones and lines, boxes that do not count. */
/** @typedef {'zones' | 'filtered'} Layer */

export function layerShown(/** @type {Layer} */ layer) {
  return read(`lookout.${layer}`) !== '0';
}

export function saveLayerShown(/** @type {Layer} */ layer, /** @type {boolean} */ on) {
  write(`lookout.${layer}`, on ? '1' : '0');
}

/** Whether motion (what moved, and what the model was given) is drawn over the pictures: off until the viewer turns it on. */
export function motionShown() {
  return read('lookout.motion') === '1';
}

export function saveMotionShown(/** @type {boolean} */ on) {
  write('lookout.motion', on ? '1' : '0');
}

/** @typedef {'native' | 'jpeg'} VideoPick */

/** The video the viewer picked for this camera, if they did. */
export function savedVideo(/** @type {string} */ camera) {
  const v = read(videoKey(camera));
  return v === 'native' || v === 'jpeg' ? /** @type {VideoPick} */ (v) : undefined;
}

export function saveVideo(/** @type {string} */ camera, /** @type {VideoPick} */ pick) {
  write(videoKey(camera), pick);
}
