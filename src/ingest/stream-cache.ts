// A camera's copied stream as viewers and decoders need it: the current
// run's init segment and the media fragments since the newest keyframe, so
// that whoever joins starts at once from a picture a decoder can show. The
// cache is bounded in fragments and bytes; a group of pictures longer than
// that is not kept (counted), and a joiner then waits for the next keyframe.
import type { InitInfo } from './fmp4.js';

export interface StreamInit extends InitInfo {
  camera: string;
  /** The ffmpeg run of the camera this stream belongs to; a new run is a new timeline. */
  run: number;
  /** ftyp + moov. */
  data: Buffer;
  /** The camera's codec was not one browsers play, so ffmpeg transcodes it to H.264. */
  transcoded: boolean;
  /** The camera's own codec as ffmpeg names it (h264, hevc, mjpeg, …). */
  from: string;
  /** RFC 6381 type for MediaSource.isTypeSupported. */
  mime: string;
}

export interface StreamFragment {
  camera: string;
  run: number;
  /** 0, 1, 2… per run. */
  seq: number;
  /** moof + mdat. */
  data: Buffer;
  /** First frame's presentation time, seconds on the run's timeline (microsecond precision). */
  pts: number;
  duration: number;
  keyframe: boolean;
  /** When lookout read it from ffmpeg, ms since the epoch. */
  receivedAt: number;
  /** Wall-clock time of its pts, ms, on the clock the detection log uses (run-clock.ts). */
  time: number;
  /** That clock's epoch (time − pts), constant between keyframes; null for a file read faster than real time. */
  epoch: number | null;
}

export type StreamPiece = { kind: 'init'; init: StreamInit } | { kind: 'fragment'; fragment: StreamFragment };

export const GOP_CACHE_FRAGMENTS = 600;
export const GOP_CACHE_BYTES = 24 << 20;

export class StreamCache {
  private init: StreamInit | undefined;
  private gop: StreamFragment[] = [];
  private gopBytes = 0;
  /** Groups of pictures too long to keep whole. */
  overflows = 0;
  /**
   * The longest interval between two keyframes seen on this camera, s (its
   * group of pictures), kept across runs: a decoder started late (a JPEG
   * viewer, a new run) knows how much a skip to the next keyframe costs
   * without first waiting out a whole group itself.
   */
  gopS = 0;
  private keyframePts: number | undefined;

  setInit(init: StreamInit): void {
    this.init = init;
    this.keyframePts = undefined;
    this.gop = [];
    this.gopBytes = 0;
  }

  add(fragment: StreamFragment): void {
    if (fragment.keyframe) {
      if (this.keyframePts !== undefined && fragment.pts > this.keyframePts) this.gopS = Math.max(this.gopS, fragment.pts - this.keyframePts);
      this.keyframePts = fragment.pts;
      this.gop = [];
      this.gopBytes = 0;
    } else if (this.gop.length === 0) {
      // No keyframe to start from (dropped, or the group overflowed): nothing worth keeping.
      return;
    }
    if (this.gop.length >= GOP_CACHE_FRAGMENTS || this.gopBytes + fragment.data.length > GOP_CACHE_BYTES) {
      this.overflows++;
      this.gop = [];
      this.gopBytes = 0;
      return;
    }
    this.gop.push(fragment);
    this.gopBytes += fragment.data.length;
  }

  /** Forgets the stream (the camera stopped): nobody should start from a dead run. */
  clear(): void {
    this.init = undefined;
    this.gop = [];
    this.gopBytes = 0;
  }

  get current(): StreamInit | undefined {
    return this.init;
  }

  /** The fragments from the newest keyframe on (empty when none is cached). */
  fragments(): readonly StreamFragment[] {
    return this.gop;
  }

  /** The newest fragment's pts, if any. */
  get newestPts(): number | undefined {
    return this.gop[this.gop.length - 1]?.pts;
  }

  stats(): { fragments: number; bytes: number; overflows: number } {
    return { fragments: this.gop.length, bytes: this.gopBytes, overflows: this.overflows };
  }
}
