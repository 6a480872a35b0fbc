// Gating against the real CenterNet, through the path lookout serve takes
// (bench/motion-replay.ts: the gate, the scheduler's crops and merging, the
// filters, tracking that holds over skipped frames), on the clip's own clock
// so that the gated and the ungated run see the very same frames:
// - the walking-person clip: the same people found and tracked with gating
//   as without, at a fraction of the model calls;
// - a small person at 4K (the person clip scaled down onto a black 3840×2160
//   picture, made by ffmpeg here): regions find them, the whole-frame pass,
//   which shrinks the frame six times to fit the model, does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEOPLE, SMALL_PERSON, smallPersonClip } from '../../bench/motion-clips.js';
import { eventsByLabel, replay } from '../../bench/motion-replay.js';
import { TfServingClient } from '../../src/tfserving/client.js';
import type { Detection } from '../../src/types.js';
import { tempDir } from '../helpers/cleanup.js';
import { startModelServer, type StartedServer } from '../helpers/servers.js';

let server: StartedServer;
let client: TfServingClient;

beforeAll(async () => {
  server = await startModelServer({ model: 'centernet', workers: 2 });
  client = new TfServingClient({ address: server.address, modelName: 'detector', minScore: 0.3 });
}, 120_000);

afterAll(async () => {
  client?.close();
  await server?.server.close();
});

describe('motion gating with the real detector', () => {
  it('finds and tracks the walking people as without gating (the same events ±1), with fewer model calls', async () => {
    // The first 48 s: two people walk in, stand, and leave to the right (test/fixtures/person-line-count.md).
    const clip = { file: PEOPLE, width: 768, height: 432, fps: 5, model: client, seconds: 48 };
    // Between the first person leaving (19.4 s) and the second coming in (23 s) the room is empty: no person may be tracked.
    const inGap: string[] = [];
    const gated = await replay({ ...clip, motion: {}, onFrame: (f, _plan, _dets, after) => {
      if (f.ptsMs >= 21_800 && f.ptsMs <= 22_600) inGap.push(...after.objects.filter((o) => o.label === 'person').map((o) => `${o.trackId}@${f.ptsMs}`));
    } });
    expect(inGap).toEqual([]);
    const ungated = await replay(clip);
    const g = eventsByLabel(gated.events);
    const u = eventsByLabel(ungated.events);
    expect(u.person).toBe(2);
    for (const label of new Set([...Object.keys(g), ...Object.keys(u)])) expect(Math.abs((g[label] ?? 0) - (u[label] ?? 0)), label).toBeLessThanOrEqual(1);
    // Each person's event spans about the same time either way.
    const spans = (r: typeof gated) => r.events.filter((e) => e.label === 'person').map((e) => [e.start, e.end ?? 0]).sort((a, b) => a[0] - b[0]);
    spans(gated).forEach(([start, end], i) => {
      expect(Math.abs(start - spans(ungated)[i][0])).toBeLessThanOrEqual(1_000);
      expect(Math.abs(end - spans(ungated)[i][1])).toBeLessThanOrEqual(2_000);
    });
    expect(ungated.sent).toBe(ungated.frames);
    expect(gated.skipped).toBeGreaterThan(0);
    expect(gated.sent).toBeLessThan(ungated.sent);
  }, 400_000);

  it('finds a small person at 4K in regions, which the whole-frame pass misses', async () => {
    const file = smallPersonClip(tempDir('lookout-4k-'), 4, 16);
    const { x, y, width, height, frame } = SMALL_PERSON;
    const onPerson = (d: Detection) => {
      const cx = ((d.box[1] + d.box[3]) / 2) * frame.width;
      const cy = ((d.box[0] + d.box[2]) / 2) * frame.height;
      return d.label === 'person' && cx >= x && cx <= x + width && cy >= y && cy <= y + height;
    };
    const found = { regions: 0, whole: 0 };
    const clip = { file, ...frame, fps: 5, model: client };
    const withRegions = await replay({ ...clip, motion: {}, onFrame: (_f, plan, dets) => { if (plan?.kind === 'regions' && dets.some(onPerson)) found.regions++; } });
    const whole = await replay({ ...clip, onFrame: (_f, _plan, dets) => { if (dets.some(onPerson)) found.whole++; } });
    // The person walks in at about 6 s of the clip (2 s here) and out at 19 s (15 s here).
    expect(found.regions).toBeGreaterThanOrEqual(10);
    expect(eventsByLabel(withRegions.events).person).toBeGreaterThanOrEqual(1);
    expect(withRegions.regions).toBeGreaterThan(withRegions.full);
    // Fitted whole into 640×360, the person is 13 px tall: at most a lucky frame or two, never an event.
    expect(found.whole).toBeLessThanOrEqual(3);
    expect(eventsByLabel(whole.events).person ?? 0).toBe(0);
  }, 180_000);
});
