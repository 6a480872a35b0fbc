// A camera frame as the small grey picture motion works on.
//
// Motion runs on every detection frame of every camera in the main thread,
// so it never reads a whole frame: a 4K frame is 25 MB, and reading it all
// would cost tens of milliseconds. Each cell of the small picture averages
// a 2×2 grid of sampled pixels instead (four reads per cell, whatever the
// frame's size), then a 3×3 box blur over the small picture averages
// neighbouring cells. Codec noise is mostly uncorrelated from pixel to
// pixel, so those 36 samples per output cell calm it; an object worth
// detecting spans many cells, so the blur costs it little.
//
// The sampled positions are the same in every frame of one size, so a still
// scene gives the same grey picture up to codec noise, even where sampling
// misses fine texture (aliasing is constant, not flicker).
import type { Size } from '../util/rect.js';

/** The small picture's longer side at most, in cells: 320×180 for 16:9. */
export const MAX_SIDE = 320;

export type { Size };

/** The small picture's size for a frame's: its longer side at most MAX_SIDE, the aspect kept, never enlarged. */
export function smallSize(width: number, height: number): Size {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Scales frames of one size to grey; one per camera, its buffers reused frame after frame. */
export class GreyScaler {
  readonly width: number;
  readonly height: number;
  /** Byte offsets within a row of the two sampled columns of each cell. */
  private readonly cols: Int32Array;
  /** Byte offsets of the two sampled rows of each cell. */
  private readonly rows: Int32Array;
  /** Per cell, the sum of its four samples' luma × 256. */
  private readonly cells: Uint32Array;
  /** The horizontal pass of the blur. */
  private readonly across: Uint32Array;
  /** The picture, grey levels 0–255, overwritten by each scale(). */
  private readonly out: Float32Array;

  constructor(readonly frameWidth: number, readonly frameHeight: number) {
    const { width, height } = smallSize(frameWidth, frameHeight);
    this.width = width;
    this.height = height;
    this.cols = samples(frameWidth, width, 3);
    this.rows = samples(frameHeight, height, frameWidth * 3);
    this.cells = new Uint32Array(width * height);
    this.across = new Uint32Array(width * height);
    this.out = new Float32Array(width * height);
  }

  /** The blurred grey picture of one packed RGB24 frame of this size; valid until the next call. */
  scale(data: Uint8Array): Float32Array {
    const { width, height, cols, rows, cells } = this;
    for (let y = 0; y < height; y++) {
      const r0 = rows[2 * y];
      const r1 = rows[2 * y + 1];
      const line = y * width;
      for (let x = 0; x < width; x++) {
        const c0 = cols[2 * x];
        const c1 = cols[2 * x + 1];
        cells[line + x] = luma(data, r0 + c0) + luma(data, r0 + c1) + luma(data, r1 + c0) + luma(data, r1 + c1);
      }
    }
    this.blur();
    return this.out;
  }

  /** 3×3 box blur, separable, edges repeated; integer sums until the one division. */
  private blur(): void {
    const { width, height, cells, across, out } = this;
    const last = width - 1;
    for (let y = 0; y < height; y++) {
      const line = y * width;
      for (let x = 0; x < width; x++) {
        const left = x > 0 ? x - 1 : 0;
        const right = x < last ? x + 1 : last;
        across[line + x] = cells[line + left] + cells[line + x] + cells[line + right];
      }
    }
    // Four samples of luma × 256 per cell, nine cells: back to 0–255.
    const unit = 1 / (4 * 256 * 9);
    for (let y = 0; y < height; y++) {
      const up = (y > 0 ? y - 1 : 0) * width;
      const line = y * width;
      const down = (y < height - 1 ? y + 1 : y) * width;
      for (let x = 0; x < width; x++) out[line + x] = (across[up + x] + across[line + x] + across[down + x]) * unit;
    }
  }
}

/** Luma × 256 of the pixel at byte offset i (BT.601 weights in 8-bit fixed point: 77 + 150 + 29 = 256). */
function luma(data: Uint8Array, i: number): number {
  return 77 * data[i] + 150 * data[i + 1] + 29 * data[i + 2];
}

/**
 * For each of `cells` cells over `pixels` pixels, the two sampled pixels at a
 * quarter and three quarters across the cell, as byte offsets (× stride).
 */
function samples(pixels: number, cells: number, stride: number): Int32Array {
  const out = new Int32Array(2 * cells);
  const step = pixels / cells;
  for (let c = 0; c < cells; c++) {
    out[2 * c] = Math.min(pixels - 1, Math.floor((c + 0.25) * step)) * stride;
    out[2 * c + 1] = Math.min(pixels - 1, Math.floor((c + 0.75) * step)) * stride;
  }
  return out;
}
