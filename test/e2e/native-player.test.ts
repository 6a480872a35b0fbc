// The page's native player in a real headless Chromium against a real
// lookout: the camera's own H.264 through Media Source Extensions, the boxes
// drawn per presented frame (requestVideoFrameCallback), synced mode putting
// every box on the frame it was computed on, the JPEG fallback for a browser
// that cannot play the stream, and a restarted ffmpeg (a new run) played on
// without a reload. The synthetic model (fixed boxes, one of them a bottle)
// keeps it fast; what is checked is where and when boxes are drawn.
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
/** bottle-detection.mp4's frame rate (179/6). */
const CLIP_FPS = 179 / 6;
const HALF_FRAME = 0.5 / CLIP_FPS;

/** window.lookoutDrawn, as web/drawn.js leaves it. */
interface DrawnBox { label: string; trackId: number | null; box: number[]; score: number; source: 'exact' | 'interpolated' | 'extrapolated' | 'held' | 'still'; fromPts: number[] }
interface DrawnFrame { mediaTime: number; presentedAt: number; lagMs: number; receivedAt: number | null; boxes: DrawnBox[] }
interface DrawnLog { mode: 'default' | 'synced'; frames: Record<string, DrawnFrame[]>; received: Record<string, Record<string, number>> }

const TILE = 'lookout-camera[data-camera="kitchen"]';

/** The camera's drawn frames presented in the last `ms` (or all of them). */
function drawn(page: Page, camera: string, ms = Infinity): Promise<DrawnFrame[]> {
  return page.evaluate(([cam, within]) => {
    const log = (globalThis as unknown as { lookoutDrawn?: DrawnLog }).lookoutDrawn;
    const frames = log?.frames[cam] ?? [];
    const since = Date.now() - within;
    return frames.filter((f) => f.presentedAt >= since);
  }, [camera, ms] as const);
}

/** What the tile says of itself, for a failure's message: its state, stats, lag and run. */
async function tileState(page: Page): Promise<string> {
  const text = (selector: string) => page.textContent(`${TILE} ${selector}`).catch(() => null);
  return `state ${await text('.state')}, ${await text('.stats')}, "${await text('.lag')}", run ${await page.getAttribute(TILE, 'data-run')}`;
}

/** until(), and when it gives up, what the tile looked like. */
async function untilTile(page: Page, check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  try {
    await until(check, timeoutMs, everyMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; the tile: ${await tileState(page)}`);
  }
}

function currentTime(page: Page): Promise<number> {
  return page.$eval(`${TILE} video`, (v) => (v as unknown as { currentTime: number }).currentTime);
}

describe.skipIf(skipChromium)('the native player in Chromium', () => {
  let lookout: RunningLookout;
  let browser: BrowserContext;

  beforeAll(async () => {
    lookout = await startTestLookout({
      // Detections a few times a second with a latency a model might have: enough to sync and interpolate.
      detection: { detectFps: 5 },
      modelServer: { embedded: { latencyMs: 120 } },
      cameras: [{ id: 'kitchen', url: BOTTLE_CLIP, loop: true }],
    });
    browser = await launchChromium({ width: 1280, height: 760 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('plays the camera\'s own video at its frame rate, with the bottles\' boxes drawn on it', async () => {
    const page = await browser.newPage();
    await page.goto(lookout.url);
    await page.waitForSelector(`${TILE}[data-video="native"] video`, { timeout: 30_000 });
    await untilTile(page, async () => (await currentTime(page)) > 0, 60_000, 200);
    // Let the player settle on its lag (it seeks once on joining mid-stream), then measure a few seconds.
    await sleep(2_000);
    const t0 = await currentTime(page);
    const started = Date.now();
    await sleep(4_000);
    const t1 = await currentTime(page);
    const seconds = (Date.now() - started) / 1000;
    expect(t1 - t0).toBeGreaterThan(seconds * 0.7);
    const frames = (await drawn(page, 'kitchen', Date.now() - started)).filter((f) => f.presentedAt <= started + seconds * 1000);
    // Every presented frame is drawn for, at about the clip's own rate: nothing decimated on the way.
    expect(frames.length).toBeGreaterThanOrEqual(0.7 * CLIP_FPS * seconds);
    const times = frames.map((f) => f.mediaTime);
    expect(new Set(times).size).toBeGreaterThanOrEqual(0.7 * CLIP_FPS * seconds);
    // The bottle's box is drawn over the video.
    await untilTile(page, async () => (await drawn(page, 'kitchen', 2_000)).some((f) => f.boxes.some((b) => b.label === 'bottle')), 30_000);
    const mode = await page.evaluate(() => (globalThis as unknown as { lookoutDrawn: DrawnLog }).lookoutDrawn.mode);
    expect(mode).toBe('default');
    // The receipt of every fragment is known, for the glass-to-glass benchmark.
    const latest = (await drawn(page, 'kitchen', 2_000)).filter((f) => f.receivedAt !== null);
    expect(latest.length).toBeGreaterThan(0);
    for (const f of latest) expect(f.presentedAt - (f.receivedAt as number)).toBeGreaterThanOrEqual(0);
    expect(await page.textContent(`${TILE} .lag`)).toMatch(/^live · [\d.]+ s behind/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'native-player.png') });
    await page.close();
  }, 120_000);

  it('in synced mode draws on each presented frame the boxes of that very frame', async () => {
    const page = await browser.newPage();
    await page.goto(`${lookout.url}/?sync=1`);
    expect(await page.isChecked('#sync')).toBe(true);
    await untilTile(page, async () => (await drawn(page, 'kitchen', 1_000)).some((f) => f.boxes.length > 0), 60_000);
    // Held back by the model's latency plus a detection interval, once it has measured them.
    const badge = async () => (await page.textContent(`${TILE} .lag`)) ?? '';
    await untilTile(page, async () => /^synced · [\d.]+ s behind(?! · measuring)/.test(await badge()), 30_000);
    await sleep(5_000);
    const frames = await drawn(page, 'kitchen', 4_000);
    expect(frames.length).toBeGreaterThan(0.7 * CLIP_FPS * 4);
    const mode = await page.evaluate(() => (globalThis as unknown as { lookoutDrawn: DrawnLog }).lookoutDrawn.mode);
    expect(mode).toBe('synced');
    const count = { exact: 0, interpolated: 0, extrapolated: 0, held: 0, still: 0 };
    const wrong: string[] = [];
    for (const f of frames) {
      expect(f.lagMs).toBeLessThanOrEqual(3_500);
      for (const b of f.boxes) {
        count[b.source]++;
        if ((b.source === 'exact' || b.source === 'still') && Math.abs(b.fromPts[0] - f.mediaTime) > HALF_FRAME) wrong.push(`exact box of ${b.fromPts[0]} on the frame at ${f.mediaTime}`);
        if (b.source === 'interpolated' && !(b.fromPts[0] <= f.mediaTime && f.mediaTime <= b.fromPts[1])) {
          wrong.push(`box interpolated between ${b.fromPts.join(' and ')} on the frame at ${f.mediaTime}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // Held back by the model's delay plus about one detection interval (0.2 s here), not by the seconds
    // motion gating leaves between detections of the still bottles (frames it skipped hold the boxes
    // before them). Read from the tile's own account, which a loaded machine's slower model does not skew.
    const title = (await page.getAttribute(`${TILE} .lag`, 'title')) ?? '';
    const said = /held back ([\d.]+) s .*model delay ([\d.]+) s/.exec(title);
    expect(said, title).not.toBeNull();
    // (Waiting out still seconds, it sat at its 3 s bound: 2.6–2.9 s above a model delay of 0.1–0.4 s.)
    expect(Number(said?.[1]) - Number(said?.[2]), title).toBeLessThan(1.8);
    // The detection frames themselves show their own boxes; between them, tracks move.
    expect(count.exact).toBeGreaterThan(0);
    expect(count.interpolated).toBeGreaterThan(0);
    // Synced means the detection after a frame is known when it shows: boxes are seldom only held
    // (unless the model is slower than the 3 s bound, as on a machine loaded past reason; the tile says so).
    if (!/model .* late/.test(await badge())) expect(count.held).toBeLessThan(0.2 * (count.exact + count.interpolated + count.held));
    await page.close();
  }, 120_000);

  it('falls back to the annotated JPEG frames by itself where the browser cannot play the stream', async () => {
    const page = await browser.newPage();
    // A browser without H.264 in MSE (as Chromium is for H.265).
    await page.addInitScript(() => {
      const ms = (globalThis as unknown as { MediaSource: { isTypeSupported: (mime: string) => boolean } }).MediaSource;
      ms.isTypeSupported = () => false;
    });
    await page.goto(lookout.url);
    await page.waitForSelector(`${TILE}[data-video="jpeg"] img[src^="blob:"]`, { timeout: 60_000 });
    const first = await page.getAttribute(`${TILE} img`, 'src');
    await until(async () => (await page.getAttribute(`${TILE} img`, 'src')) !== first, 30_000);
    // The tile's menu says why.
    await page.click(`${TILE} .menu-button`);
    expect(await page.textContent(`${TILE} .menu .auto`)).toMatch(/cannot play H\.264/);
    expect(await page.isVisible(`${TILE} .menu .auto`)).toBe(true);
    await page.close();
  }, 120_000);

  it('plays on with a new MediaSource when the camera\'s ffmpeg restarts (a new run), without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(lookout.url);
    await until(async () => (await currentTime(page)) > 1, 60_000, 200);
    const run = Number(await page.getAttribute(TILE, 'data-run'));
    expect(run).toBeGreaterThan(0);
    // The camera's ffmpeg dies; the camera starts a new one: a new run, its timeline starting again.
    const body = (await (await fetch(`${lookout.url}/api/cameras`)).json()) as { cameras: { id: string; status: { pid?: number } }[] };
    const pid = body.cameras.find((c) => c.id === 'kitchen')?.status.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    await until(async () => Number(await page.getAttribute(TILE, 'data-run')) > run, 30_000, 200);
    // The new run's timeline starts again: frames of it are presented, and boxes drawn on them.
    const since = Date.now();
    await untilTile(page, async () => {
      const frames = await drawn(page, 'kitchen', Date.now() - since);
      return frames.length > 30 && frames.some((f) => f.boxes.some((b) => b.label === 'bottle'));
    }, 30_000);
    const t0 = await currentTime(page);
    await sleep(1_500);
    expect(await currentTime(page)).toBeGreaterThan(t0 + 0.5);
    await page.close();
  }, 120_000);
});
