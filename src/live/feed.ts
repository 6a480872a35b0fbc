// One camera's annotated live feed: each live frame is drawn on and encoded
// once, only while someone watches, and handed to every viewer. Viewers
// that cannot keep up skip frames; the feed never queues for them.
import { annotateJpeg, DrawingBuffers, renderOverlay, type Overlay } from '../annotate/annotator.js';
import type { CameraDetections } from '../types.js';
import { frameId, type Frame } from '../types.js';
import { binaryMessage } from './native.js';

export interface AnnotatedFrame {
  camera: string;
  frameId: string;
  /** Capture time of the frame, ms since the epoch. */
  timestamp: number;
  /** The frame's time on the camera's copied stream, seconds (see Frame.pts). */
  pts: number | undefined;
  width: number;
  height: number;
  jpeg: Buffer;
  /** frameId of the detections drawn on it, if any. */
  detectionsFrameId: string | undefined;
  /** Frame time − detection time, ms: how old the drawn boxes are. */
  boxAgeMs: number | undefined;
  /** The WebSocket message for it (see frameMessage), built once for every viewer. */
  message: Buffer;
}

interface DrawnOverlay {
  /** The detections drawn (undefined: none yet). */
  for: CameraDetections | undefined;
  width: number;
  height: number;
  overlay: Overlay | undefined;
}

export interface Viewer {
  /** Offered every new annotated frame; a viewer that is behind skips it and says so. */
  offer(frame: AnnotatedFrame): 'sent' | 'skipped';
}

export interface FeedStats {
  viewers: number;
  encoded: number;
  /** Live frames not encoded because the previous encode was still running. */
  encodeSkipped: number;
  sent: number;
  /** Frames a slow viewer skipped. */
  viewerSkipped: number;
  /** Bytes of frames handed to viewers (WebSocket and MJPEG). */
  bytesSent: number;
}

export class CameraFeed {
  private readonly viewers = new Set<Viewer>();
  private latest: AnnotatedFrame | undefined;
  private encoding = false;
  private pending: Frame | undefined;
  private readonly stats: FeedStats = { viewers: 0, encoded: 0, encodeSkipped: 0, sent: 0, viewerSkipped: 0, bytesSent: 0 };
  /** The drawing of a set of detections, kept until they or the frame size change. */
  private overlay: DrawnOverlay | undefined;
  /** Where frames are drawn on: frames are read-only, so the drawing goes into a copy. */
  private readonly buffers = new DrawingBuffers();
  /** The snapshot being rendered for someone who asked while nobody streamed. */
  private snapshotting: { frame: Frame; rendering: Promise<AnnotatedFrame> } | undefined;
  /** The drawing of newer detections while it is being rasterized. */
  private nextOverlay: Promise<DrawnOverlay> | undefined;

  constructor(
    readonly cameraId: string,
    private readonly detections: () => CameraDetections | undefined,
  ) {}

  add(viewer: Viewer): void {
    this.viewers.add(viewer);
    // A new viewer sees the newest picture at once rather than waiting for the next frame.
    if (this.latest) this.deliver(viewer, this.latest);
  }

  remove(viewer: Viewer): void {
    this.viewers.delete(viewer);
  }

  get watched(): boolean {
    return this.viewers.size > 0;
  }

  snapshotStats(): FeedStats {
    return { ...this.stats, viewers: this.viewers.size };
  }

  /** A new live frame: encoded only if watched, and only the newest while an encode runs. */
  push(frame: Frame): void {
    if (!this.watched) return;
    if (this.encoding) {
      if (this.pending) this.stats.encodeSkipped++;
      this.pending = frame;
      return;
    }
    void this.encode(frame);
  }

  /** The newest annotated frame, encoding `fallback` now if nothing recent was (a snapshot nobody streams). */
  async latestOr(fallback: Frame | undefined, maxAgeMs = 2_000): Promise<AnnotatedFrame | undefined> {
    if (this.latest && (!fallback || fallback.capturedAt - this.latest.timestamp <= maxAgeMs)) return this.latest;
    if (!fallback) return this.latest;
    // Snapshots asked for at once share one render of the same frame.
    if (this.snapshotting?.frame !== fallback) {
      const rendering = this.render(fallback, true).then((annotated) => {
        if (!this.latest || annotated.timestamp >= this.latest.timestamp) this.latest = annotated;
        return annotated;
      });
      this.snapshotting = { frame: fallback, rendering };
      void rendering.catch(() => undefined).finally(() => {
        if (this.snapshotting?.rendering === rendering) this.snapshotting = undefined;
      });
    }
    return this.snapshotting.rendering;
  }

  /**
   * The drawing to put on `frame`. Rasterizing the SVG of new detections
   * takes several ms (more at 1080p), so live frames do not wait for it: they
   * keep the previous drawing until the new one is ready, a frame or two
   * later, and each frame says which detections it carries. A snapshot
   * (`wait`) waits for the newest.
   */
  private async overlayFor(frame: Frame, wait: boolean): Promise<DrawnOverlay | undefined> {
    const det = this.detections();
    const fits = (o: DrawnOverlay | undefined): o is DrawnOverlay => o !== undefined && o.width === frame.width && o.height === frame.height;
    if (fits(this.overlay) && this.overlay.for === det) return this.overlay;
    if (!this.nextOverlay) {
      const { width, height } = frame;
      this.nextOverlay = renderOverlay(width, height, det?.detections ?? [])
        .then((overlay) => (this.overlay = { for: det, width, height, overlay }))
        .finally(() => (this.nextOverlay = undefined));
      // A failed rasterization leaves the old drawing; the next frame tries again.
      this.nextOverlay.catch(() => undefined);
    }
    if (wait) await this.nextOverlay.catch(() => undefined);
    return fits(this.overlay) ? this.overlay : undefined;
  }

  private async render(frame: Frame, waitForOverlay = false): Promise<AnnotatedFrame> {
    const drawn = await this.overlayFor(frame, waitForOverlay);
    const det = drawn?.for;
    const jpeg = await annotateJpeg(frame, drawn?.overlay, undefined, this.buffers);
    this.stats.encoded++;
    const annotated: Omit<AnnotatedFrame, 'message'> = {
      camera: this.cameraId,
      frameId: frameId(frame),
      timestamp: frame.capturedAt,
      pts: frame.pts,
      width: frame.width,
      height: frame.height,
      jpeg,
      detectionsFrameId: det?.frameId,
      boxAgeMs: det ? frame.capturedAt - det.capturedAt : undefined,
    };
    return { ...annotated, message: frameMessage(annotated) };
  }

  private async encode(frame: Frame): Promise<void> {
    this.encoding = true;
    try {
      let next: Frame | undefined = frame;
      while (next) {
        this.pending = undefined;
        const annotated = await this.render(next);
        this.latest = annotated;
        for (const viewer of this.viewers) this.deliver(viewer, annotated);
        next = this.pending;
      }
    } catch {
      // A frame that cannot be encoded is skipped; the next one tries again.
    } finally {
      this.encoding = false;
    }
  }

  private deliver(viewer: Viewer, frame: AnnotatedFrame): void {
    if (viewer.offer(frame) === 'sent') {
      this.stats.sent++;
      this.stats.bytesSent += frame.message.length;
    } else {
      this.stats.viewerSkipped++;
    }
  }
}

/**
 * A binary WebSocket message (native.ts's framing): header {kind: "jpeg",
 * camera, frameId, timestamp, pts, width, height, detectionsFrameId,
 * boxAgeMs}, then the JPEG.
 */
export function frameMessage(frame: Omit<AnnotatedFrame, 'message'>): Buffer {
  return binaryMessage({
    kind: 'jpeg',
    camera: frame.camera,
    frameId: frame.frameId,
    timestamp: frame.timestamp,
    pts: frame.pts ?? null,
    width: frame.width,
    height: frame.height,
    detectionsFrameId: frame.detectionsFrameId ?? null,
    boxAgeMs: frame.boxAgeMs ?? null,
  }, frame.jpeg);
}
