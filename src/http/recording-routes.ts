// Recordings over HTTP (docs/recordings.md):
//
//   GET /api/recordings?camera&since&until&limit   segments, spans and gaps
//   GET /api/recordings/:camera/clip.mp4?since&until
//                                                  one MP4 for the span, Range and HEAD
//   GET /api/recordings/:camera/segments/:id.mp4   one segment file as it is
//   GET /api/events/:id/clip.mp4                   the event, with its pre and post seconds
//
// A bad parameter is a 400 that names it; nothing recorded is a 404.
import express, { type Request, type Response } from 'express';
import { access, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RecordSettings } from '../config/schema.js';
import { clipBytes, planClip, type ClipPlan } from '../record/clip.js';
import { parseQueryFilter, QueryError } from '../store/query-filter.js';
import type { StoreReader } from '../store/queries.js';
import { segmentPath } from '../store/segment-files.js';
import type { SegmentReader, SegmentRecord, StoredSegment } from '../store/segments.js';
import { sendError } from './errors.js';

/** Longest span one clip covers. */
const MAX_CLIP_MS = 24 * 3_600_000;
/** Segments less than this apart belong to one span. */
const SPAN_JOIN_MS = 1_000;

export interface RecordingRouteDeps {
  dir: string;
  reader: StoreReader;
  segments: SegmentReader;
  /** The segment a camera is writing now and those it finished lately, as they are on disk (their rows lag). */
  live(camera: string): SegmentRecord[];
  /** A camera's record settings (pre/post seconds of its events); undefined for a camera no longer configured. */
  settings(camera: string): RecordSettings | undefined;
  defaults: RecordSettings;
}

export interface Span { camera: string; start: number; end: number }

/** A segment as GET /api/recordings lists it. */
export interface SegmentJson {
  id: number;
  camera: string;
  start: number;
  end: number;
  path: string;
  bytes: number;
  complete: boolean;
  event: boolean | null;
  url: string;
}

/** GET /api/recordings's answer. */
export interface RecordingsJson { segments: SegmentJson[]; spans: Span[]; gaps: Span[]; truncated: boolean }

function spansOf(segments: StoredSegment[]): Span[] {
  const spans: Span[] = [];
  const open = new Map<string, Span>();
  for (const s of segments) {
    const span = open.get(s.camera);
    if (span && s.start - span.end < SPAN_JOIN_MS) span.end = Math.max(span.end, s.end);
    else {
      const next = { camera: s.camera, start: s.start, end: s.end };
      spans.push(next);
      open.set(s.camera, next);
    }
  }
  return spans;
}

export function recordingRoutes(deps: RecordingRouteDeps): express.Router {
  const router = express.Router();

  const segmentJson = (s: StoredSegment): SegmentJson => ({
    id: s.id, camera: s.camera, start: s.start, end: s.end, path: s.path, bytes: s.bytes, complete: s.complete, event: s.event,
    url: `/api/recordings/${encodeURIComponent(s.camera)}/segments/${s.id}.mp4`,
  });

  router.get('/recordings', (req, res) => {
    try {
      const f = parseQueryFilter({ ...req.query, limit: req.query.limit ?? '1000' });
      const since = f.since ?? 0;
      const until = f.until ?? Date.now() + 60_000;
      // The rows of the segments being written (and just finished) lag the files: the writer's view replaces them.
      const lives = new Map<string, SegmentRecord[]>();
      const liveOf = (camera: string): SegmentRecord[] => lives.get(camera) ?? lives.set(camera, deps.live(camera)).get(camera) ?? [];
      const found = deps.segments.overlapping({ cameras: f.camera ?? [], since, until, limit: f.limit }).map((row) => {
        const live = liveOf(row.camera).find((l) => l.path === row.path);
        return live ? { ...row, end: live.end, bytes: live.bytes, complete: live.complete } : row;
      });
      const segments = found.slice(0, f.limit);
      const spans = spansOf(segments);
      const gaps: Span[] = [];
      for (const camera of new Set(spans.map((s) => s.camera))) {
        const mine = spans.filter((s) => s.camera === camera);
        mine.forEach((s, i) => {
          const next = mine[i + 1];
          if (next) gaps.push({ camera, start: s.end, end: next.start });
        });
      }
      res.json({ segments: segments.map(segmentJson), spans, gaps, truncated: found.length > f.limit } satisfies RecordingsJson);
    } catch (err) {
      if (!sendError(res, err)) throw err;
    }
  });

  /** Plans a camera's clip; answers 404 itself when nothing of it was recorded. */
  const plan = async (res: Response, camera: string, since: number, until: number): Promise<ClipPlan | undefined> => {
    // The rows of the segment being written (and of those just finished) lag the files: the writer's own view replaces them.
    const live = deps.live(camera);
    const rows: SegmentRecord[] = deps.segments.forClip(camera, since, until).filter((s) => !live.some((l) => l.path === s.path));
    const merged = [...rows, ...live].sort((a, b) => a.start - b.start);
    const p = await planClip(merged, since, until, deps.dir);
    if (!p) res.status(404).json({ error: `nothing of camera ${JSON.stringify(camera)} was recorded between ${new Date(since).toISOString()} and ${new Date(until).toISOString()}` });
    return p;
  };

  const sendClip = async (req: Request, res: Response, p: ClipPlan, name: string): Promise<void> => {
    // Retention may have deleted a file since the rows were read: a 404 now beats a broken stream later.
    for (const file of new Set(p.parts.map((part) => part.file))) {
      try {
        await access(file);
      } catch {
        res.status(404).json({ error: 'part of this clip was deleted (retention) while it was being assembled; ask again' });
        return;
      }
    }
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('content-type', 'video/mp4');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-disposition', `inline; filename="${name}"`);
    res.setHeader('x-lookout-clip-start', String(p.clipStart));
    res.setHeader('x-lookout-clip-end', String(p.clipEnd));
    res.setHeader('access-control-expose-headers', 'x-lookout-clip-start, x-lookout-clip-end, x-lookout-clip-truncated');
    if (p.truncated) res.setHeader('x-lookout-clip-truncated', p.truncated);
    let start = 0;
    let end = p.length - 1;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      const a = m?.[1] ? Number(m[1]) : undefined;
      const b = m?.[2] ? Number(m[2]) : undefined;
      if (m && a === undefined && b !== undefined) start = Math.max(0, p.length - b);
      else if (m && a !== undefined) {
        start = a;
        if (b !== undefined) end = Math.min(b, p.length - 1);
      }
      if (!m || (a === undefined && b === undefined) || start > end || start >= p.length) {
        res.status(416).setHeader('content-range', `bytes */${p.length}`);
        res.json({ error: `range ${JSON.stringify(range.slice(0, 60))} is not within the clip's ${p.length} bytes` });
        return;
      }
      res.status(206).setHeader('content-range', `bytes ${start}-${end}/${p.length}`);
    }
    res.setHeader('content-length', String(end - start + 1));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(Readable.from(clipBytes(p, start, end)), res).catch((err: Error) => {
      // The client went away (seeking does that all the time), or a file went mid-clip.
      if (!res.headersSent) throw err;
      res.destroy();
    });
  };

  const clipRoute = async (req: Request, res: Response): Promise<void> => {
    try {
      const camera = String(req.params.camera);
      const f = parseQueryFilter(req.query);
      if (f.since === undefined) throw new QueryError('since', 'since: required (ISO 8601 or ms since the epoch)');
      if (f.until === undefined) throw new QueryError('until', 'until: required (ISO 8601 or ms since the epoch)');
      if (f.until <= f.since) throw new QueryError('until', 'until: must be later than since');
      if (f.until - f.since > MAX_CLIP_MS) throw new QueryError('until', `until: a clip covers at most 24 h; asked for ${((f.until - f.since) / 3_600_000).toFixed(1)} h`);
      const p = await plan(res, camera, f.since, f.until);
      if (p) await sendClip(req, res, p, `${camera}-${new Date(p.clipStart).toISOString().replace(/[:.]/g, '-')}.mp4`);
    } catch (err) {
      if (!sendError(res, err)) throw err;
    }
  };
  router.get('/recordings/:camera/clip.mp4', clipRoute);
  router.head('/recordings/:camera/clip.mp4', clipRoute);

  const eventClip = async (req: Request, res: Response): Promise<void> => {
    try {
      const event = deps.reader.getEvent(String(req.params.id));
      if (!event) {
        res.status(404).json({ error: `no event ${JSON.stringify(req.params.id)}` });
        return;
      }
      const s = deps.settings(event.camera) ?? deps.defaults;
      const since = event.start - s.preSeconds * 1000;
      // An event open for days (a parked car) gets its first 24 h, like any clip.
      const until = Math.min((event.end ?? Date.now()) + s.postSeconds * 1000, since + MAX_CLIP_MS);
      const p = await plan(res, event.camera, since, until);
      if (p) await sendClip(req, res, p, `${event.camera}-${event.label}-${event.id}.mp4`);
    } catch (err) {
      if (!sendError(res, err)) throw err;
    }
  };
  router.get('/events/:id/clip.mp4', eventClip);
  router.head('/events/:id/clip.mp4', eventClip);

  router.get('/recordings/:camera/segments/:id.mp4', async (req, res) => {
    const id = Number(req.params.id);
    const s = Number.isSafeInteger(id) ? deps.segments.get(id) : undefined;
    if (!s || s.camera !== req.params.camera) {
      res.status(404).json({ error: `no segment ${JSON.stringify(req.params.id)} of camera ${JSON.stringify(req.params.camera)}` });
      return;
    }
    let fh;
    try {
      fh = await open(segmentPath(deps.dir, s.path), 'r');
    } catch {
      res.status(404).json({ error: `segment ${s.id}'s file is gone (retention deleted it)` });
      return;
    }
    res.setHeader('content-type', 'video/mp4');
    res.setHeader('content-length', String(s.bytes));
    await pipeline(fh.createReadStream({ start: 0, end: s.bytes - 1 }), res).catch(() => res.destroy());
  });

  return router;
}
