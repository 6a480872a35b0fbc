// <lookout-camera>: one camera's tile. It plays the camera's own video
// (fragmented MP4 through MSE, mse.js) with a canvas over it (overlay.js); for
// every presented frame (requestVideoFrameCallback's mediaTime) it draws the
// boxes that belong to that frame (interpolate.js), and paces playback
// against the live edge (pacing.js): lowest latency by default, or held back
// by the model's latency when boxes are synced. A browser that cannot play
// the stream, or a viewer who picks it in the tile's menu, gets the server's
// annotated JPEG frames instead. live.js feeds it the messages of its camera.
// Or it plays a recorded clip (clip.js) with the detection log's boxes on it.
import { ClipView } from './clip.js';
import { forgetReceived, receivedAt, recordFrame, recordReceived } from './drawn.js';
import { DetectionTimeline } from './interpolate.js';
import { StreamMeasure } from './measure.js';
import { MsePipeline, canPlay, mediaSourceClass, safeRanges } from './mse.js';
import { TileMenu } from './menu.js';
import { Overlay } from './overlay.js';
import { describeLag, lagTarget, steer } from './pacing.js';
import { codecName } from './protocol.js';
import { savedVideo, saveVideo } from './settings.js';

/** @typedef {import('./protocol.js').InitHeader} InitHeader */
/** @typedef {import('./protocol.js').MediaHeader} MediaHeader */
/** @typedef {import('./protocol.js').JpegHeader} JpegHeader */
/** @typedef {import('./protocol.js').DetectionsMessage} DetectionsMessage */
/** @typedef {import('./protocol.js').StatusMessage} StatusMessage */
/** @typedef {import('./protocol.js').MotionMessage} MotionMessage */
/** @typedef {import('./settings.js').VideoPick} VideoPick */
/** @typedef {import('./clip.js').RecordedClip} RecordedClip */

const TICK_MS = 250;
const SEEK_COOLDOWN_MS = 1_000;

/** The child of `root` matching `selector`, typed; missing means the tile template is broken. */
function part(/** @type {ParentNode} */ root, /** @type {string} */ selector) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`tile template has no ${selector}`);
  return el;
}

export class CameraPlayer extends HTMLElement {
  /** @type {VideoPick | undefined} what the viewer picked in the menu */ #pick;
  /** @type {string | undefined} why native video cannot play here, if it cannot */ #unplayable;
  #synced = false;
  #measure = new StreamMeasure();
  /** @type {Map<number, DetectionTimeline>} */ #timelines = new Map();
  /** @type {ReturnType<typeof setInterval> | undefined} */ #tick;
  #ticks = 0;
  #frameRequest = 0;
  #presented = 0;
  #presentedAt = performance.now();
  #seekAfter = 0;
  /** @type {string | undefined} */ #jpegUrl;
  #lagS = 0;
  #jpegSize = [0, 0];
  #lagText = '';
  /** @type {DocumentFragment | undefined} the tile's parts, until it is first connected */ #content;
  /** @type {number[]} when the video last failed to decode */ #failures = [];
  /** @type {ClipView | undefined} a recorded clip played instead of the live stream */ #clip;

  constructor() {
    super();
    const template = document.getElementById('tile');
    if (!(template instanceof HTMLTemplateElement)) throw new Error('the page has no #tile template');
    // A custom element may not have children when it is created: they go in when it is connected.
    const content = /** @type {DocumentFragment} */ (template.content.cloneNode(true));
    this.#content = content;
    this.video = /** @type {HTMLVideoElement} */ (part(content, 'video'));
    this.img = /** @type {HTMLImageElement} */ (part(content, 'img'));
    this.overlay = new Overlay(/** @type {HTMLCanvasElement} */ (part(content, 'canvas.boxes')));
    this.lagBadge = /** @type {HTMLElement} */ (part(content, '.lag'));
    this.message = /** @type {HTMLElement} */ (part(content, '.overlay-state'));
    this.menu = new TileMenu(
      /** @type {HTMLButtonElement} */ (part(content, '.menu-button')),
      /** @type {HTMLElement} */ (part(content, '.menu')),
      (pick) => this.#choose(pick),
    );
    this.nameLabel = /** @type {HTMLElement} */ (part(content, '.name'));
    this.statePill = /** @type {HTMLElement} */ (part(content, '.state'));
    this.stats = /** @type {HTMLElement} */ (part(content, '.stats'));
    this.mse = new MsePipeline(this.video, {
      onFatal: (reason) => this.#cannotPlay(reason),
      onTimeline: (run, again) => this.#newTimeline(run, again),
    });
    this.video.muted = true;
    this.video.playsInline = true;
    this.video.autoplay = true;
    this.video.addEventListener('error', () => this.#decodeFailed());
    // The picture's size is known (or changed): the grid lays tiles out by it.
    const sized = () => this.dispatchEvent(new CustomEvent('aspectchange', { bubbles: true }));
    this.video.addEventListener('resize', sized);
    this.img.addEventListener('load', () => {
      if (this.img.naturalWidth !== this.#jpegSize[0] || this.img.naturalHeight !== this.#jpegSize[1]) sized();
      this.#jpegSize = [this.img.naturalWidth, this.img.naturalHeight];
    });
  }

  /** Which camera this tile shows, and whether boxes are synced. @param {string} id @param {boolean} synced */
  setup(id, synced) {
    this.camera = id;
    this.dataset.camera = id;
    this.nameLabel.textContent = id;
    this.#pick = savedVideo(id);
    if (!mediaSourceClass()) this.#unplayable = 'this browser has no Media Source Extensions';
    this.setSynced(synced);
    this.#show();
  }

  connectedCallback() {
    if (this.#content) this.append(this.#content);
    this.#content = undefined;
    this.menu.connect();
    this.#tick = setInterval(() => this.#pace(), TICK_MS);
    this.#frameRequest = this.video.requestVideoFrameCallback((now, meta) => this.#onFrame(now, meta));
  }

  disconnectedCallback() {
    this.menu.disconnect();
    clearInterval(this.#tick);
    this.video.cancelVideoFrameCallback(this.#frameRequest);
  }

  /** Gone for good (the camera was removed): lets go of the MediaSource and URLs. */
  dispose() {
    this.mse.close();
    this.overlay.close();
    this.video.removeAttribute('src');
    this.video.load(); // a clip's download stops too
    if (this.#jpegUrl) URL.revokeObjectURL(this.#jpegUrl);
  }

  /** What the server should send this camera: its own video, or annotated JPEG. */
  get videoChoice() {
    if (this.#pick) return this.#pick;
    return this.#unplayable ? 'jpeg' : 'native';
  }

  /** The picture's width / height, once known. */
  get aspect() {
    const [w, h] = this.videoChoice === 'native' ? [this.video.videoWidth, this.video.videoHeight] : this.#jpegSize;
    return w > 0 && h > 0 ? w / h : undefined;
  }

  setSynced(/** @type {boolean} */ on) {
    this.#synced = on;
    this.dataset.sync = on ? 'synced' : 'default';
  }

  // ---- messages of this camera ------------------------------------------

  onInit(/** @type {InitHeader} */ header, /** @type {Uint8Array<ArrayBuffer>} */ payload) {
    if (this.videoChoice !== 'native') return;
    if (!canPlay(header.mime)) return this.#cannotPlay(`this browser cannot play ${codecName(header.codec)} video`);
    this.dataset.codec = header.codec;
    this.mse.init(header, payload);
  }

  /**
   * A new timeline starts playing: the camera's ffmpeg restarted (a new run),
   * or the camera was replaced (the same run, started again). The old one's
   * pts, boxes and measures mean nothing now.
   */
  #newTimeline(/** @type {number} */ run, /** @type {boolean} */ again) {
    forgetReceived(/** @type {string} */ (this.camera));
    // Older runs go; a newer one (its detections may come before its init) stays, a few at most.
    for (const old of [...this.#timelines.keys()]) {
      if (old === run ? again : old < run || this.#timelines.size > 3) this.#timelines.delete(old);
    }
    this.#measure = new StreamMeasure();
    this.overlay.clear();
    this.dataset.run = String(run);
  }

  onMedia(/** @type {MediaHeader} */ header, /** @type {Uint8Array<ArrayBuffer>} */ payload) {
    if (this.videoChoice !== 'native') return;
    recordReceived(/** @type {string} */ (this.camera), header.pts, header.receivedAt);
    this.#measure.fragment(header.run, header.pts, header.duration, performance.now() / 1000);
    this.mse.append(header, payload);
  }

  onJpeg(/** @type {JpegHeader} */ header, /** @type {Uint8Array<ArrayBuffer>} */ payload) {
    if (this.videoChoice !== 'jpeg') return;
    const url = URL.createObjectURL(new Blob([payload], { type: 'image/jpeg' }));
    const previous = this.#jpegUrl;
    this.#jpegUrl = url;
    this.img.onload = () => {
      if (previous) URL.revokeObjectURL(previous);
    };
    this.img.src = url;
    this.#presented++;
    this.#lagText = header.boxAgeMs == null ? 'JPEG' : `JPEG · boxes ${header.boxAgeMs} ms old`;
    this.message.textContent = '';
  }

  onDetections(/** @type {DetectionsMessage} */ m) {
    if (m.pts == null || m.run == null) return; // a server without native video: nothing to place them by
    this.#timeline(m.run).add(m.pts, m.detections);
    this.#measure.detection(m.run, m.pts);
  }

  /** A detection frame motion gating skipped: the boxes before it hold there (interpolate.js). */
  onMotion(/** @type {MotionMessage} */ m) {
    if (m.sent === 'skipped' && m.pts != null && m.run != null) this.#timeline(m.run).addHeld(m.pts);
  }

  #timeline(/** @type {number} */ run) {
    if (!this.#timelines.has(run)) this.#timelines.set(run, new DetectionTimeline());
    return /** @type {DetectionTimeline} */ (this.#timelines.get(run));
  }

  onStatus(/** @type {StatusMessage} */ s) {
    Object.assign(this.statePill, { textContent: s.state, title: s.lastError ?? '' }).dataset.state = s.state;
    const elapsed = (performance.now() - this.#presentedAt) / 1000;
    const shown = Math.round(this.#presented / Math.max(0.5, elapsed));
    this.#presented = 0;
    this.#presentedAt = performance.now();
    const fps = this.videoChoice === 'native' ? shown : s.fps.live ?? shown;
    const drops = Object.values(s.dropped ?? {}).reduce((a, b) => a + b, 0);
    const latency = s.latencyMs?.p50 != null ? `${Math.round(s.latencyMs.p50)} ms` : '—';
    this.stats.textContent = `${fps} fps · detect ${s.fps.detect ?? 0} fps · inference ${latency} · drops ${drops}`;
    if (s.video?.codec) this.menu.codec = `${codecName(s.video.codec)}${s.video.transcoded ? ' (transcoded)' : ''}`;
    if (s.state !== 'streaming' && s.lastError) this.message.textContent = s.lastError;
    else if (this.message.textContent === s.lastError) this.message.textContent = '';
  }

  // ---- drawing per presented frame ---------------------------------------

  /** @param {DOMHighResTimeStamp} _now @param {VideoFrameCallbackMetadata} meta */
  #onFrame(_now, meta) {
    this.#frameRequest = this.video.requestVideoFrameCallback((now, m) => this.#onFrame(now, m));
    if (this.#clip) return this.#clip.frame(meta);
    if (this.videoChoice !== 'native' || this.mse.run === undefined) return;
    const t = meta.mediaTime;
    this.#measure.presented(t);
    this.#presented++;
    this.message.textContent = '';
    const run = this.mse.run;
    const timeline = run === undefined ? undefined : this.#timelines.get(run);
    const boxes = timeline ? this.#measure.boxesAt(timeline, t) : [];
    this.overlay.draw(boxes, this.video.videoWidth || meta.width, this.video.videoHeight || meta.height);
    const ranges = safeRanges(this.video);
    const edge = ranges.length ? ranges[ranges.length - 1].end : t;
    const camera = /** @type {string} */ (this.camera);
    recordFrame(camera, {
      mediaTime: t,
      presentedAt: performance.timeOrigin + meta.presentationTime,
      lagMs: Math.round((edge - t) * 1000),
      receivedAt: receivedAt(camera, t),
      boxes: boxes.map((b) => ({ label: b.label, trackId: b.trackId, box: b.box, score: b.score, source: b.source, fromPts: b.fromPts, filtered: b.filtered })),
    });
  }

  // ---- a recorded clip -----------------------------------------------------

  /** Plays a recorded clip instead of the live stream (clip.js): no socket, no pacing, the log's boxes. */
  playClip(/** @type {RecordedClip} */ clip) {
    this.#clip = new ClipView(this, clip);
  }

  // ---- pacing --------------------------------------------------------------

  #pace() {
    if (this.#clip) return;
    this.#ticks++;
    if (this.videoChoice !== 'native') return this.#showLag();
    const ranges = safeRanges(this.video);
    if (!ranges.length || this.mse.run === undefined) return this.#showLag();
    const video = this.video;
    if (video.paused && video.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA) video.play().catch(() => {});
    const last = ranges[ranges.length - 1];
    const now = video.currentTime;
    const m = this.#measure;
    const timeline = this.#timelines.get(this.mse.run);
    const target = lagTarget({ synced: this.#synced, frameS: m.frameS, jitterS: m.jitterS, detectionDelayS: m.detectionDelayS, detectionIntervalS: timeline?.interval() });
    this.#lagS = last.end - now;
    if (performance.now() >= this.#seekAfter) {
      // Outside the newest data: joined mid-stream (the first fragment's pts is not 0, nothing
      // plays at 0), or about to stall at a gap (fragments skipped): jump into the newest data.
      const within = ranges.find((r) => now >= r.start - 0.01 && now <= r.end + 0.01);
      const move = within !== last && (!within || now >= within.end - 0.15)
        ? { seekTo: Math.max(last.start, last.end - target.targetS) }
        : steer(this.#lagS, target.targetS, last.end, ranges[0].start);
      if ('seekTo' in move) {
        video.currentTime = move.seekTo;
        video.playbackRate = 1;
        this.#seekAfter = performance.now() + SEEK_COOLDOWN_MS;
      } else if (Math.abs(video.playbackRate - move.rate) > 0.005) video.playbackRate = move.rate;
    }
    if (this.#ticks % 8 === 0) this.mse.trim();
    // Before the first seek into the data (joining mid-stream), the playhead is nowhere near the edge.
    if (now < last.start - 0.01) return;
    const said = describeLag(this.#synced, this.#lagS, target, m.detectionDelayS);
    this.#lagText = said.text;
    this.lagBadge.title = said.title;
    this.#showLag();
  }

  #showLag() {
    Object.assign(this.lagBadge, { textContent: this.#lagText, hidden: this.#lagText === '' });
  }

  // ---- native or JPEG ------------------------------------------------------

  /** Native video cannot play here: fall back to JPEG (unless the viewer insists; then say why it is black). */
  #cannotPlay(/** @type {string} */ reason) {
    this.#unplayable = reason;
    this.mse.close();
    this.message.textContent = this.#pick === 'native' ? `Cannot play here: ${reason}.` : '';
    this.#show();
    this.dispatchEvent(new CustomEvent('videochange', { bubbles: true }));
  }

  #choose(/** @type {VideoPick} */ pick) {
    this.#pick = pick;
    saveVideo(/** @type {string} */ (this.camera), pick);
    if (pick === 'native' && mediaSourceClass()) this.#unplayable = undefined;
    this.#show();
    this.dispatchEvent(new CustomEvent('videochange', { bubbles: true }));
  }

  /** Shows the video or the JPEG, and marks the menu. */
  #show() {
    const choice = this.videoChoice;
    if (this.dataset.video === choice) return;
    this.dataset.video = choice;
    this.#lagText = '';
    this.overlay.clear();
    if (choice === 'jpeg') {
      this.mse.close();
      this.video.removeAttribute('src');
      this.video.load();
    } else {
      this.img.removeAttribute('src');
      if (this.#jpegUrl) URL.revokeObjectURL(this.#jpegUrl);
      this.#jpegUrl = undefined;
    }
    this.message.textContent = choice === 'native' ? 'waiting for video…' : 'waiting for frames…';
    this.menu.show(choice, choice === 'jpeg' && !this.#pick ? this.#unplayable : undefined);
  }

  /** The video failed to decode: start the run again at its next keyframe; repeated failures mean it cannot play here. */
  #decodeFailed() {
    if (this.#clip) return this.#clip.failed();
    if (this.videoChoice !== 'native' || !this.video.error) return;
    const now = performance.now();
    this.#failures = [...this.#failures.filter((t) => now - t < 30_000), now];
    if (this.#failures.length > 3) this.#cannotPlay(`the video keeps failing to decode (${this.video.error.message || `code ${this.video.error.code}`})`);
    else this.mse.restart();
  }
}

customElements.define('lookout-camera', CameraPlayer);
