// lookout's page in a real headless Chromium for bench:density: native video
// through MSE, boxes drawn per presented frame. The page leaves what it drew
// on window.lookoutDrawn (web/drawn.js): per camera, each presented frame's
// mediaTime, presentedAt (epoch ms) and boxes, and each received fragment's
// receivedAt by pts. From those: lookout-to-glass latency, and the boxes to
// compare with the offline detections.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// --headless is Playwright's to add (headless: true below): with it in args and Playwright
// believing the browser headed, a second page is a background tab, and background tabs
// present no video frames to requestVideoFrameCallback.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

export type Box = [number, number, number, number];

export interface DrawnBox {
  label: string;
  trackId: number | null;
  box: Box;
  score: number;
  source: 'exact' | 'interpolated' | 'held';
  fromPts: number[];
}

export interface DrawnFrame {
  mediaTime: number;
  presentedAt: number;
  lagMs: number;
  boxes: DrawnBox[];
}

export interface Drawn {
  mode: string;
  frames: Record<string, DrawnFrame[]>;
  received: Record<string, Record<string, number>>;
}

/** Why the page cannot be measured here, or undefined when it can. */
export function pageUnavailable(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing`;
  return undefined;
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; the flags keep it off the network it cannot reach here. */
export async function launchBrowser(): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lookout-density-chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 } });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the page (synced or default) and waits until every camera has presented frames with the page's bookkeeping. */
export async function openPage(browser: Browser, url: string, synced: boolean, cameras: string[], timeoutMs = 60_000): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${url}/?sync=${synced ? 1 : 0}`);
  await page.waitForFunction((ids: string[]) => {
    const drawn = (globalThis as unknown as { lookoutDrawn?: Drawn }).lookoutDrawn;
    return drawn !== undefined && ids.every((id) => (drawn.frames[id]?.length ?? 0) > 0);
  }, cameras, { timeout: timeoutMs, polling: 250 });
  return page;
}

/** What the page drew from `since` (epoch ms) on. */
export async function drawnSince(page: Page, since: number): Promise<Drawn> {
  return page.evaluate((t: number) => {
    const drawn = (globalThis as unknown as { lookoutDrawn: Drawn }).lookoutDrawn;
    const frames: Record<string, DrawnFrame[]> = {};
    for (const [camera, list] of Object.entries(drawn.frames)) frames[camera] = list.filter((f) => f.presentedAt >= t);
    return { mode: drawn.mode, frames, received: drawn.received };
  }, since);
}

export interface Latency {
  /** presentedAt − receivedAt, ms, one per presented frame whose fragment's receivedAt is known. */
  samples: number[];
  /** Presented frames with no received fragment of that pts (received before the page's record). */
  unmatched: number;
  /** How far behind the live edge the page played (the page's lagMs), median. */
  lagMsP50: number;
}

/** Lookout-to-glass latency: each presented frame against when lookout got its fragment from ffmpeg. */
export function latencyOf(drawn: Drawn): Latency {
  const samples: number[] = [];
  const lags: number[] = [];
  let unmatched = 0;
  for (const [camera, frames] of Object.entries(drawn.frames)) {
    const received = receivedOf(drawn, camera);
    for (const f of frames) {
      lags.push(f.lagMs);
      const at = nearest(received, f.mediaTime, 0.002);
      if (at === undefined) unmatched++;
      else samples.push(f.presentedAt - at);
    }
  }
  return { samples, unmatched, lagMsP50: quantile(lags, 0.5) };
}

/** A camera's fragments as the page got them: [pts, receivedAt] sorted by pts. */
export function receivedOf(drawn: Drawn, camera: string): (readonly [number, number])[] {
  return Object.entries(drawn.received[camera] ?? {}).map(([pts, at]) => [Number(pts), at] as const).sort((a, b) => a[0] - b[0]);
}

/** The value of the entry whose key is nearest `key`, within `tolerance`. Entries sorted by key. */
export function nearest(entries: (readonly [number, number])[], key: number, tolerance: number): number | undefined {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid][0] < key) lo = mid + 1;
    else hi = mid;
  }
  let best: readonly [number, number] | undefined;
  for (const e of [entries[lo - 1], entries[lo]]) {
    if (e && Math.abs(e[0] - key) <= tolerance && (!best || Math.abs(e[0] - key) < Math.abs(best[0] - key))) best = e;
  }
  return best?.[1];
}

/** The q-quantile (nearest rank) of xs; NaN for none. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
