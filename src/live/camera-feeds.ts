// The live view's per-camera feeds and what they cost the camera: a JPEG
// feed (annotated frames, feed.ts) and a native feed (the copied stream,
// native.ts) per watched camera. While a JPEG feed is watched the camera is
// asked for raw live frames (a lease on its live decoder); when the last
// JPEG viewer leaves, the lease is given back. Snapshots take a short lease
// of their own. The hub owns one and closes it.
import type { CameraRegistry } from '../cameras/registry.js';
import type { Frame } from '../types.js';
import { CameraFeed, type AnnotatedFrame, type FeedStats, type Viewer } from './feed.js';
import { NativeFeed, type NativeSink, type NativeStats } from './native.js';

/** How long a snapshot waits for the live decoder's first picture of the present when nobody was watching. */
const SNAPSHOT_WAIT_MS = 5_000;
/** A live frame younger than this serves a snapshot as it is. */
const FRESH_MS = 1_000;

export class CameraFeeds {
  private readonly feeds = new Map<string, CameraFeed>();
  private readonly natives = new Map<string, NativeFeed>();
  /** Per camera, the release of its raw live frames while its JPEG feed is watched. */
  private readonly leases = new Map<string, () => void>();
  private readonly liveWaiters = new Map<string, Set<(frame: Frame) => void>>();
  private readonly unsubscribe: (() => void)[];

  constructor(private readonly registry: CameraRegistry) {
    this.unsubscribe = [
      registry.onLiveFrame((frame) => {
        this.feeds.get(frame.cameraId)?.push(frame);
        const waiters = this.liveWaiters.get(frame.cameraId);
        if (waiters) for (const w of [...waiters]) w(frame);
      }),
      registry.onStream((piece) => {
        const camera = piece.kind === 'init' ? piece.init.camera : piece.fragment.camera;
        // A new run, or a camera replaced under the same id: a watched JPEG feed asks the new one for frames.
        if (piece.kind === 'init' && this.feeds.get(camera)?.watched) this.lease(camera);
        this.natives.get(camera)?.push(piece);
      }),
      registry.onCameraRemoved((cameraId) => {
        this.leases.get(cameraId)?.();
        this.leases.delete(cameraId);
        if (!this.feeds.get(cameraId)?.watched) this.feeds.delete(cameraId);
        // stream.mp4 viewers of a camera that is gone end; WebSocket ones wait for its next init.
        const native = this.natives.get(cameraId);
        if (native && !this.registry.has(cameraId)) {
          native.endHttp();
          if (!native.watched) this.natives.delete(cameraId);
        }
      }),
    ];
  }

  /**
   * The camera's JPEG feed, made on first use for a camera the registry has.
   * A feed outlives its camera while anyone watches it: a camera changed over
   * the API is removed and added again under the same id, and its viewers go
   * on with the new camera's frames instead of being left on a feed no frame
   * reaches. A feed nobody watches goes with its camera (see release()).
   */
  feed(cameraId: string): CameraFeed | undefined {
    let feed = this.feeds.get(cameraId);
    if (!feed) {
      if (!this.registry.has(cameraId)) return undefined;
      feed = new CameraFeed(cameraId, () => this.registry.latestDetections(cameraId));
      this.feeds.set(cameraId, feed);
    }
    return feed;
  }

  /** Adds a JPEG viewer; the camera's raw live frames are asked for while its feed is watched. */
  watch(cameraId: string, viewer: Viewer): boolean {
    const feed = this.feed(cameraId);
    if (!feed) return false;
    feed.add(viewer);
    if (!this.leases.has(cameraId)) this.lease(cameraId);
    return true;
  }

  private lease(cameraId: string): void {
    this.leases.get(cameraId)?.();
    const release = this.registry.watchLive(cameraId);
    if (release) this.leases.set(cameraId, release);
    else this.leases.delete(cameraId);
  }

  /** Takes a viewer off a camera's feed, and forgets the feed if it is unwatched and its camera gone. */
  release(cameraId: string, viewer: Viewer): void {
    const feed = this.feeds.get(cameraId);
    if (!feed) return;
    feed.remove(viewer);
    if (feed.watched) return;
    this.leases.get(cameraId)?.();
    this.leases.delete(cameraId);
    if (!this.registry.has(cameraId)) this.feeds.delete(cameraId);
  }

  /** The camera's native feed (WebSocket and stream.mp4 viewers), made on first use. */
  native(cameraId: string): NativeFeed {
    let feed = this.natives.get(cameraId);
    if (!feed) this.natives.set(cameraId, (feed = new NativeFeed(cameraId)));
    return feed;
  }

  releaseNative(cameraId: string, sink: NativeSink): void {
    const feed = this.natives.get(cameraId);
    if (!feed) return;
    feed.remove(sink);
    // Kept while its camera exists, so its counters keep counting up.
    if (!feed.watched && !this.registry.has(cameraId)) this.natives.delete(cameraId);
  }

  viewers(cameraId: string): number {
    return (this.feeds.get(cameraId)?.snapshotStats().viewers ?? 0) + (this.natives.get(cameraId)?.snapshotStats().viewers ?? 0);
  }

  stats(cameraId: string): (FeedStats & { native: NativeStats }) | undefined {
    const jpeg = this.feeds.get(cameraId)?.snapshotStats();
    const native = this.natives.get(cameraId)?.snapshotStats();
    if (!jpeg && !native) return undefined;
    return {
      ...(jpeg ?? { viewers: 0, encoded: 0, encodeSkipped: 0, sent: 0, viewerSkipped: 0, bytesSent: 0 }),
      native: native ?? { viewers: 0, sent: 0, skipped: 0, bytesSent: 0 },
    };
  }

  /**
   * The newest annotated frame of a camera. When nobody watches as JPEG, the
   * camera's live decoder is started (it stays a few seconds, for pollers)
   * and the snapshot waits for its first picture of the present.
   */
  async snapshot(cameraId: string): Promise<AnnotatedFrame | undefined> {
    // A camera that is gone has no snapshot, even while its feed waits for its viewers to leave.
    const feed = this.registry.has(cameraId) ? this.feed(cameraId) : undefined;
    if (!feed) return undefined;
    const asked = Date.now();
    const latest = this.registry.latestLiveFrame(cameraId);
    if (latest && asked - latest.capturedAt < FRESH_MS) return feed.latestOr(latest);
    // Not streaming (starting, reconnecting): there is nothing to decode; the newest frame there was, if any.
    if (!this.registry.stream(cameraId)?.current) return feed.latestOr(latest);
    const release = this.registry.watchLive(cameraId);
    try {
      const frame = await this.nextLiveFrame(cameraId, asked, this.registry.stream(cameraId)?.newestPts);
      return await feed.latestOr(frame ?? this.registry.latestLiveFrame(cameraId));
    } finally {
      release?.();
    }
  }

  /** The first live frame read after `since` that is at least as new as `pts` (a decoder starting on the cached group of pictures catches up first). */
  private nextLiveFrame(cameraId: string, since: number, pts: number | undefined): Promise<Frame | undefined> {
    return new Promise((resolve) => {
      let waiters = this.liveWaiters.get(cameraId);
      if (!waiters) this.liveWaiters.set(cameraId, (waiters = new Set()));
      const set = waiters;
      const done = (frame: Frame | undefined): void => {
        clearTimeout(timer);
        set.delete(waiter);
        if (set.size === 0) this.liveWaiters.delete(cameraId);
        resolve(frame);
      };
      const waiter = (frame: Frame): void => {
        if (frame.capturedAt >= since && (pts === undefined || frame.pts === undefined || frame.pts >= pts - 1e-3)) done(frame);
      };
      const timer = setTimeout(() => done(undefined), SNAPSHOT_WAIT_MS);
      set.add(waiter);
    });
  }

  close(): void {
    for (const u of this.unsubscribe) u();
    for (const release of this.leases.values()) release();
    this.leases.clear();
  }
}
