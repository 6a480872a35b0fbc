// Recordings as a user checks them (docs/recordings.md): a looping clip
// camera recorded continuously in 2 s segments. The files are where their
// start time says, each plays by itself, the API lists them with the times
// the files hold, a clip of any span plays and serves byte ranges, and an
// event's clip holds every detection of the event on its timeline.
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningLookout } from '../../src/app.js';
import { tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { PERSON_CLIP } from '../helpers/media.js';
import {
  describeProbe, expectedStem, fetchBytes, fileSize, mediaDuration, packets, parseSegmentPath, prftTimes, probeFrames,
  recordings, segmentFiles, skipFfprobe, sortedPts, storeRecordings, topBoxes, type Packet, type Segment,
} from '../helpers/recordings.js';
import { until } from '../helpers/wait.js';

// The person clip: 10 fps, a keyframe every second, B-frames (decode time one frame before presentation).
const FRAME_S = 0.1;

/** Where a file's decode times step back (a player drops or overlays those frames): "t0 → t1 at packet i". */
function backwards(pk: Packet[]): string[] {
  return pk.slice(1).flatMap((p, i) => (p.dts <= pk[i].dts ? [`${pk[i].dts} → ${p.dts} at packet ${i + 1}`] : []));
}

const skip = skipFfprobe();

describe.skipIf(skip)('recordings of a camera', () => {
  let lookout: RunningLookout;
  let base: string;
  let dir: string;
  const done = async (): Promise<Segment[]> => (await recordings(base, 'a')).segments.filter((s) => s.complete);

  beforeAll(async () => {
    const data = tempDir('lookout-rec-');
    dir = path.join(data, 'recordings');
    lookout = await startTestLookout({
      store: { path: path.join(data, 'lookout.db'), recordingsDir: dir },
      detection: { detectFps: 5, liveFps: 0, minScore: 0.3 },
      cameras: [
        { id: 'a', url: PERSON_CLIP, loop: true },
        // events mode, with and without events (the synthetic model sees a person in every frame; 0.99 keeps none of it)
        { id: 'busy', url: PERSON_CLIP, loop: true, detectFps: 2, record: { mode: 'events' } },
        { id: 'quiet', url: PERSON_CLIP, loop: true, detectFps: 1, minScore: 0.99, record: { mode: 'events' } },
      ],
      record: { mode: 'continuous', segmentSeconds: 2, preSeconds: 1, postSeconds: 1, graceSeconds: 1 },
    });
    base = lookout.url;
    // Five whole 2 s segments: about 12 s of a realtime clip.
    await until(async () => (await done()).length >= 5, 40_000, 250);
  }, 60_000);

  it('writes each segment where its start time says, playable by itself, listed with the times it holds', async () => {
    const ofA = () => segmentFiles(dir).filter((f) => f.startsWith('a/'));
    const before = ofA();
    const listed = (await recordings(base, 'a')).segments;
    const after = ofA();
    // The index and the disk agree: no row without a file, no file (but one being opened right now) without a row.
    for (const s of listed) expect(after, `row ${s.path}`).toContain(s.path);
    const listedPaths = new Set(listed.map((s) => s.path));
    expect(before.filter((f) => !listedPaths.has(f)).length, `files without rows: ${before.filter((f) => !listedPaths.has(f))}`).toBeLessThanOrEqual(1);

    // The first eight whole ones (ffprobe over more only costs time).
    const complete = listed.filter((s) => s.complete).slice(0, 8);
    expect(complete.length).toBeGreaterThanOrEqual(5);
    for (const s of complete) {
      const file = path.join(dir, s.path);
      // <camera>/<YYYY-MM-DD>/<HH>/<MM.SS>.mp4, UTC, the second of its first frame.
      expect(parseSegmentPath(s.path), s.path).not.toBeNull();
      expect(s.path.replace(/(-\d+)?\.mp4$/, ''), `${s.path} for start ${new Date(s.start).toISOString()}`).toBe(expectedStem('a', s.start));
      expect(s.camera).toBe('a');
      expect(s.bytes).toBe(fileSize(file));
      expect(s.url).toBe(`/api/recordings/a/segments/${s.id}.mp4`);
      // It plays by itself: init segment first, every frame decodes, nothing said at -v error.
      const boxes = topBoxes(readFileSync(file)).map((b) => b.type);
      expect(boxes.slice(0, 2), s.path).toEqual(['ftyp', 'moov']);
      const probe = await probeFrames(file);
      expect(probe.errors, describeProbe(s.path, probe)).toBe('');
      expect(probe.status).toBe(0);
      // Its first frame is a keyframe, and it holds as long as the row says, within a frame or two.
      const pk = await packets(file);
      expect(pk[0].key, `${s.path} starts on a keyframe`).toBe(true);
      expect(probe.frames).toBe(pk.length);
      const seconds = (s.end - s.start) / 1000;
      expect.soft(Math.abs(mediaDuration(pk) - seconds), `${s.path}: ffprobe ${mediaDuration(pk)} s, row ${seconds} s`).toBeLessThanOrEqual(2 * FRAME_S + 0.01);
      // About segmentSeconds: cut at the first keyframe at or after 2 s (there is one every second).
      expect.soft(seconds, `${s.path}: ${seconds} s long`).toBeGreaterThanOrEqual(1.8);
      expect.soft(seconds, `${s.path}: ${seconds} s long`).toBeLessThanOrEqual(3.2);
      // The file says when it was recorded: its first prft is its first keyframe's decode time (a frame before it is shown).
      const prft = prftTimes(file);
      expect(prft.length, `${s.path}: one prft per keyframe`).toBe(pk.filter((p) => p.key).length);
      expect.soft(Math.abs(prft[0] - s.start), `${s.path}: prft ${prft[0]} vs start ${s.start}`).toBeLessThanOrEqual(2 * FRAME_S * 1000 + 2);
    }
    // Continuous recording: each segment starts where the one before ended (no overlap, no hole), all one span.
    for (let i = 1; i < complete.length; i++) {
      const [prev, next] = [complete[i - 1], complete[i]];
      expect.soft(next.start - prev.end, `${prev.path} [${prev.start}, ${prev.end}] → ${next.path} [${next.start}, ${next.end}]`).toBeGreaterThanOrEqual(-2);
      expect.soft(next.start - prev.end, `${prev.path} → ${next.path}`).toBeLessThanOrEqual(2 * FRAME_S * 1000);
    }
    const within = await recordings(base, 'a', complete[0].start, complete[complete.length - 1].end);
    expect(within.spans).toHaveLength(1);
    expect(within.gaps).toEqual([]);
    expect(within.truncated).toBe(false);

    // The segment route serves the file as it is.
    const one = complete[1];
    const got = await fetchBytes(`${base}${one.url}`);
    expect(got.status).toBe(200);
    expect(got.body.equals(readFileSync(path.join(dir, one.path)))).toBe(true);
  });

  it('serves a clip of a span that plays, whole or by byte ranges, from the keyframe before since', async () => {
    const segs = await done();
    const since = segs[1].start + 500;
    const until = segs[3].start + 500;
    const url = `${base}/api/recordings/a/clip.mp4?since=${since}&until=${until}`;
    const clip = await fetchBytes(url);
    expect(clip.status, clip.body.toString().slice(0, 300)).toBe(200);
    expect(clip.headers.get('content-type')).toMatch(/video\/mp4/);
    expect(Number(clip.headers.get('content-length'))).toBe(clip.body.length);
    expect(clip.headers.get('accept-ranges')).toBe('bytes');
    const clipStart = Number(clip.headers.get('x-lookout-clip-start'));
    expect(Number.isFinite(clipStart) && clipStart > 0, `X-Lookout-Clip-Start: ${clip.headers.get('x-lookout-clip-start')}`).toBe(true);
    // The last keyframe at or before since: at most a second (the clip's keyframe interval) before it.
    expect(clipStart).toBeLessThanOrEqual(since);
    expect(clipStart).toBeGreaterThanOrEqual(since - 1000 - 2 * FRAME_S * 1000);

    const file = path.join(tempDir('lookout-clip-'), 'clip.mp4');
    writeFileSync(file, clip.body);
    const probe = await probeFrames(file);
    expect(probe.errors, describeProbe('clip', probe)).toBe('');
    const pk = await packets(file);
    expect(pk[0].key).toBe(true);
    expect(backwards(pk), 'decode times going backwards').toEqual([]);
    // To the first keyframe after until: the span, plus at most a second of keyframe rounding at each end.
    const duration = mediaDuration(pk);
    expect(duration).toBeGreaterThanOrEqual((until - since) / 1000 - FRAME_S);
    expect(duration).toBeLessThanOrEqual((until - clipStart) / 1000 + 1 + 2 * FRAME_S);
    expect(probe.frames).toBe(pk.length);
    // Media time 0 is clipStart: the first frame is at (about) 0.
    expect(sortedPts(pk)[0]).toBeGreaterThanOrEqual(-0.001);
    expect(sortedPts(pk)[0]).toBeLessThanOrEqual(2 * FRAME_S);

    // Range: 206 with exactly those bytes of the whole body.
    const ranged = await fetchBytes(url, { headers: { range: 'bytes=1000-5999' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 1000-5999/${clip.body.length}`);
    expect(ranged.body.equals(clip.body.subarray(1000, 6000))).toBe(true);
    const tail = await fetchBytes(url, { headers: { range: 'bytes=-777' } });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(clip.body.subarray(clip.body.length - 777))).toBe(true);
    // HEAD: the same length, no body.
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(clip.body.length);
    expect(head.headers.get('x-lookout-clip-start')).toBe(String(clipStart));
  });

  it('answers a bad since or until with 400 naming it, and a span with nothing recorded with 404', async () => {
    const now = Date.now();
    const bad = await fetch(`${base}/api/recordings/a/clip.mp4?since=yesterday&until=${now}`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/since/);
    const badUntil = await fetch(`${base}/api/recordings/a/clip.mp4?since=${now - 5000}&until=soon`);
    expect(badUntil.status).toBe(400);
    expect(await badUntil.text()).toMatch(/until/);
    const badList = await fetch(`${base}/api/recordings?camera=a&since=not-a-time`);
    expect(badList.status).toBe(400);
    expect(await badList.text()).toMatch(/since/);
    // Long before this camera existed.
    const empty = await fetch(`${base}/api/recordings/a/clip.mp4?since=2001-01-01T00:00:00Z&until=2001-01-01T00:10:00Z`);
    expect(empty.status).toBe(404);
  });

  it("serves an event's clip holding every detection of the event, each on its own frame", async () => {
    interface Ev { id: string; camera: string; trackId: number; label: string; start: number; end: number | null }
    interface Det { time: number; trackId: number | null; label: string }
    const list = async () => ((await (await fetch(`${base}/api/events?camera=a&label=person&limit=10`)).json()) as { events: Ev[] }).events;
    let events: Ev[] = [];
    await until(async () => (events = await list()).length > 0, 20_000, 250).catch(async () => {
      const n = ((await (await fetch(`${base}/api/detections?camera=a&limit=10000`)).json()) as { detections: unknown[] }).detections.length;
      throw new Error(`no person event on camera a after 20 s (${n} detections logged)`);
    });
    // The longest: the one a user would open.
    const now = Date.now();
    const event = events.reduce((a, b) => ((b.end ?? now) - b.start > (a.end ?? now) - a.start ? b : a));
    // What is recorded by now; the clip asks for more (the event goes on), and holds at least this.
    const segs = await done();
    const recordedEnd = segs[segs.length - 1].end;

    const clip = await fetchBytes(`${base}/api/events/${encodeURIComponent(event.id)}/clip.mp4`);
    expect(clip.status, clip.body.toString().slice(0, 300)).toBe(200);
    expect(Number(clip.headers.get('content-length'))).toBe(clip.body.length);
    const clipStart = Number(clip.headers.get('x-lookout-clip-start'));
    expect(Number.isFinite(clipStart) && clipStart > 0).toBe(true);
    const file = path.join(tempDir('lookout-evclip-'), 'event.mp4');
    writeFileSync(file, clip.body);
    const probe = await probeFrames(file);
    expect(probe.errors, describeProbe('event clip', probe)).toBe('');
    const pk = await packets(file);
    // One timeline: decode times only go forward, also where segments join (and the run clock moved).
    expect.soft(backwards(pk), 'decode times going backwards').toEqual([]);
    const clipEnd = clipStart + mediaDuration(pk) * 1000;

    const q = `camera=a&label=person&since=${event.start}&until=${recordedEnd}&limit=10000`;
    const dets = ((await (await fetch(`${base}/api/detections?${q}`)).json()) as { detections: Det[] }).detections
      .filter((d) => d.trackId === event.trackId);
    expect(dets.length).toBeGreaterThan(10);
    const outside = dets.filter((d) => d.time < clipStart || d.time > clipEnd);
    expect(outside.map((d) => d.time), `clip [${clipStart}, ${clipEnd}]`).toEqual([]);
    // The detection at time T is on the clip's frame at media time T - clipStart, to the millisecond.
    const frameTimes = sortedPts(pk).map((t) => clipStart + t * 1000);
    const off = dets.map((d) => ({ time: d.time, ms: Math.min(...frameTimes.map((f) => Math.abs(f - d.time))) })).filter((x) => x.ms > 2);
    expect(off.slice(0, 5), `${off.length} of ${dets.length} detections are not on a frame of the clip`).toEqual([]);
  });

  it('in events mode deletes the segments no event overlaps once their grace is over, and keeps those an event does', async () => {
    const quietEvents = ((await (await fetch(`${base}/api/events?camera=quiet`)).json()) as { events: unknown[] }).events;
    expect(quietEvents).toEqual([]);
    // The quiet camera records like any other until its segments are judged.
    let written: string[] = [];
    await until(() => (written = segmentFiles(dir).filter((f) => f.startsWith('quiet/'))).length >= 3, 20_000, 100);
    const prunedBefore = (await storeRecordings(base)).pruned;
    // Judged once end + preSeconds + graceSeconds (2 s) has passed; then its row and file go.
    const firstTwo = written.slice(0, 2);
    await until(async () => {
      const rows = (await recordings(base, 'quiet')).segments.map((s) => s.path);
      const files = segmentFiles(dir);
      return firstTwo.every((f) => !rows.includes(f) && !files.includes(f));
    }, 30_000, 250).catch(() => { throw new Error(`quiet segments ${firstTwo.join(', ')} still kept: ${JSON.stringify(segmentFiles(dir).filter((f) => f.startsWith('quiet/')))}`); });
    // /api/store counts them (docs: recordings.pruned).
    const stats = await storeRecordings(base);
    expect(stats.pruned).toBeGreaterThanOrEqual((prunedBefore ?? 0) + 2);
    // The busy camera's segments are all claimed by its (ongoing) events: judged true, and kept.
    const busySegments = async () => (await recordings(base, 'busy')).segments.filter((s) => s.complete);
    await until(async () => (await busySegments()).filter((s) => s.event !== null).length >= 2, 20_000, 250);
    const busy = await busySegments();
    const judged = busy.filter((s) => s.event !== null);
    expect(judged.filter((s) => s.event !== true).map((s) => s.path)).toEqual([]);
    const files = segmentFiles(dir);
    for (const s of busy) expect(files).toContain(s.path);
    // And continuous keeps everything, judged or not.
    const a = (await recordings(base, 'a')).segments;
    expect(a.filter((s) => !files.includes(s.path)).map((s) => s.path)).toEqual([]);
  });

});
