// Reads a camera ffmpeg's stdout, the copied stream, into its pieces: the
// init segment (read for its codec, size and timescale) and each fragment
// with its pts in seconds, keyframe flag and arrival time.
import { Fmp4Splitter, parseFragment, parseInit, type InitInfo } from './fmp4.js';
import type { StreamFragment } from './stream-cache.js';

/** Sample entries browsers play through MediaSource (H.264; H.265 where the browser has it): copied as they are. */
export const COPIED = new Set(['avc1', 'avc3', 'hvc1', 'hev1']);

export interface StreamReaderHandlers {
  /** The run's init segment; returns its timescale and run number to go on, or undefined to ignore what follows. */
  onInit(data: Buffer, info: InitInfo | undefined): { timescale: number; run: number } | undefined;
  onFragment(fragment: StreamFragment): void;
}

export async function readCopiedStream(stdout: AsyncIterable<Buffer>, camera: string, handlers: StreamReaderHandlers): Promise<void> {
  const splitter = new Fmp4Splitter();
  let timeline: { timescale: number; run: number } | undefined;
  let seq = 0;
  for await (const chunk of stdout) {
    for (const piece of splitter.push(chunk)) {
      if (piece.kind === 'init') {
        timeline = handlers.onInit(piece.data, parseInit(piece.data));
        continue;
      }
      if (!timeline) continue;
      const { timescale, run } = timeline;
      const info = parseFragment(piece.data);
      if (!info) continue;
      handlers.onFragment({
        camera, run, seq: seq++, data: piece.data,
        // Microseconds, as ffprobe prints pts_time, so the two compare exactly.
        pts: Math.round((info.pts * 1e6) / timescale) / 1e6,
        duration: info.duration / timescale,
        keyframe: info.keyframe,
        receivedAt: Date.now(),
      });
    }
  }
}
