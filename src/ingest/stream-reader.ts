// Reads a camera ffmpeg's stdout, the copied stream, into its pieces: the
// init segment (read for its codec, size and timescale) and each fragment
// with its pts in seconds, keyframe flag and arrival time.
import { Fmp4Splitter, parseFragment, parseInit, type InitInfo } from './fmp4.js';
import type { RunClock } from './run-clock.js';
import type { StreamFragment } from './stream-cache.js';

/** Sample entries browsers play through MediaSource (H.264; H.265 where the browser has it): copied as they are. */
export const COPIED = new Set(['avc1', 'avc3', 'hvc1', 'hev1']);

export interface StreamReaderHandlers {
  /** The run's init segment; returns its timescale, run number and clock to go on, or undefined to ignore what follows. */
  onInit(data: Buffer, info: InitInfo | undefined): { timescale: number; run: number; clock: RunClock } | undefined;
  onFragment(fragment: StreamFragment): void;
}

export async function readCopiedStream(stdout: AsyncIterable<Buffer>, camera: string, handlers: StreamReaderHandlers): Promise<void> {
  const splitter = new Fmp4Splitter();
  let timeline: ReturnType<StreamReaderHandlers['onInit']>;
  let seq = 0;
  for await (const chunk of stdout) {
    for (const piece of splitter.push(chunk)) {
      if (piece.kind === 'init') {
        timeline = handlers.onInit(piece.data, parseInit(piece.data));
        continue;
      }
      if (!timeline) continue;
      const { timescale, run, clock } = timeline;
      const info = parseFragment(piece.data);
      if (!info) continue;
      // Microseconds, as ffprobe prints pts_time, so the two compare exactly.
      const pts = Math.round((info.pts * 1e6) / timescale) / 1e6;
      const receivedAt = Date.now();
      const time = clock.stamp(pts, info.keyframe, receivedAt);
      handlers.onFragment({
        camera, run, seq: seq++, data: piece.data, pts,
        duration: info.duration / timescale,
        keyframe: info.keyframe,
        receivedAt,
        time,
        epoch: clock.realtime ? clock.epochAt(pts) ?? time - pts * 1000 : null,
      });
    }
  }
}
