// Zones and lines on the real clips, with the real CenterNet model.
//
// The person clip's line count is checked against a count established by
// watching the clip (test/fixtures/person-line-count.md: six people, each
// walking out past the table to the right; in 6, out 0). Its detections come
// from `lookout detect` (a real child process: real ffmpeg, the embedded
// CenterNet, every 5th-of-a-second frame, none dropped, so the count does
// not depend on how busy the machine is); they then go through the same
// stages `lookout serve` runs (object filters, tracking, analytics).
//
// The bottle clip runs through a whole `lookout serve` pipeline: a zone over
// the right-hand bottle fills, its event records the zone, and the demo's
// false objects (a hand as a person, a bottle as a vase) make no event.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Analytics, type CrossingNews } from '../../src/analytics/analytics.js';
import { screen } from '../../src/analytics/screen.js';
import { filterFor } from '../../src/config/analytics.js';
import { parseConfig } from '../../src/config/parse.js';
import { Tracking } from '../../src/track/tracking.js';
import type { Detection, DetectionRecord, TrackEvent } from '../../src/types.js';
import { startCli } from '../helpers/child.js';
import { tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

/** The watched line (test/fixtures/person-line-count.md): vertical at x 0.75, from the bottom up; "in" is left to right. */
const WATCHED_LINE = { name: 'exit', points: [[0.75, 0.98], [0.75, 0.4]] };
const FPS = 5;

describe('the person clip: a line across the people\'s way out', () => {
  it('counts the six people the watched count has, all "in", none "out"', async () => {
    const out = path.join(tempDir('lookout-person-'), 'person.jsonl');
    // --min-score 0.4: what a camera keeps by default (detection.minScore) before its object filters.
    const c = startCli(['detect', PERSON_CLIP, '--fps', String(FPS), '--min-score', '0.4', '--camera', 'room', '--out', out]);
    expect(await c.exited).toBe(0);
    const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as DetectionRecord);
    const byFrame = new Map<string, DetectionRecord[]>();
    for (const r of records) byFrame.set(r.frameId, [...(byFrame.get(r.frameId) ?? []), r]);
    const start = Math.min(...records.map((r) => r.time - Number(r.frameId.split(':')[1])));
    const lastMs = Math.max(...records.map((r) => Number(r.frameId.split(':')[1])));

    const config = parseConfig({ cameras: [{ id: 'room', url: PERSON_CLIP, lines: [WATCHED_LINE] }] });
    const camera = config.cameras[0];
    const tracking = new Tracking({ threshold: (_c, label) => filterFor(camera.filters, label).threshold });
    const analytics = new Analytics(() => camera);
    const crossings: CrossingNews[] = [];
    const events: TrackEvent[] = [];
    tracking.onUpdate((u) => {
      crossings.push(...analytics.apply(u).crossings);
      events.push(...u.started);
    });
    // Every detection frame in order, empty ones too (they are what ends a track).
    for (let ms = 0; ms <= lastMs + 2_000; ms += 1000 / FPS) {
      const id = `1:${Math.round(ms)}`;
      const detections: Detection[] = (byFrame.get(id) ?? []).map((r) => ({ label: r.label, classId: r.classId, score: r.score, box: r.box }));
      const { kept } = screen(detections, camera, 768, 432);
      tracking.update({ camera: 'room', frameId: id, time: start + ms, detections: kept });
    }
    tracking.close();

    const summary = crossings.map((x) => `${((x.time - start) / 1000).toFixed(1)} s ${x.label} ${x.direction}`);
    expect(summary.filter((s) => s.endsWith('person in'))).toHaveLength(6);
    expect(summary.filter((s) => s.endsWith(' out'))).toEqual([]);
    expect(crossings.every((x) => x.label === 'person')).toBe(true);
    // At the watched times (18.8, 43.9, 68.9, 85.75, 118.7, 134.8 s), within a second.
    const watched = [18.8, 43.9, 68.9, 85.75, 118.7, 134.8];
    crossings.forEach((x, i) => expect(Math.abs((x.time - start) / 1000 - watched[i])).toBeLessThan(1.0));
    // Each crossing belongs to one of the people's events.
    const people = new Set(events.filter((e) => e.label === 'person').map((e) => e.id));
    expect(crossings.every((x) => people.has(x.eventId))).toBe(true);
  }, 600_000);
});

describe('the bottle clip, through lookout serve', () => {
  it('fills a zone drawn over the right-hand bottle, records it on the bottle\'s event, and makes no event of the hand or a vase', async () => {
    const lookout = await startTestLookout({
      modelServer: { embedded: { model: 'centernet', workers: 1 } },
      cameras: [{
        id: 'table',
        url: BOTTLE_CLIP,
        loop: true,
        detectFps: 5,
        zones: [{ name: 'right', points: [[0.7, 0.75], [0.98, 0.75], [0.98, 0.97], [0.7, 0.97]] }],
      }],
    });
    const base = lookout.url.replace('localhost', '127.0.0.1');
    const camera = async () => (await (await fetch(`${base}/api/cameras/table`)).json()) as { analytics: { zones: Record<string, Record<string, number>> } };
    await until(async () => (await camera()).analytics.zones.right.bottle === 1, 60_000, 200);
    await lookout.store?.writer.flush();
    type Ev = { label: string; zones: string[] };
    const rows = async () => ((await (await fetch(`${base}/api/events?camera=table&limit=100`)).json()) as { events: Ev[] }).events;
    await until(async () => (await rows()).some((e) => e.zones.includes('right')), 20_000, 200);
    const inZone = (await (await fetch(`${base}/api/events?zone=right`)).json()) as { events: Ev[] };
    expect(inZone.events.every((e) => e.label === 'bottle' && e.zones.includes('right'))).toBe(true);
    // The clip's first seconds show the hand and the vase-like bottle: no event may be of them.
    expect((await rows()).map((e) => e.label).filter((l) => l !== 'bottle')).toEqual([]);
    const counts = (await (await fetch(`${base}/api/counts?camera=table&zone=right&bucket=1m`)).json()) as { zones: { zone: string; label: string; enter: number }[] };
    expect(counts.zones.find((z) => z.zone === 'right' && z.label === 'bottle')?.enter).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
