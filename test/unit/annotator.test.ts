import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { annotateJpeg, blendOverlay, DrawingBuffers, renderOverlay } from '../../src/annotate/annotator.js';
import { classColour, overlayDrawing } from '../../src/annotate/overlay.js';
import type { Detection } from '../../src/types.js';

const person = { classId: 1, label: 'person', score: 0.9, box: [0.2, 0.2, 0.8, 0.6] as [number, number, number, number] };

describe('annotator', () => {
  it('keeps only the pixels the drawing covers, and blends them (opaque copied, edges mixed)', async () => {
    const overlay = await renderOverlay(320, 180, [person]);
    expect(overlay).toBeDefined();
    if (!overlay) return;
    // A box and a label cover a few per cent of the frame, never all of it.
    expect(overlay.offsets.length).toBeGreaterThan(500);
    expect(overlay.offsets.length).toBeLessThan(320 * 180 * 0.25);
    const rgb = new Uint8Array(320 * 180 * 3).fill(10);
    blendOverlay(rgb, overlay);
    // The box's left edge, halfway down, is the class colour.
    const colour = classColour(1);
    const want = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
    const o = (90 * 320 + Math.round(0.2 * 320)) * 3;
    expect([...rgb.subarray(o, o + 3)]).toEqual(want);
    // The middle of the box is untouched.
    const m = (90 * 320 + 128) * 3;
    expect([...rgb.subarray(m, m + 3)]).toEqual([10, 10, 10]);
    // Partly covered pixels lie between the background and the colour.
    const partial = [...overlay.rgba.keys()].filter((i) => i % 4 === 3 && overlay.rgba[i] > 0 && overlay.rgba[i] < 255);
    expect(partial.length).toBeGreaterThan(0);
  });

  it('reads back every pixel the drawing covers, however the boxes and labels fall', async () => {
    // Reference: the whole raster scanned. renderOverlay reads only the regions
    // overlayDrawing names; a region too small would lose pixels of a stroke or a label.
    const box = (y0: number, x0: number, y1: number, x1: number): Detection['box'] => [y0, x0, y1, x1];
    const cases: [number, number, Detection[]][] = [
      [320, 180, [person]],
      [768, 432, [
        { classId: 44, label: 'bottle', score: 0.55, box: box(0.0, 0.0, 0.3, 0.1) }, // touching the top-left corner
        { classId: 1, label: 'person', score: 1, box: box(0.7, 0.9, 1, 1) }, // the bottom-right corner, label near the right edge
        { classId: 3, label: 'car', score: 0.42, box: box(0.4, 0.4, 0.6, 0.6) },
        { classId: 3, label: 'car', score: 0.43, box: box(0.45, 0.45, 0.65, 0.65) }, // overlapping the one before
        { classId: 62, label: 'chair', score: 0.3, box: box(0.5, 0.2, 0.5005, 0.2005) }, // a box of one pixel
        // Wide glyphs (W, M) run past the 0.6 em estimate.
        { classId: 90, label: 'WWWWWWMMMMMMWWWWWW', score: 0.99, box: box(0.2, 0.05, 0.25, 0.1) },
        { classId: 91, label: '人物人物人物', score: 0.99, box: box(0.8, 0.05, 0.85, 0.1) }, // full-width glyphs, where fonts have them
      ]],
      [1920, 1080, Array.from({ length: 30 }, (_, i): Detection => ({ classId: i + 1, label: `class ${i}`, score: 0.5, box: box((i % 6) / 6, Math.floor(i / 6) / 5, (i % 6) / 6 + 0.1, Math.floor(i / 6) / 5 + 0.15) }))],
    ];
    for (const [width, height, detections] of cases) {
      const overlay = await renderOverlay(width, height, detections);
      const raster = await sharp(Buffer.from(overlayDrawing(width, height, detections).svg)).ensureAlpha().raw().toBuffer();
      const want: number[] = [];
      const wantRgba: number[] = [];
      for (let p = 0; p < width * height; p++) {
        if (raster[p * 4 + 3] === 0) continue;
        want.push(p * 3);
        wantRgba.push(...raster.subarray(p * 4, p * 4 + 4));
      }
      expect(want.length).toBeGreaterThan(0);
      expect(overlay?.offsets.length).toBe(want.length);
      // One comparison of the bytes: toEqual over 100k-element arrays takes seconds.
      expect(Buffer.from(new Uint32Array(want).buffer).equals(Buffer.from(overlay?.offsets.buffer ?? new ArrayBuffer(0)))).toBe(true);
      expect(Buffer.from(wantRgba).equals(Buffer.from(overlay?.rgba ?? []))).toBe(true);
    }
    // And for a few detections, far less than the frame is read back.
    const [width, height, few] = cases[1];
    const area = overlayDrawing(width, height, few).regions.reduce((a, r) => a + (r.x1 - r.x0) * (r.y1 - r.y0), 0);
    expect(area).toBeLessThan(width * height * 0.3);
  });

  it('encodes a frame with no detections unchanged, and one with detections with the box drawn', async () => {
    const width = 320;
    const height = 180;
    const plain = Buffer.alloc(width * height * 3, 128);
    const jpegPlain = await annotateJpeg({ width, height, data: Buffer.from(plain) }, undefined);
    const overlay = await renderOverlay(width, height, [person]);
    const jpegBoxed = await annotateJpeg({ width, height, data: Buffer.from(plain) }, overlay);
    const decode = (jpeg: Buffer) => sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const a = await decode(jpegPlain);
    const b = await decode(jpegBoxed);
    expect(a.info.width).toBe(width);
    const at = (img: Buffer, x: number, y: number) => [...img.subarray((y * width + x) * 3, (y * width + x) * 3 + 3)];
    const edge = at(b.data, Math.round(0.2 * width), 90);
    expect(Math.max(...edge.map((v, i) => Math.abs(v - at(a.data, Math.round(0.2 * width), 90)[i])))).toBeGreaterThan(40);
    expect(at(a.data, 10, 10).every((v) => Math.abs(v - 128) < 4)).toBe(true);
  });

  it('never changes the frame it draws on: the drawing goes into a copy, reused between frames', async () => {
    const width = 320;
    const height = 180;
    const frame = { width, height, data: Buffer.alloc(width * height * 3, 128) };
    const overlay = await renderOverlay(width, height, [person]);
    const buffers = new DrawingBuffers();
    const first = await annotateJpeg(frame, overlay, 80, buffers);
    expect(frame.data.every((v) => v === 128)).toBe(true);
    // The same frame drawn again (a snapshot racing the stream) gives the same picture, not a box drawn twice.
    const second = await annotateJpeg(frame, overlay, 80, buffers);
    expect(second.equals(first)).toBe(true);
    // One buffer serves frame after frame of one size.
    const taken = buffers.take(frame.data.length);
    buffers.give(taken);
    expect(buffers.take(frame.data.length)).toBe(taken);
  });
});
