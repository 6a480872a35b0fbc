// The detection log over HTTP: detections and events, filtered and paged or
// exported whole, as json, jsonl or csv, streamed; and events' snapshots.
//
//   GET /api/detections | /api/events
//     camera, label     repeatable or comma-separated
//     minScore          0–1
//     since, until      ISO 8601 or ms since the epoch (until is exclusive)
//     limit, cursor     a page of at most limit rows (default 100, at most
//                       10000), newest first; the next page is asked for
//                       with the cursor this one returned
//     format            json (default): {"detections":[…],"nextCursor":…}
//                       jsonl, csv: with limit, that page (the cursor in the
//                       X-Next-Cursor header); without, every matching row,
//                       streamed: an export
//   GET /api/events/:id              one event
//   GET /api/events/:id/snapshot.jpg its best frame, drawn on
// A bad parameter is a 400 that names it.
import express, { type Request, type Response } from 'express';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CONTENT_TYPES, detectionShape, eventShape, exportStream, parseFormat, type ExportFormat } from '../store/formats.js';
import { parseQueryFilter, QueryError, type QueryFilter } from '../store/query-filter.js';
import type { StoreReader } from '../store/queries.js';
import { sendError } from './errors.js';
import { toEventJson } from '../store/records.js';
import { snapshotFileName, type SnapshotStore } from '../store/snapshots.js';

export interface StoreRouteDeps {
  reader: StoreReader;
  snapshots: SnapshotStore;
}


/** Streams a page or a whole export; the client going away stops the reads. */
async function send<T>(
  req: Request,
  res: Response,
  format: ExportFormat,
  shape: Parameters<typeof exportStream<T>>[1],
  filter: QueryFilter,
  page: (f: QueryFilter) => { rows: T[]; nextCursor: string | null },
  all: (f: QueryFilter) => Iterable<T[]>,
): Promise<void> {
  const exportAll = format !== 'json' && req.query.limit === undefined;
  res.setHeader('content-type', CONTENT_TYPES[format]);
  res.setHeader('cache-control', 'no-store');
  if (exportAll) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    res.setHeader('content-disposition', `attachment; filename="lookout-${shape.name}-${stamp}.${format}"`);
    await pipeline(exportStream(format, shape, all(filter)), res);
    return;
  }
  const { rows, nextCursor } = page(filter);
  if (nextCursor) res.setHeader('x-next-cursor', nextCursor);
  await pipeline(exportStream(format, shape, [rows], { nextCursor }), res);
}

export function storeRoutes(deps: StoreRouteDeps): express.Router {
  const router = express.Router();
  const { reader } = deps;

  /** The format and filters of a request, or undefined once a 400 naming the parameter went out. */
  const parse = (req: Request, res: Response, kind: 'detections' | 'events'): { format: ExportFormat; filter: QueryFilter } | undefined => {
    try {
      const { format, ...rest } = req.query;
      const filter = parseQueryFilter(rest);
      // Refused here, before any header goes out: an export already streaming could only be cut off.
      if (kind === 'detections' && filter.zone) throw new QueryError('zone', 'zone: only events record zones; ask /api/events?zone=…');
      return { format: parseFormat(format), filter };
    } catch (err) {
      if (sendError(res, err)) return undefined;
      throw err;
    }
  };

  router.get('/detections', async (req, res) => {
    const q = parse(req, res, 'detections');
    if (q) await send(req, res, q.format, detectionShape, q.filter, (f) => reader.queryDetections(f), (f) => reader.iterateDetections(f));
  });

  router.get('/events', async (req, res) => {
    const q = parse(req, res, 'events');
    if (q) await send(req, res, q.format, eventShape, q.filter, (f) => reader.queryEvents(f), (f) => reader.iterateEvents(f));
  });

  router.get('/events/:id', (req, res) => {
    const event = reader.getEvent(req.params.id);
    if (!event) {
      res.status(404).json({ error: `no event ${JSON.stringify(req.params.id)}` });
      return;
    }
    res.json(toEventJson(event));
  });

  router.get('/events/:id/snapshot.jpg', async (req, res) => {
    // The file's name follows from the event's id, so a snapshot announced over
    // the WebSocket is served even before the writer has committed its row.
    const event = reader.getEvent(req.params.id);
    const file = event?.snapshot ?? snapshotFileName(req.params.id);
    const stream = createReadStream(deps.snapshots.snapshotPath(file));
    try {
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
    } catch {
      const why = !event ? `no event ${JSON.stringify(req.params.id)}` : event.snapshot ? 'its snapshot is gone (retention removed it)' : 'it has no snapshot (yet, or it was not taken)';
      res.status(404).json({ error: event ? `event ${JSON.stringify(event.id)}: ${why}` : why });
      return;
    }
    res.setHeader('content-type', 'image/jpeg');
    // A snapshot can still be replaced by a better one while its event is open.
    res.setHeader('cache-control', event && event.end !== null ? 'public, max-age=86400' : 'no-cache');
    await pipeline(stream, res);
  });

  return router;
}
