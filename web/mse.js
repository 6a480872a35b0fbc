// Feeds a camera's fragmented MP4 into a <video> through Media Source
// Extensions (ManagedMediaSource where MediaSource is missing, as on iPhones).
// One MediaSource and SourceBuffer per run of the camera's stream: a new
// run's init segment (its ffmpeg restarted, the timeline starts again)
// replaces both, and playback carries on. The timestamps are left as they
// come (no timestampOffset), so the video's mediaTime is the stream's pts,
// the clock the detections are stamped with.
//
// Bounded: at most MAX_PENDING_BYTES wait to be appended (beyond that they
// are dropped and the next keyframe starts again), and the SourceBuffer keeps
// about KEEP_S of video behind the playhead (trim()). A QuotaExceededError
// evicts what is behind the playhead and retries once; if that is not enough
// the fragment is dropped and decoding resumes at the next keyframe.

/** @typedef {import('./protocol.js').InitHeader} InitHeader */
/** @typedef {import('./protocol.js').MediaHeader} MediaHeader */
/** @typedef {{ kind: 'append', data: Uint8Array<ArrayBuffer>, keyframe: boolean, retried?: boolean } | { kind: 'remove', start: number, end: number }} Op */

const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** Trim once this much is buffered behind the playhead, down to KEEP_S. */
const TRIM_AT_S = 30;
const KEEP_S = 12;

/** The Media Source Extensions constructor this browser has, if any. */
export function mediaSourceClass() {
  if (typeof window.MediaSource === 'function') return window.MediaSource;
  return window.ManagedMediaSource;
}

/** Whether this browser can play `mime` through MSE. */
export function canPlay(/** @type {string} */ mime) {
  const MS = mediaSourceClass();
  return MS !== undefined && MS.isTypeSupported(mime);
}

export class MsePipeline {
  /** @type {MediaSource | undefined} */ #source;
  /** @type {SourceBuffer | undefined} */ #buffer;
  /** @type {string | undefined} */ #url;
  /** @type {Op[]} */ #ops = [];
  #pendingBytes = 0;
  #lastSeq = -1;
  #needKeyframe = true;
  /** @type {{ header: InitHeader, data: Uint8Array<ArrayBuffer> } | undefined} */ #init;
  /** Fragments appended and dropped, for the tile's tooltip and the tests. */
  stats = { appended: 0, dropped: 0, quota: 0, restarts: 0 };

  /**
   * @param {HTMLVideoElement} video
   * @param {{ onFatal: (reason: string) => void, onTimeline: (run: number, again: boolean) => void }} events
   *   onFatal: it cannot play here; onTimeline: a new timeline starts (the old one's times mean nothing
   *   now); `again` when it has the run number of the one before (the stream started again under it)
   */
  constructor(video, events) {
    this.video = video;
    this.onFatal = events.onFatal;
    this.onTimeline = events.onTimeline;
  }

  /** The run being played (undefined before the first init segment). */
  get run() {
    return this.#init?.header.run;
  }

  /**
   * An init segment: a new run (or the first) starts a new MediaSource. The
   * same run again (sent anew after a resubscribe or a reconnect) is ignored
   * unless its bytes differ: then the stream changed under the same run.
   */
  init(/** @type {InitHeader} */ header, /** @type {Uint8Array<ArrayBuffer>} */ data) {
    const same = this.#init && this.#init.header.run === header.run && equalBytes(this.#init.data, data);
    if (same && this.#source) return;
    const again = this.#init?.header.run === header.run;
    this.#init = { header, data: data.slice() };
    this.#start();
    this.onTimeline(header.run, again);
  }

  /** A media fragment of the current run; anything else, a repeat or a fragment that cannot decode yet is skipped. */
  append(/** @type {MediaHeader} */ header, /** @type {Uint8Array<ArrayBuffer>} */ data) {
    if (!this.#init || header.run !== this.#init.header.run) return;
    if (header.seq <= this.#lastSeq) {
      // Sent again after a resubscribe or a reconnect, unless the timeline itself started again.
      if (!this.#startedAgain(header)) return;
      this.#start();
      this.onTimeline(header.run, true);
    }
    // A gap (fragments skipped for a full socket, or lost on a reconnect) can only resume at a keyframe.
    if (header.seq !== this.#lastSeq + 1 && !header.keyframe) this.#needKeyframe = true;
    this.#lastSeq = header.seq;
    if (this.#needKeyframe && !header.keyframe) {
      this.stats.dropped++;
      return;
    }
    this.#needKeyframe = false;
    if (this.#pendingBytes + data.byteLength > MAX_PENDING_BYTES) {
      this.#dropPending();
      this.#needKeyframe = !header.keyframe;
      if (!header.keyframe) return;
    }
    this.#push({ kind: 'append', data, keyframe: header.keyframe });
  }

  /**
   * A keyframe numbered well before the last fragment, and earlier than
   * anything buffered: the camera was replaced (changed over the API) and its
   * new stream starts again under the same run. Everything resent after a
   * reconnect lies inside what is buffered.
   */
  #startedAgain(/** @type {MediaHeader} */ header) {
    if (!header.keyframe || header.seq > this.#lastSeq - 10) return false;
    const ranges = safeRanges(this.video);
    return ranges.length === 0 || header.pts < ranges[0].start - 1;
  }

  /** Removes what is far behind the playhead; called every few seconds. */
  trim() {
    const b = this.#buffer;
    if (!b || this.#source?.readyState !== 'open') return;
    const ranges = safeRanges(b);
    if (!ranges.length) return;
    const now = this.video.currentTime;
    if (now - ranges[0].start > TRIM_AT_S) this.#push({ kind: 'remove', start: 0, end: now - KEEP_S });
  }

  /** Starts this run again from its init segment (after a decode error), resuming at the next keyframe: the same timeline. */
  restart() {
    if (this.#init) this.#start();
  }

  close() {
    this.#teardown();
    this.#init = undefined;
  }

  #start() {
    const MS = mediaSourceClass();
    const init = this.#init;
    if (!MS || !init) return this.onFatal('this browser has no Media Source Extensions');
    if (!MS.isTypeSupported(init.header.mime)) return this.onFatal(`this browser cannot play ${init.header.codec} (${init.header.mime})`);
    this.#teardown();
    this.stats.restarts++;
    const source = new MS();
    this.#source = source;
    this.#lastSeq = -1;
    this.#needKeyframe = true;
    source.addEventListener('sourceopen', () => {
      if (this.#source !== source) return;
      try {
        const buffer = source.addSourceBuffer(init.header.mime);
        buffer.mode = 'segments';
        buffer.addEventListener('updateend', () => this.#pump());
        buffer.addEventListener('error', () => this.onFatal('the video could not be decoded'));
        this.#buffer = buffer;
        this.#ops.unshift({ kind: 'append', data: init.data, keyframe: true });
        this.#pendingBytes += init.data.byteLength;
        this.#pump();
      } catch (err) {
        this.onFatal(`the video could not start: ${err instanceof Error ? err.message : String(err)}`);
      }
    }, { once: true });
    // Safari's ManagedMediaSource plays only with remote playback off.
    this.video.disableRemotePlayback = true;
    this.#url = URL.createObjectURL(source);
    this.video.src = this.#url;
  }

  #teardown() {
    this.#dropPending();
    this.#buffer = undefined;
    const source = this.#source;
    this.#source = undefined;
    if (source?.readyState === 'open') {
      try {
        source.endOfStream();
      } catch {
        // Already ending: nothing to do.
      }
    }
    if (this.#url) URL.revokeObjectURL(this.#url);
    this.#url = undefined;
  }

  #dropPending() {
    this.stats.dropped += this.#ops.filter((op) => op.kind === 'append').length;
    this.#ops = [];
    this.#pendingBytes = 0;
  }

  /** @param {Op} op */
  #push(op) {
    this.#ops.push(op);
    if (op.kind === 'append') this.#pendingBytes += op.data.byteLength;
    this.#pump();
  }

  #pump() {
    const b = this.#buffer;
    if (!b || b.updating || this.#source?.readyState !== 'open') return;
    const op = this.#ops.shift();
    if (!op) return;
    if (op.kind === 'remove') {
      if (op.end > op.start) b.remove(op.start, op.end);
      else this.#pump();
      return;
    }
    this.#pendingBytes -= op.data.byteLength;
    try {
      b.appendBuffer(op.data);
      this.stats.appended++;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'QuotaExceededError') this.#onQuota(op);
      else this.onFatal(`the video could not be buffered: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The SourceBuffer is full: evict what was played and retry once; else drop and wait for a keyframe. */
  #onQuota(/** @type {Op & { kind: 'append' }} */ op) {
    this.stats.quota++;
    const now = this.video.currentTime;
    const ranges = this.#buffer ? safeRanges(this.#buffer) : [];
    if (!op.retried && ranges.length && ranges[0].start < now - 1) {
      this.#ops.unshift({ kind: 'remove', start: 0, end: now - 1 }, { ...op, retried: true });
      this.#pendingBytes += op.data.byteLength;
      this.#pump();
      return;
    }
    this.stats.dropped++;
    // The fragments queued behind it depend on it: drop them too, up to the next keyframe.
    const next = this.#ops.findIndex((o) => o.kind === 'append' && o.keyframe);
    const dropped = next === -1 ? this.#ops.splice(0) : this.#ops.splice(0, next);
    for (const o of dropped) if (o.kind === 'append') this.#pendingBytes -= o.data.byteLength;
    if (next === -1) this.#needKeyframe = true;
    this.#pump();
  }
}

function equalBytes(/** @type {Uint8Array} */ a, /** @type {Uint8Array} */ b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A SourceBuffer's buffered ranges as plain numbers ([] if it has been removed). */
export function safeRanges(/** @type {SourceBuffer | HTMLVideoElement} */ target) {
  try {
    const r = target.buffered;
    return Array.from({ length: r.length }, (_, i) => ({ start: r.start(i), end: r.end(i) }));
  } catch {
    return [];
  }
}
