// Native viewers: the camera's own video, as the copied fragmented MP4,
// to WebSocket clients (framed messages) and to GET …/stream.mp4 (raw bytes).
// A viewer starts with the run's init segment and the fragments since the
// newest keyframe, then gets each new fragment. One whose buffer is over a
// bound skips fragments until the next keyframe (counted); nothing is ever
// queued for it beyond that bound, and it never holds up another viewer.
import type { StreamCache, StreamFragment, StreamInit, StreamPiece } from '../ingest/stream-cache.js';

/** A native viewer's send buffer may hold this much before it skips to the next keyframe (a few 1080p keyframes). */
export const MAX_NATIVE_BUFFER = 2 << 20;

export interface NativeSink {
  /** 'ws' sinks take a new run's init segment; 'http' ones end, a player cannot switch timelines mid-file. */
  readonly kind: 'ws' | 'http';
  /** Bytes written and not yet sent. */
  backlog(): number;
  sendInit(init: StreamInit): void;
  sendFragment(fragment: StreamFragment, skipped: number): void;
  /** The stream is over for this viewer (an HTTP one when the run changes, or the camera goes). */
  end(): void;
}

export interface NativeStats {
  viewers: number;
  sent: number;
  /** Fragments viewers skipped, behind or waiting for a keyframe. */
  skipped: number;
  bytesSent: number;
}

interface ViewerState {
  sink: NativeSink;
  run: number | undefined;
  waitingForKeyframe: boolean;
  /** Skipped since the last fragment sent. */
  skipped: number;
}

/** The native viewers of one camera. */
export class NativeFeed {
  private readonly viewers = new Map<NativeSink, ViewerState>();
  private readonly stats: NativeStats = { viewers: 0, sent: 0, skipped: 0, bytesSent: 0 };

  constructor(readonly cameraId: string) {}

  get watched(): boolean {
    return this.viewers.size > 0;
  }

  snapshotStats(): NativeStats {
    return { ...this.stats, viewers: this.viewers.size };
  }

  /** Starts a viewer from the stream as it stands: init segment, then the newest group of pictures. */
  add(sink: NativeSink, cache: StreamCache | undefined): void {
    const state: ViewerState = { sink, run: undefined, waitingForKeyframe: true, skipped: 0 };
    this.viewers.set(sink, state);
    const init = cache?.current;
    if (!init) return;
    this.deliverInit(state, init);
    for (const fragment of cache.fragments()) this.deliverFragment(state, fragment);
  }

  remove(sink: NativeSink): void {
    this.viewers.delete(sink);
  }

  push(piece: StreamPiece): void {
    for (const state of this.viewers.values()) {
      if (piece.kind === 'init') this.deliverInit(state, piece.init);
      else this.deliverFragment(state, piece.fragment);
    }
  }

  /** The camera is gone: stream.mp4 viewers' files end (WebSocket viewers wait: the camera may come back changed). */
  endHttp(): void {
    for (const state of [...this.viewers.values()]) {
      if (state.sink.kind !== 'http') continue;
      this.viewers.delete(state.sink);
      state.sink.end();
    }
  }

  private deliverInit(state: ViewerState, init: StreamInit): void {
    if (state.run === init.run) return;
    if (state.run !== undefined && state.sink.kind === 'http') {
      this.viewers.delete(state.sink);
      state.sink.end();
      return;
    }
    state.run = init.run;
    state.waitingForKeyframe = true;
    state.sink.sendInit(init);
    this.stats.bytesSent += init.data.length;
  }

  private deliverFragment(state: ViewerState, fragment: StreamFragment): void {
    if (state.run !== fragment.run) return;
    if (state.waitingForKeyframe && !fragment.keyframe) {
      this.skip(state);
      return;
    }
    if (state.sink.backlog() > MAX_NATIVE_BUFFER) {
      state.waitingForKeyframe = true;
      this.skip(state);
      return;
    }
    state.waitingForKeyframe = false;
    state.sink.sendFragment(fragment, state.skipped);
    state.skipped = 0;
    this.stats.sent++;
    this.stats.bytesSent += fragment.data.length;
  }

  private skip(state: ViewerState): void {
    state.skipped++;
    this.stats.skipped++;
  }
}

/** A binary WebSocket message: 4-byte big-endian header length, the header as UTF-8 JSON, then the payload. */
export function binaryMessage(header: object, payload: Buffer): Buffer {
  const head = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(head.length);
  return Buffer.concat([length, head, payload]);
}

export function initMessage(init: StreamInit): Buffer {
  return binaryMessage({
    kind: 'init', camera: init.camera, run: init.run, codec: init.codec, mime: init.mime,
    width: init.width, height: init.height, timescale: init.timescale, transcoded: init.transcoded,
  }, init.data);
}

/** Built once per fragment for every viewer that skipped nothing before it. */
const plainMessages = new WeakMap<StreamFragment, Buffer>();

export function fragmentMessage(fragment: StreamFragment, skipped: number): Buffer {
  if (skipped === 0) {
    let message = plainMessages.get(fragment);
    if (!message) plainMessages.set(fragment, (message = buildFragmentMessage(fragment, 0)));
    return message;
  }
  return buildFragmentMessage(fragment, skipped);
}

function buildFragmentMessage(fragment: StreamFragment, skipped: number): Buffer {
  return binaryMessage({
    kind: 'media', camera: fragment.camera, run: fragment.run, seq: fragment.seq, pts: fragment.pts,
    duration: fragment.duration, keyframe: fragment.keyframe, receivedAt: fragment.receivedAt,
    ...(skipped > 0 ? { skipped } : {}),
  }, fragment.data);
}
