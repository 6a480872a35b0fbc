import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { annotateJpeg, blendOverlay, renderOverlay } from '../../src/annotate/annotator.js';
import { classColour } from '../../src/annotate/overlay.js';

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
});
