// Cuts a raw RGB byte stream into frames of a known size, with the stream's
// own backpressure: frames are read only as fast as the consumer asks, so a
// slow consumer pauses ffmpeg's pipe instead of growing a buffer.
import type { Readable } from 'node:stream';

/**
 * Yields frames of exactly frameBytes bytes. A frame inside one chunk is a
 * view of it (no copy); one spread over chunks is copied once.
 */
export async function* readFrames(stream: Readable, frameBytes: () => Promise<number>): AsyncGenerator<Buffer> {
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    // Bytes can arrive before ffmpeg has printed the frame size on stderr.
    if (size === 0) {
      size = await frameBytes();
      if (!(size > 0)) throw new Error(`frame size must be positive, got ${size}`);
    }
    let data = chunk;
    if (pendingBytes > 0) {
      const need = size - pendingBytes;
      if (data.length < need) {
        pending.push(data);
        pendingBytes += data.length;
        continue;
      }
      pending.push(data.subarray(0, need));
      yield Buffer.concat(pending, size);
      pending = [];
      pendingBytes = 0;
      data = data.subarray(need);
    }
    while (data.length >= size) {
      yield data.subarray(0, size);
      data = data.subarray(size);
    }
    if (data.length > 0) {
      pending.push(data);
      pendingBytes = data.length;
    }
  }
}
