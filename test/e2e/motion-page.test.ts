// The page's Motion switch in a real headless Chromium: off by default (the
// tiles keep only the newest motion message, nothing drawn); on, each tile
// draws what moved (dashed amber) and the squares the model was given (cyan)
// over its playing video, for the frame nearest their pts, and its badge says
// the motion state and the share of frames skipped; the choice is kept across
// a reload; off again, nothing is drawn. The bottle clip's hands move: motion.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, skipChromium } from '../helpers/chromium.js';
import type { RunningLookout } from '../../src/app.js';
import { packageRoot } from '../../src/util/paths.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { sleep, until } from '../helpers/wait.js';

const SHOTS = path.join(packageRoot, 'test-output');
const TILE = 'lookout-camera.tile[data-camera="kitchen"]';
const SWITCH = 'label:has(#motion-toggle)';

/** What the kitchen tile's motion layer says it shows, and what its canvas and badge really show, read at one moment. */
interface Seen {
  shown: boolean;
  messages: number;
  paints: number;
  pts: number | null;
  boxes: number;
  regions: number;
  /** Pixels of the motion canvas painted amber (motion) and cyan (regions), and painted at all. */
  amber: number;
  cyan: number;
  painted: number;
  badgeHidden: boolean;
  badge: string;
  /** The video's playhead, seconds. */
  playhead: number;
}

/** The parts of the page look() reads (the tests are type-checked without the DOM's types). */
interface MotionDrawn { shown: boolean; messages: number; paints: number; pts: number | null; boxes: unknown[]; regions: unknown[] }
interface Canvas { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }
interface Tile { querySelector(selector: string): unknown }

function look(page: Page): Promise<Seen> {
  return page.$eval(TILE, (el) => {
    const tile = el as unknown as Tile;
    const drawn = (globalThis as unknown as { lookoutMotion: { cameras: Record<string, MotionDrawn> } }).lookoutMotion.cameras.kitchen;
    const canvas = tile.querySelector('canvas.motion') as Canvas;
    const badge = tile.querySelector('.motion-badge') as { hidden: boolean; textContent: string | null };
    const video = tile.querySelector('video') as { currentTime: number };
    let amber = 0;
    let cyan = 0;
    let painted = 0;
    if (canvas.width > 0 && canvas.height > 0) {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a === 0) continue;
        painted++;
        if (a > 200 && r > 200 && g > 140 && g < 215 && b < 110) amber++;
        if (a > 200 && r < 130 && g > 170 && b > 180) cyan++;
      }
    }
    return {
      shown: drawn.shown, messages: drawn.messages, paints: drawn.paints, pts: drawn.pts,
      boxes: drawn.boxes.length, regions: drawn.regions.length, amber, cyan, painted,
      badgeHidden: badge.hidden, badge: badge.textContent ?? '', playhead: video.currentTime,
    };
  });
}

/** Waits until the kitchen's native video is playing: its playhead moves. */
async function playing(page: Page): Promise<void> {
  await page.waitForSelector(`${TILE}[data-video="native"] video`, { timeout: 30_000 });
  const playhead = () => page.$eval(`${TILE} video`, (v) => (v as unknown as { currentTime: number }).currentTime);
  await until(async () => (await playhead()) > 0, 30_000, 200);
  const first = await playhead();
  await until(async () => (await playhead()) > first + 0.5, 20_000, 200);
}

/** Samples the tile until it has drawn motion boxes, and (when the server sent any) the model's regions. */
async function drawsMotion(page: Page): Promise<{ boxes: Seen; regions: Seen | undefined }> {
  let boxes: Seen | undefined;
  let regions: Seen | undefined;
  const end = Date.now() + 25_000;
  while (Date.now() < end && !(boxes && regions)) {
    const seen = await look(page);
    if (!boxes && seen.boxes > 0) boxes = seen;
    if (!regions && seen.regions > 0) regions = seen;
    await sleep(100);
  }
  if (!boxes) throw new Error(`no motion boxes drawn within 25 s: ${JSON.stringify(await look(page))}`);
  return { boxes, regions };
}

describe.skipIf(skipChromium)('the page\'s motion layer in Chromium', () => {
  let lookout: RunningLookout;
  let browser: BrowserContext;

  beforeAll(async () => {
    lookout = await startTestLookout({
      detection: { detectFps: 5, liveFps: 10 },
      // A small model input: squares around the hands are cheaper than the whole frame, so regions are sent too.
      cameras: [{ id: 'kitchen', url: BOTTLE_CLIP, loop: true, size: { width: 192, height: 192 } }],
    });
    browser = await launchChromium({ width: 1280, height: 760 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('draws what moved and what the model was given when the switch is on, with a badge, and nothing when off', async () => {
    const page = await browser.newPage();
    await page.goto(lookout.url);
    await playing(page);

    // Off by default: the messages come, nothing is drawn, no badge.
    expect(await page.isChecked('#motion-toggle')).toBe(false);
    await until(async () => (await look(page)).messages > 5, 10_000, 100);
    const off = await look(page);
    expect(off).toMatchObject({ shown: false, paints: 0, painted: 0, badgeHidden: true });

    await page.click(SWITCH);
    expect(await page.isChecked('#motion-toggle')).toBe(true);
    const { boxes, regions } = await drawsMotion(page);
    expect(boxes.shown).toBe(true);
    expect(boxes.amber).toBeGreaterThan(20);
    // Drawn on the frame nearest their pts: the video's playhead is at most a second from it.
    expect(Math.abs((boxes.pts as number) - boxes.playhead)).toBeLessThan(1.1);
    const cameras = await (await fetch(`${lookout.url}/api/cameras`)).json() as { cameras: { id: string; motion: { sentRegions: number } }[] };
    const sentRegions = cameras.cameras.find((c) => c.id === 'kitchen')?.motion.sentRegions ?? 0;
    // The model's size is 192×192 here, so a hand's motion is a 192-px region of the 640×360 frame.
    expect(sentRegions).toBeGreaterThan(0);
    expect(regions, `the server sent regions ${sentRegions} times, none drawn`).toBeDefined();
    expect(regions?.cyan).toBeGreaterThan(20);
    // The badge: a state at once, the share of frames skipped once a few have come.
    await until(async () => / · \d+% skipped$/.test((await look(page)).badge), 10_000, 100);
    const badged = await look(page);
    expect(badged.badgeHidden).toBe(false);
    expect(badged.badge).toMatch(/^(motion|still|calibrating) · \d+% skipped$/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'motion-page.png') });

    // Kept in the browser: on again after a reload.
    await page.reload();
    await playing(page);
    expect(await page.isChecked('#motion-toggle')).toBe(true);
    await drawsMotion(page);

    // Off: cleared at once, and nothing painted while frames go on.
    await page.click(SWITCH);
    const cleared = await look(page);
    expect(cleared).toMatchObject({ shown: false, boxes: 0, regions: 0, painted: 0, badgeHidden: true, badge: '' });
    await sleep(1_500);
    const later = await look(page);
    expect(later.playhead).toBeGreaterThan(cleared.playhead + 0.5);
    expect(later.messages).toBeGreaterThan(cleared.messages);
    expect(later).toMatchObject({ paints: cleared.paints, painted: 0, badgeHidden: true });
    await page.close();
  }, 90_000);
});
