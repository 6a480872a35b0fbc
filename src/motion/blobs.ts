// From a bitmap of changed cells to the boxes of the things that moved.
//
// One moving object rarely changes every cell it covers: a shirt of one
// colour matches its own earlier position, so only its edges change, and a
// person comes out as head, arms and legs with gaps between. Dilating the
// bitmap joins fragments a few cells apart; connected components then give
// one blob per object. A blob's box is taken from its changed cells only,
// not the dilated ones, so boxes hug the motion, and its size is the count
// of changed cells, so dilation cannot make a speck of noise look large.
// Boxes that still overlap or nearly touch (an arm swung wide of the body)
// are merged last.

/** A blob in cells of the small picture: its inclusive bounds and its changed cells. */
export interface Blob {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  pixels: number;
}

/** Finds blobs in bitmaps of one size; its buffers are reused frame after frame. */
export class BlobFinder {
  private readonly grown: Uint8Array;
  private readonly scratch: Uint8Array;
  private readonly seen: Uint8Array;
  /** The flood fill's stack: each cell is pushed at most once, so the picture's size bounds it. */
  private readonly stack: Int32Array;

  constructor(readonly width: number, readonly height: number) {
    const n = width * height;
    this.grown = new Uint8Array(n);
    this.scratch = new Uint8Array(n);
    this.seen = new Uint8Array(n);
    this.stack = new Int32Array(n);
  }

  /**
   * Blobs of the changed bitmap (1 = changed) of at least `minPixels` changed
   * cells, dilated by `radius` cells to join fragments, boxes within `gap`
   * cells of each other merged. Largest box first.
   */
  find(changed: Uint8Array, minPixels: number, radius: number, gap: number): Blob[] {
    this.dilate(changed, radius);
    const kept = this.components(changed).filter((b) => b.pixels >= minPixels);
    return merge(kept, gap).sort((a, b) => area(b) - area(a));
  }

  /**
   * grown = changed dilated by a (2r+1)² square, in two passes (rows, then
   * columns), each keeping the distance to the nearest set cell on either
   * side: O(cells) whatever the radius.
   */
  private dilate(changed: Uint8Array, r: number): void {
    const { width, height, grown, scratch } = this;
    for (let y = 0; y < height; y++) {
      spread(changed, scratch, y * width, 1, width, r);
    }
    for (let x = 0; x < width; x++) {
      spread(scratch, grown, x, width, height, r);
    }
  }

  /** 8-connected components of `grown`, counting and bounding only their changed cells. */
  private components(changed: Uint8Array): Blob[] {
    const { width, height, grown, seen, stack } = this;
    seen.fill(0);
    const blobs: Blob[] = [];
    const n = width * height;
    for (let start = 0; start < n; start++) {
      if (grown[start] === 0 || seen[start] === 1) continue;
      const blob: Blob = { x0: width, y0: height, x1: -1, y1: -1, pixels: 0 };
      let top = 0;
      stack[top++] = start;
      seen[start] = 1;
      while (top > 0) {
        const i = stack[--top];
        const x = i % width;
        const y = (i - x) / width;
        if (changed[i] === 1) {
          blob.pixels++;
          if (x < blob.x0) blob.x0 = x;
          if (x > blob.x1) blob.x1 = x;
          if (y < blob.y0) blob.y0 = y;
          if (y > blob.y1) blob.y1 = y;
        }
        const ya = y > 0 ? y - 1 : 0;
        const yb = y < height - 1 ? y + 1 : y;
        const xa = x > 0 ? x - 1 : 0;
        const xb = x < width - 1 ? x + 1 : x;
        for (let ny = ya; ny <= yb; ny++) {
          for (let nx = xa; nx <= xb; nx++) {
            const j = ny * width + nx;
            if (grown[j] === 1 && seen[j] === 0) {
              seen[j] = 1;
              stack[top++] = j;
            }
          }
        }
      }
      // Every grown cell lies within `radius` of a changed one in its own component, so pixels > 0.
      blobs.push(blob);
    }
    return blobs;
  }
}

/**
 * One line of a dilation: out[k] = 1 when a set cell of `src` lies within r
 * cells along the line (cells at first, first + step, …, `count` of them).
 */
function spread(src: Uint8Array, out: Uint8Array, first: number, step: number, count: number, r: number): void {
  let last = -Infinity;
  for (let k = 0, i = first; k < count; k++, i += step) {
    if (src[i] === 1) last = k;
    out[i] = k - last <= r ? 1 : 0;
  }
  let next = Infinity;
  for (let k = count - 1, i = first + k * step; k >= 0; k--, i -= step) {
    if (src[i] === 1) next = k;
    if (next - k <= r) out[i] = 1;
  }
}

function area(b: Blob): number {
  return (b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
}

/** Cells between two boxes along the axis they are furthest apart on; 0 or less when they overlap or touch. */
function distance(a: Blob, b: Blob): number {
  return Math.max(b.x0 - a.x1, a.x0 - b.x1, b.y0 - a.y1, a.y0 - b.y1) - 1;
}

/** Merges boxes within `gap` cells of each other until none are; a merge can bring a box near another, hence the passes. */
function merge(blobs: Blob[], gap: number): Blob[] {
  const out = blobs.slice();
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < out.length; i++) {
      for (let j = out.length - 1; j > i; j--) {
        const a = out[i];
        const b = out[j];
        if (distance(a, b) > gap) continue;
        out[i] = {
          x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0),
          x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1),
          pixels: a.pixels + b.pixels,
        };
        out.splice(j, 1);
        merged = true;
      }
    }
  }
  return out;
}
