// The decoder's frame socket against a real child process writing to it as
// its stdout, as ffmpeg does: frames arrive whole and in order whatever the
// write sizes, bytes written before the frame size is known are not lost,
// frames the owner drops never get a buffer of their own, and a consumer
// that stops reading stops the child (nothing piles up in lookout).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FrameSocket } from '../../src/ingest/frame-socket.js';

/** A node child writing `count` frames of `size` bytes (frame i filled with i % 256) in writes of `piece` bytes, then `tail` stray bytes. */
function writer(socket: FrameSocket, count: number, size: number, piece: number, tail = 0) {
  const script = `
    const fs = require('node:fs');
    const all = Buffer.alloc(${count} * ${size} + ${tail});
    for (let i = 0; i < ${count}; i++) all.fill(i % 256, i * ${size}, (i + 1) * ${size});
    for (let at = 0; at < all.length; at += ${piece}) fs.writeSync(1, all.subarray(at, Math.min(all.length, at + ${piece})));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', socket.childEnd, 'inherit'] });
  socket.childEnd.destroy();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

describe('FrameSocket', () => {
  it('cuts frames whole and in order across odd write sizes, frames bytes that came before the size was known, and drops a partial last frame', async () => {
    const socket = await FrameSocket.open(() => false);
    const { exited } = writer(socket, 7, 1000, 333, 10);
    // The size comes later, as ffmpeg's stderr line does: the first bytes wait.
    await new Promise((r) => setTimeout(r, 150));
    socket.setFrameSize(1000);
    const got: { n: number; first: number; last: number; length: number }[] = [];
    for await (const f of socket.frames()) got.push({ n: f.n, first: f.data[0], last: f.data[f.data.length - 1], length: f.data.length });
    expect(await exited).toBe(0);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => ({ n: i, first: i, last: i, length: 1000 })));
    socket.close();
  });

  it('reads frames its owner will drop into one scratch buffer and hands on only the others, with their numbers', async () => {
    const asked: number[] = [];
    const socket = await FrameSocket.open((n) => {
      asked.push(n);
      return n % 2 === 1;
    });
    socket.setFrameSize(4096);
    const { exited } = writer(socket, 9, 4096, 1500);
    const got: { n: number; value: number; buffer: ArrayBufferLike }[] = [];
    for await (const f of socket.frames()) got.push({ n: f.n, value: f.data[100], buffer: f.data.buffer });
    expect(await exited).toBe(0);
    // Asked as each frame begins: the next one is asked for as soon as one ends, so 9 may be asked too.
    expect(asked.slice(0, 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(got.map((g) => [g.n, g.value])).toEqual([[0, 0], [2, 2], [4, 4], [6, 6], [8, 8]]);
    // Each kept frame has a buffer of its own: a frame handed on is never written over.
    expect(new Set(got.map((g) => g.buffer)).size).toBe(got.length);
    socket.close();
  });

  it('stops the child while its frames are not taken, and lets it finish once they are', async () => {
    const socket = await FrameSocket.open(() => false);
    const size = 1 << 20;
    socket.setFrameSize(size);
    const { child, exited } = writer(socket, 40, size, 65536);
    const frames = socket.frames();
    const first = await frames.next();
    expect(first.value?.n).toBe(0);
    // 40 MB to write; a socket buffer and two queued frames hold a small part of it.
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull();
    let count = 1;
    for await (const f of frames) {
      expect(f.n).toBe(count);
      count++;
    }
    expect(count).toBe(40);
    expect(await exited).toBe(0);
    socket.close();
  });

  it('refuses a frame size that is not positive, ending the frames with that error', async () => {
    const socket = await FrameSocket.open(() => false);
    socket.setFrameSize(0);
    await expect(async () => { for await (const _ of socket.frames()) { /* none */ } }).rejects.toThrow('frame size must be positive, got 0');
    socket.close();
  });
});
