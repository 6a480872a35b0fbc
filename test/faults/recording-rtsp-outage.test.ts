// The camera's RTSP server (GStreamer's, a real one) killed mid-recording and
// brought back after a few seconds (docs/recordings.md): the outage is in the
// index as a gap about as long as it was, the segments on both sides play,
// and a clip over the gap plays with its timestamps jumping across it.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { startTestLookout, type TestLookoutOptions } from '../helpers/lookout.js';
import { PERSON_CLIP } from '../helpers/media.js';
import {
  describeProbe, fetchBytes, mediaDuration, packets, probeFrames, recordings, recordingState, skipFfprobe, sortedPts, type Segment,
} from '../helpers/recordings.js';
import { prepareClip, skipRtsp, startRtspServer } from '../helpers/rtsp-server.js';
import { sleep, until } from '../helpers/wait.js';

const OUTAGE_MS = 5_000;
const skip = skipRtsp() || skipFfprobe();

describe.skipIf(skip)('recording through an RTSP server outage', () => {
  it('records the outage as a gap, keeps both sides playable, and clips across it', async () => {
    const server = await startRtspServer({ '/a': prepareClip(PERSON_CLIP, 2) });
    onCleanup(() => server.stop());
    const data = tempDir('lookout-rec-rtsp-');
    const lookout = await startTestLookout({
      store: { path: path.join(data, 'lookout.db'), recordingsDir: path.join(data, 'recordings') },
      detection: { detectFps: 5, liveFps: 0, minScore: 0.3 },
      cameras: [{ id: 'a', url: server.url('/a'), rtspTransport: 'tcp', timeoutMs: 3_000 }],
      record: { mode: 'continuous', segmentSeconds: 2 },
    } as TestLookoutOptions);
    const base = lookout.url;
    const t0 = Date.now();
    const segments = async (): Promise<Segment[]> => (await recordings(base, 'a', t0 - 60_000)).segments;
    const cameraState = async () => ((await (await fetch(`${base}/api/cameras/a`)).json()) as { state: string }).state;

    await until(async () => (await segments()).filter((s) => s.complete).length >= 2, 30_000, 200);
    const killedAt = Date.now();
    await server.kill();
    await until(async () => (await cameraState()) !== 'streaming', 10_000, 50);
    await sleep(OUTAGE_MS - (Date.now() - killedAt));
    const restartedAt = Date.now();
    await server.restart();
    // When the camera has its stream again (its backoff decides: 1, 2, 4 s… between tries).
    await until(async () => (await cameraState()) === 'streaming', 30_000, 50);
    const reconnectedAt = Date.now();
    await until(async () => (await segments()).filter((s) => s.complete && s.start > restartedAt).length >= 2, 40_000, 200);
    expect((await recordingState(base, 'a')).state).toBe('recording');

    // Two spans, and between them a gap from about the kill to about the reconnection.
    const recs = await recordings(base, 'a', t0 - 60_000, Date.now());
    expect(recs.spans, JSON.stringify(recs.spans)).toHaveLength(2);
    expect(recs.gaps.length, JSON.stringify(recs.gaps)).toBeGreaterThanOrEqual(1);
    const gap = recs.gaps.find((g) => g.start >= recs.spans[0].end - 1 && g.end <= recs.spans[1].start + 1)!;
    expect(gap, JSON.stringify(recs)).toBeDefined();
    expect(gap).toMatchObject({ camera: 'a', start: recs.spans[0].end, end: recs.spans[1].start });
    // The last frame before the kill: within a second and a half of it (what was on the wire).
    expect(Math.abs(gap.start - killedAt), `gap starts ${gap.start - killedAt} ms after the kill`).toBeLessThanOrEqual(1_500);
    // The first frame after: when the camera had its stream again.
    expect(gap.end, `gap ends ${gap.end - restartedAt} ms after the restart`).toBeGreaterThanOrEqual(restartedAt);
    expect(Math.abs(gap.end - reconnectedAt), `gap ends ${gap.end - reconnectedAt} ms after the camera was streaming again`).toBeLessThanOrEqual(2_000);
    expect(gap.end - gap.start).toBeGreaterThanOrEqual(OUTAGE_MS - 1_500);

    // The segments on both sides play, as the segment route serves them.
    const dir = tempDir('lookout-rec-rtsp-dl-');
    const complete = recs.segments.filter((s) => s.complete);
    const sides = [complete.filter((s) => s.end <= gap.start).at(-1)!, complete.find((s) => s.start >= gap.end)!];
    expect(sides.every(Boolean), JSON.stringify(complete)).toBe(true);
    for (const s of sides) {
      const got = await fetchBytes(`${base}${s.url}`);
      expect(got.status).toBe(200);
      const file = path.join(dir, `${s.id}.mp4`);
      writeFileSync(file, got.body);
      const p = await probeFrames(file);
      expect(p.errors, describeProbe(s.path, p)).toBe('');
      // Every frame the row spans (the one before the gap ends where the kill cut it).
      const pk = await packets(file);
      const what = `${describeProbe(s.path, p)}; ${pk.length} packets over ${mediaDuration(pk).toFixed(3)} s (pts ${pk.map((x) => x.pts).join(' ')}); row ${s.start}–${s.end} (${s.end - s.start} ms)`;
      expect(p.frames, what).toBeGreaterThanOrEqual(1);
      expect(Math.abs(mediaDuration(pk) * 1000 - (s.end - s.start)), what).toBeLessThanOrEqual(210);
      expect(p.frames, what).toBe(pk.length);
    }

    // A clip from two seconds before the gap to two after: it plays, and its timeline jumps the gap.
    const since = gap.start - 2_000;
    const until_ = gap.end + 2_000;
    const clip = await fetchBytes(`${base}/api/recordings/a/clip.mp4?since=${since}&until=${until_}`);
    expect(clip.status, clip.body.toString().slice(0, 300)).toBe(200);
    expect(clip.headers.get('x-lookout-clip-truncated')).toBeNull();
    const clipStart = Number(clip.headers.get('x-lookout-clip-start'));
    expect(clipStart).toBeLessThanOrEqual(since);
    const file = path.join(dir, 'clip.mp4');
    writeFileSync(file, clip.body);
    const p = await probeFrames(file);
    expect(p.errors, describeProbe('clip over the gap', p)).toBe('');
    const pk = await packets(file);
    const pts = sortedPts(pk);
    const steps = pts.slice(1).map((t, i) => ({ at: pts[i], step: t - pts[i] }));
    const jump = steps.reduce((a, b) => (b.step > a.step ? b : a));
    // One jump, as long as the gap (give or take a frame), where the gap is on the clip's timeline.
    expect(Math.abs(jump.step * 1000 - (gap.end - gap.start)), `largest step ${jump.step} s at ${jump.at} s; gap ${gap.end - gap.start} ms`).toBeLessThanOrEqual(250);
    expect(Math.abs(clipStart + jump.at * 1000 - gap.start), `last frame before the jump at ${clipStart + jump.at * 1000}, gap from ${gap.start}`).toBeLessThanOrEqual(250);
    expect(steps.filter((s) => s.step > 0.5)).toHaveLength(1);
    // Frames on both sides: about two seconds each (keyframe rounding may add one before).
    expect(pts.filter((t) => t <= jump.at).length).toBeGreaterThanOrEqual(15);
    expect(pts.filter((t) => t > jump.at).length).toBeGreaterThanOrEqual(15);
    expect(mediaDuration(pk) * 1000).toBeGreaterThanOrEqual(until_ - since - 200);
  }, 90_000);
});
