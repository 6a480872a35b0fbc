// The page's zones in a real headless Chromium against a real lookout: the
// zone editor used as a person would, with mouse clicks on the live picture
// (web/editor.js), a zone drawn around where the synthetic model's bottle
// stands (its box's bottom centre, 0.625, 0.85), saved (PATCH), still drawn
// after a reload, and showing "bottle 1" once the live socket's analytics
// message says the bottle is in it; a counting line drawn with two clicks;
// and a polygon that crosses itself refused, the server's reason shown in
// the editor. What the page drew is read from window.lookoutZones
// (web/zones.js), what the server keeps from /api/cameras. The lookout is
// started once: later tests (notifications in the drawn zone) reuse it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { RunningLookout } from '../../src/app.js';
import { packageRoot } from '../../src/util/paths.js';
import { launchChromium, skipChromium } from '../helpers/chromium.js';
import { startTestLookout } from '../helpers/lookout.js';
import { PERSON_CLIP } from '../helpers/media.js';
import { skipMosquitto, startMosquitto, subscribe, type Subscriber } from '../helpers/mosquitto.js';
import { until } from '../helpers/wait.js';

const SHOTS = path.join(packageRoot, 'test-output');
const CAMERA = 'yard';
const TILE = `lookout-camera[data-camera="${CAMERA}"]`;
/** A click lands within a CSS pixel of where it was aimed: on a ~900 px picture, about 0.002. */
const CLICK_TOLERANCE = 0.006;
/** Around the synthetic bottle's bottom centre (0.625, 0.85), listed clockwise. */
const SHELF: [number, number][] = [[0.55, 0.74], [0.72, 0.74], [0.72, 0.97], [0.55, 0.97]];
const GATE: [number, number][] = [[0.45, 0.3], [0.45, 0.95]];
/** Four clicks whose edges cross: point 0 to 1 meets point 2 to 3. */
const BOWTIE: [number, number][] = [[0.1, 0.1], [0.4, 0.4], [0.4, 0.1], [0.1, 0.45]];

type Point = [number, number];
/** window.lookoutZones, as web/zones.js leaves it. */
interface ZonesDrawn {
  visible: boolean;
  painted: boolean;
  picture: { x: number; y: number; width: number; height: number } | null;
  zones: { name: string; points: Point[]; text: string; occupied: boolean }[];
  lines: { name: string; points: Point[]; in: number; out: number; text: string }[];
  masks: Point[][];
  lit: Record<string, number>;
}
interface ZonesLog {
  cameras: Record<string, ZonesDrawn>;
  messages: { analytics: number; zone: number; crossing: number };
  editor: { camera: string; mode: string; kind: string; points: Point[]; error: string } | null;
}
interface CameraJson { id: string; settings: { zones: { name: string; points: Point[]; labels: string[] }[]; lines: { name: string; points: Point[] }[] } }

function zonesLog(page: Page): Promise<ZonesLog> {
  return page.evaluate(() => (globalThis as unknown as { lookoutZones: ZonesLog }).lookoutZones);
}

async function camera(lookout: RunningLookout): Promise<CameraJson> {
  const res = await fetch(`${lookout.url}/api/cameras`);
  const body = (await res.json()) as { cameras: CameraJson[] };
  return body.cameras.find((c) => c.id === CAMERA) as CameraJson;
}

/**
 * Where the video's picture is on the screen, worked out here from the
 * <video>'s box and its own size (object-fit: contain), not from the page's
 * own mapping: the clicks test that mapping.
 */
async function pictureOnScreen(page: Page): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await page.locator(`${TILE} video`).boundingBox();
  const [w, h] = await page.$eval(`${TILE} video`, (v) => {
    const video = v as unknown as { videoWidth: number; videoHeight: number };
    return [video.videoWidth, video.videoHeight];
  });
  if (!box || !(w > 0 && h > 0)) throw new Error('the video shows no picture');
  const scale = Math.min(box.width / w, box.height / h);
  return { x: box.x + (box.width - w * scale) / 2, y: box.y + (box.height - h * scale) / 2, width: w * scale, height: h * scale };
}

/** The picture's place once the layout has settled (the editor opening resizes the tile). */
async function settledPicture(page: Page) {
  let last = '';
  let rect = await pictureOnScreen(page);
  await until(async () => {
    rect = await pictureOnScreen(page);
    const now = JSON.stringify(rect);
    const same = now === last;
    last = now;
    return same;
  }, 10_000, 150);
  return rect;
}

async function clickPoints(page: Page, points: Point[]) {
  const pic = await settledPicture(page);
  for (const [x, y] of points) await page.mouse.click(pic.x + x * pic.width, pic.y + y * pic.height);
}

function expectNear(got: Point[], want: Point[]) {
  expect(got).toHaveLength(want.length);
  got.forEach((p, i) => {
    expect(Math.abs(p[0] - want[i][0]), `x of point ${i}: ${JSON.stringify(got)}`).toBeLessThan(CLICK_TOLERANCE);
    expect(Math.abs(p[1] - want[i][1]), `y of point ${i}: ${JSON.stringify(got)}`).toBeLessThan(CLICK_TOLERANCE);
  });
}

/** The live page with the camera's video playing and the editor open on it. */
async function openEditor(browser: BrowserContext, lookout: RunningLookout): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(lookout.url);
  await until(async () => (await page.$eval(`${TILE} video`, (v) => (v as unknown as { videoWidth: number }).videoWidth).catch(() => 0)) > 0, 20_000, 100);
  await page.click(`${TILE} .edit-zones`);
  await page.waitForSelector('#editor:not([hidden])', { timeout: 5_000 });
  return page;
}

describe.skipIf(skipChromium || skipMosquitto())('zones on the page in Chromium', () => {
  let lookout: RunningLookout;
  let browser: BrowserContext;
  let mqtt: Subscriber;

  beforeAll(async () => {
    // A Home Assistant-style subscriber on Debian's mosquitto, which lookout tells about the zone drawn.
    const broker = await startMosquitto();
    mqtt = await subscribe(broker.url, ['lookout/#']);
    lookout = await startTestLookout({
      notify: { mqtt: { url: broker.url } },
      detection: { detectFps: 5, liveFps: 0 },
      cameras: [{ id: CAMERA, url: PERSON_CLIP, loop: true }],
    });
    browser = await launchChromium({ width: 1280, height: 800 });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('draws a zone with mouse clicks, saves it, shows who is in it, and still draws it after a reload', async () => {
    const page = await openEditor(browser, lookout);
    await page.click('#editor [data-tool="zone"]');
    // Four corners, then a click on the first closes the polygon.
    await clickPoints(page, [...SHELF, SHELF[0]]);
    const editing = (await zonesLog(page)).editor;
    expect(editing?.mode).toBe('form');
    expectNear(editing?.points ?? [], SHELF);
    await page.fill('#editor input[name="name"]', 'shelf');
    await page.fill('#editor input[name="labels"]', 'bottle');
    const before = (await zonesLog(page)).messages.analytics;
    await page.click('#editor .editor-save');

    // The server has it, where it was clicked.
    await until(async () => (await camera(lookout)).settings.zones.some((z) => z.name === 'shelf'), 5_000, 100);
    const saved = (await camera(lookout)).settings.zones.find((z) => z.name === 'shelf');
    expectNear(saved?.points ?? [], SHELF);
    expect(saved?.labels).toEqual(['bottle']);
    // The page draws it at once, from the PATCH's answer, and the editor is ready for the next shape.
    await until(async () => (await zonesLog(page)).cameras[CAMERA].zones.some((z) => z.name === 'shelf'), 2_000, 50);
    expect((await zonesLog(page)).editor?.mode).toBe('idle');
    expect(await page.textContent('#editor .editor-saved')).toContain('shelf');
    // The bottle stands in it: the analytics message says so, and the zone shows it.
    await until(async () => {
      const log = await zonesLog(page);
      return log.messages.analytics > before && log.cameras[CAMERA].zones.find((z) => z.name === 'shelf')?.text === 'shelf · bottle 1';
    }, 20_000, 100);
    const shelf = (await zonesLog(page)).cameras[CAMERA].zones.find((z) => z.name === 'shelf');
    expect(shelf?.occupied).toBe(true);
    // It lit up as the bottle entered (the "zone" message's enter).
    const log = await zonesLog(page);
    expect(log.messages.zone).toBeGreaterThan(0);
    expect(log.cameras[CAMERA].lit['zone:shelf']).toBeGreaterThan(0);
    expect(await page.textContent('#editor section[data-kind="zone"] li')).toContain('bottle 1');
    await page.screenshot({ path: path.join(SHOTS, 'zones-editor-saved.png') });

    // After a reload (the editor closed): drawn from the camera's settings, with who is in it.
    await page.reload();
    await until(async () => {
      const drawn = (await zonesLog(page).catch(() => undefined))?.cameras[CAMERA];
      return drawn?.painted === true && drawn.zones.some((z) => z.name === 'shelf');
    }, 20_000, 100);
    const drawn = (await zonesLog(page)).cameras[CAMERA];
    expect(drawn.visible).toBe(true);
    expectNear(drawn.zones.find((z) => z.name === 'shelf')?.points ?? [], SHELF);
    await until(async () => (await zonesLog(page)).cameras[CAMERA].zones.find((z) => z.name === 'shelf')?.text === 'shelf · bottle 1', 10_000, 100);
    await page.screenshot({ path: path.join(SHOTS, 'zones-live.png') });

    // The Zones switch hides them, and the browser remembers it.
    await page.click('label:has(#zones-toggle)');
    await until(async () => (await zonesLog(page)).cameras[CAMERA].visible === false, 2_000, 50);
    await page.reload();
    await until(async () => (await zonesLog(page).catch(() => undefined))?.cameras[CAMERA] !== undefined, 10_000, 100);
    expect((await zonesLog(page)).cameras[CAMERA].visible).toBe(false);
    await page.click('label:has(#zones-toggle)');
    await until(async () => (await zonesLog(page)).cameras[CAMERA].visible === true, 2_000, 50);
    await page.close();
  }, 90_000);

  it('tells MQTT about the bottle in the zone drawn: its occupancy, and its event with the zone\'s name', async () => {
    // The first test drew and saved "shelf" (bottle only) around the synthetic bottle.
    await mqtt.waitFor(`lookout/${CAMERA}/shelf/bottle`, (m) => m.payload.toString() === '1' && m.retain, 20_000);
    const event = await mqtt.waitFor('lookout/events', (m) => {
      const body = JSON.parse(m.payload.toString()) as { event: { label: string; zones: string[] } };
      return body.event.label === 'bottle' && body.event.zones.includes('shelf');
    }, 20_000);
    expect((JSON.parse(event.payload.toString()) as { event: { camera: string } }).event.camera).toBe(CAMERA);
  }, 60_000);

  it('draws a counting line with two clicks', async () => {
    const page = await openEditor(browser, lookout);
    await page.click('#editor [data-tool="line"]');
    await clickPoints(page, GATE);
    expect((await zonesLog(page)).editor?.mode).toBe('form');
    await page.fill('#editor input[name="name"]', 'gate');
    await page.click('#editor .editor-save');
    await until(async () => (await camera(lookout)).settings.lines.some((l) => l.name === 'gate'), 5_000, 100);
    // A then B as clicked: the direction (which side is "in") is the order of the clicks.
    expectNear((await camera(lookout)).settings.lines.find((l) => l.name === 'gate')?.points ?? [], GATE);
    await until(async () => (await zonesLog(page)).cameras[CAMERA].lines.some((l) => l.name === 'gate'), 2_000, 50);
    const gate = (await zonesLog(page)).cameras[CAMERA].lines.find((l) => l.name === 'gate');
    expect(gate?.text).toBe('gate · in 0 · out 0');
    await page.close();
  }, 60_000);

  it('shows the server\'s reason when a drawn zone crosses itself', async () => {
    const page = await openEditor(browser, lookout);
    await page.click('#editor [data-tool="zone"]');
    await clickPoints(page, BOWTIE);
    // Enter closes the polygon, as a click on its first point would.
    await page.keyboard.press('Enter');
    expect((await zonesLog(page)).editor?.mode).toBe('form');
    await page.fill('#editor input[name="name"]', 'bad');
    await page.click('#editor .editor-save');
    await page.waitForSelector('#editor .editor-error:not([hidden])', { timeout: 5_000 });
    const error = (await page.textContent('#editor .editor-error')) ?? '';
    expect(error).toContain(`camera "${CAMERA}"`);
    expect(error).toContain('(name "bad").points');
    expect(error).toContain('crosses itself');
    expect((await zonesLog(page)).editor?.error).toBe(error);
    await page.screenshot({ path: path.join(SHOTS, 'zones-editor-error.png') });
    // Nothing changed on the server; the shape stays in the editor to fix, Escape lets it go.
    expect((await camera(lookout)).settings.zones.map((z) => z.name)).toEqual(['shelf']);
    expect((await zonesLog(page)).editor?.mode).toBe('form');
    await page.keyboard.press('Escape');
    expect((await zonesLog(page)).editor?.mode).toBe('idle');
    await page.close();
  }, 60_000);
});
