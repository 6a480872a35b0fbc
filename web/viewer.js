// The clip viewer: a recorded clip in a dialog over the page, played in the
// same <lookout-camera> as the live view (the detection log's boxes on its
// frames, clip.js), with what a recorder's player needs: play and pause, a
// scrub bar in wall-clock time with the event's span and the detection
// frames marked on it, frame steps, speed, and a download link. Event cards
// (history.js) and the recordings timeline (recordings.js) open it; one clip
// at a time.
import { NothingRecorded, openClip } from './clip.js';
import { byId } from './dom.js';
import { colour } from './history.js';
import { CameraPlayer } from './player.js';

/** @typedef {import('./clip.js').RecordedClip} RecordedClip */
/** @typedef {import('./protocol.js').EventRecord} EventRecord */

/**
 * @typedef {object} ClipRequest
 * @property {string} camera
 * @property {string} url the clip, relative to the page
 * @property {string} title what it shows ("person 93%", "yard from 14:02")
 * @property {string} [subtitle]
 * @property {number} [classId] the swatch's colour, for an event
 * @property {{ start: number, end: number | null }} [span] an event's span, marked on the scrub bar
 * @property {number} [startAt] wall time to start at (default: the clip's start)
 * @property {number} [lengthS] how long the clip is expected to be, until the video knows
 * @property {string} [missing] what to say when nothing was recorded
 */

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
const STEP_S = 5;

/** "14:02:11" (and the date when it is not today). */
export function wallClock(/** @type {number} */ ms, withDate = false) {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return withDate && !today ? d.toLocaleString() : d.toLocaleTimeString();
}

/** "1:05" or "1:02:05". */
function length(/** @type {number} */ s) {
  const t = Math.max(0, Math.round(s));
  const hms = [Math.floor(t / 3600), Math.floor(t / 60) % 60, t % 60];
  const [h, m, sec] = hms.map((v) => String(v).padStart(2, '0'));
  return hms[0] ? `${hms[0]}:${m}:${sec}` : `${hms[1]}:${sec}`;
}

/** @type {{ player?: CameraPlayer, clip?: RecordedClip, request?: ClipRequest, token: number, frameT: number }} */
const open = { token: 0, frameT: -1 };

const dialog = () => byId('clip', HTMLDialogElement);
const part = (/** @type {string} */ selector) => {
  const el = dialog().querySelector(selector);
  if (!(el instanceof HTMLElement)) throw new Error(`the clip dialog has no ${selector}`);
  return el;
};

/** Opens the viewer on a clip; a clip already open makes way. */
export async function showClip(/** @type {ClipRequest} */ request) {
  close();
  const token = ++open.token;
  open.request = request;
  const d = dialog();
  part('.swatch').style.background = request.classId === undefined ? 'var(--accent)' : colour(request.classId);
  part('.clip-title').textContent = request.title;
  part('.clip-sub').textContent = request.subtitle ?? '';
  part('.clip-note').textContent = '';
  part('.clip-download').setAttribute('href', request.url);
  part('.clip-stage').replaceChildren(Object.assign(document.createElement('div'), { className: 'clip-wait', textContent: 'Loading the clip…' }));
  d.dataset.state = 'loading';
  if (!d.open) d.showModal();
  try {
    const clip = await openClip(request.url, request.camera);
    if (token !== open.token) return;
    play(clip, request);
  } catch (err) {
    if (token !== open.token) return;
    d.dataset.state = 'failed';
    const text = err instanceof NothingRecorded ? request.missing ?? err.message : `Cannot open the clip: ${err instanceof Error ? err.message : String(err)}`;
    part('.clip-stage').replaceChildren(Object.assign(document.createElement('div'), { className: 'clip-wait', textContent: text }));
  }
}

/** Opens the viewer on an event's clip (its pre and post seconds around it), the event's span marked. */
export function showEventClip(/** @type {EventRecord} */ e) {
  return showClip({
    camera: e.camera,
    url: `api/events/${encodeURIComponent(e.id)}/clip.mp4`,
    title: `${e.label} ${Math.round(e.maxScore * 100)}%`,
    subtitle: `${e.camera} · ${wallClock(e.start, true)}${e.end === null ? ' · in view now' : ''}`,
    classId: e.classId,
    span: { start: e.start, end: e.end },
    missing: `No video of this ${e.label}: the camera was not recording then, or the recording has been deleted.`,
  });
}

function play(/** @type {RecordedClip} */ clip, /** @type {ClipRequest} */ request) {
  const player = /** @type {CameraPlayer} */ (document.createElement('lookout-camera'));
  player.classList.add('tile', 'clip-tile');
  open.player = player;
  open.clip = clip;
  open.frameT = -1;
  part('.clip-stage').replaceChildren(player);
  player.playClip(clip);
  dialog().dataset.state = 'playing';
  if (clip.truncated) part('.clip-note').textContent = `Stops early: ${clip.truncated}.`;
  const video = player.video;
  // The dialog takes the picture's shape: no black bars beside a 4:3 camera.
  video.addEventListener('resize', () => {
    if (video.videoWidth > 0 && video.videoHeight > 0) dialog().style.setProperty('--aspect', String(video.videoWidth / video.videoHeight));
  });
  video.playbackRate = Number(part('.clip-speed').dataset.rate ?? 1);
  if (request.startAt !== undefined) {
    const at = Math.max(0, clip.mediaTime(request.startAt));
    video.addEventListener('loadedmetadata', () => { video.currentTime = at; }, { once: true });
  }
  // The whole log of a short clip is read at once: the scrub bar marks all of its detection frames.
  clip.prefetch(0, Math.min(clip.clipEnd === undefined ? request.lengthS ?? 120 : (clip.clipEnd - clip.clipStart) / 1000, 30 * 60));
  clip.onLoaded = ((draw) => () => {
    draw();
    drawTicks();
  })(clip.onLoaded);
  for (const type of ['play', 'pause', 'durationchange', 'progress', 'ratechange', 'ended', 'seeked', 'loadedmetadata']) video.addEventListener(type, update);
  player.addEventListener('clipframe', (e) => {
    if (e instanceof CustomEvent) open.frameT = e.detail;
    update();
  });
  // A click on the picture plays or pauses, as in any player.
  player.addEventListener('click', (e) => {
    if (e.target instanceof Element && e.target.closest('.frame')) toggle();
  });
  update();
}

/** The clip's length as known so far: the video's, or what it has loaded, or what was asked for. */
function lengthS() {
  const video = open.player?.video;
  if (!video) return 0;
  if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
  const b = video.buffered;
  const loaded = b.length ? b.end(b.length - 1) : 0;
  const said = open.clip?.clipEnd === undefined ? open.request?.lengthS : (open.clip.clipEnd - open.clip.clipStart) / 1000;
  return Math.max(loaded, said ?? 0, video.currentTime);
}

function update() {
  const { player, clip } = open;
  if (!player || !clip) return;
  const video = player.video;
  const total = lengthS();
  const t = video.currentTime;
  const playing = !video.paused && !video.ended;
  const button = part('.clip-play');
  button.textContent = playing ? '❚❚' : '▶';
  button.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  // The clock is the shown frame's (the playhead may be between frames, or past the last one).
  const shown = Math.abs(open.frameT - t) < 0.25 ? open.frameT : t;
  part('.clip-clock').textContent = wallClock(clip.wallTime(shown), true);
  part('.clip-length').textContent = `${length(t)} / ${length(total)}`;
  const pct = (/** @type {number} */ s) => `${total > 0 ? Math.min(100, Math.max(0, (s / total) * 100)) : 0}%`;
  part('.scrub-played').style.width = pct(t);
  part('.scrub-head').style.left = pct(t);
  const b = video.buffered;
  part('.scrub-buffered').style.width = pct(b.length ? b.end(b.length - 1) : 0);
  const span = open.request?.span;
  const band = part('.scrub-span');
  band.hidden = !span;
  if (span) {
    const from = clip.mediaTime(span.start);
    const to = span.end === null ? total : clip.mediaTime(span.end);
    Object.assign(band.style, { left: pct(from), width: `calc(${pct(to)} - ${pct(from)})` });
  }
  const scrub = part('.scrub');
  scrub.setAttribute('aria-valuemax', String(Math.round(total)));
  scrub.setAttribute('aria-valuenow', String(Math.round(t)));
  scrub.setAttribute('aria-valuetext', wallClock(clip.wallTime(t)));
  if (total !== Number(scrub.dataset.total)) {
    scrub.dataset.total = String(total);
    drawTicks();
  }
}

/** The detection frames read so far as ticks on the scrub bar, in their class's colour. */
function drawTicks() {
  const canvas = /** @type {HTMLCanvasElement} */ (part('.scrub-ticks'));
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(canvas.clientWidth * dpr);
  canvas.height = Math.round(canvas.clientHeight * dpr);
  const ctx = canvas.getContext('2d');
  const total = lengthS();
  if (!ctx || !open.clip || !(total > 0)) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const f of open.clip.frames) {
    if (f.pts < 0 || f.pts > total || !f.detections.length) continue;
    // An event's own class where the frame has it: the ticks show where its object was seen.
    const own = open.request?.classId;
    ctx.fillStyle = colour(f.detections.some((d) => d.classId === own) ? /** @type {number} */ (own) : f.detections[0].classId);
    ctx.fillRect(Math.floor((f.pts / total) * canvas.width), 0, Math.max(1, dpr), canvas.height);
  }
}

function toggle() {
  const video = open.player?.video;
  if (!video) return;
  if (video.paused || video.ended) video.play().catch(() => {});
  else video.pause();
}

function seek(/** @type {number} */ s) {
  const video = open.player?.video;
  if (video) video.currentTime = Math.max(0, Math.min(lengthS(), s));
}

/** One frame on or back (paused): where to look closely at a box. */
function step(/** @type {number} */ frames) {
  const video = open.player?.video;
  if (!video || !open.clip) return;
  video.pause();
  // From the frame shown, to just inside the next one (the playhead at a frame's very start may round to the one before).
  const from = Math.abs(open.frameT - video.currentTime) < 0.25 ? open.frameT : video.currentTime;
  seek(from + frames * open.clip.frameS + 0.001);
}

function close() {
  open.token++;
  open.player?.remove();
  open.player?.dispose();
  open.player = undefined;
  open.clip = undefined;
}

/** Where on the scrub bar the pointer is, as media time. */
function scrubTime(/** @type {PointerEvent} */ e) {
  const rect = part('.scrub').getBoundingClientRect();
  return (Math.min(Math.max(0, e.clientX - rect.left), rect.width) / rect.width) * lengthS();
}

export function initViewer() {
  const d = dialog();
  d.addEventListener('close', close);
  part('.clip-close').addEventListener('click', () => d.close());
  // A click on the backdrop (outside the dialog's box) closes it.
  d.addEventListener('click', (e) => {
    if (e.target === d) d.close();
  });
  part('.clip-play').addEventListener('click', toggle);
  part('.clip-back').addEventListener('click', () => step(-1));
  part('.clip-forward').addEventListener('click', () => step(1));
  const speed = part('.clip-speed');
  speed.addEventListener('click', () => {
    const next = SPEEDS[(SPEEDS.indexOf(Number(speed.dataset.rate ?? 1)) + 1) % SPEEDS.length];
    speed.dataset.rate = String(next);
    speed.textContent = `${next}×`;
    if (open.player) open.player.video.playbackRate = next;
  });
  const scrub = part('.scrub');
  const hover = part('.scrub-hover');
  scrub.addEventListener('pointerdown', (e) => {
    scrub.setPointerCapture(e.pointerId);
    seek(scrubTime(e));
  });
  scrub.addEventListener('pointermove', (e) => {
    const t = scrubTime(e);
    if (scrub.hasPointerCapture(e.pointerId)) seek(t);
    if (!open.clip) return;
    hover.hidden = false;
    hover.textContent = wallClock(open.clip.wallTime(t));
    hover.style.left = `${(t / Math.max(lengthS(), 1e-9)) * 100}%`;
  });
  scrub.addEventListener('pointerleave', () => { hover.hidden = true; });
  d.addEventListener('keydown', (e) => {
    const video = open.player?.video;
    if (!video || (e.key === ' ' && e.target instanceof HTMLButtonElement)) return; // a focused button takes its own Space
    const keys = {
      ' ': toggle,
      k: toggle,
      ArrowLeft: () => seek(video.currentTime - STEP_S),
      ArrowRight: () => seek(video.currentTime + STEP_S),
      ',': () => step(-1),
      '.': () => step(1),
      Home: () => seek(0),
      End: () => seek(lengthS()),
    };
    const action = keys[/** @type {keyof typeof keys} */ (e.key)];
    if (!action) return;
    e.preventDefault();
    action();
  });
  new ResizeObserver(drawTicks).observe(part('.scrub-ticks'));
}
