// Counts over HTTP: how many crossed each line, in and out, and how many
// entered, left or loitered in each zone, per label, in time buckets.
//
//   GET /api/counts
//     camera, line, zone, label   repeatable or comma-separated; line alone
//                                 counts lines only, zone alone zones only
//     since, until                ISO 8601 or ms (default: the last 24 hours)
//     bucket                      1m, 1h (default) or 1d; buckets start on
//                                 whole UTC minutes, hours or days
//     format                      json (default) or csv
// A bad parameter is a 400 that names it.
import express from 'express';
import { BUCKETS, queryCounts, type BucketName, type CountsJson } from '../store/crossings.js';
import type { Db } from '../store/db.js';
import { csvLine } from '../store/formats.js';
import { parseQueryFilter, QueryError } from '../store/query-filter.js';
import { sendError } from './errors.js';

const DAY_MS = 86_400_000;

function names(value: unknown, param: string): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => {
    if (typeof v !== 'string') throw new QueryError(param, `${param}: expected text values`);
    return v.split(',');
  });
  const out = [...new Set(parts.map((p) => p.trim()).filter(Boolean))];
  return out.length ? out : undefined;
}

/** One row per series and bucket: the spreadsheet's long form. */
export function countsCsv(c: CountsJson): string {
  let out = csvLine(['start', 'camera', 'kind', 'name', 'label', 'in', 'out', 'enter', 'exit', 'loiter']);
  for (const s of c.lines) for (const b of s.buckets) out += csvLine([new Date(b.start).toISOString(), s.camera, 'line', s.line, s.label, b.in, b.out, null, null, null]);
  for (const s of c.zones) for (const b of s.buckets) out += csvLine([new Date(b.start).toISOString(), s.camera, 'zone', s.zone, s.label, null, null, b.enter, b.exit, b.loiter]);
  return out;
}

export function countRoutes(db: () => Db): express.Router {
  const router = express.Router();
  router.get('/counts', (req, res) => {
    try {
      const query = req.query as Record<string, unknown>;
      const { line, zone, bucket, format, ...rest } = query;
      const filter = parseQueryFilter(rest);
      const b = bucket === undefined ? '1h' : bucket;
      if (typeof b !== 'string' || !Object.hasOwn(BUCKETS, b)) throw new QueryError('bucket', `bucket: expected ${Object.keys(BUCKETS).join(', ')}; got ${JSON.stringify(b)}`);
      if (format !== undefined && format !== 'json' && format !== 'csv') throw new QueryError('format', `format: expected json or csv; got ${JSON.stringify(format)}`);
      const until = filter.until ?? Date.now();
      const since = filter.since ?? until - DAY_MS;
      if (until < since) throw new QueryError('since', 'since: later than until');
      const counts = queryCounts(db(), {
        ...(filter.camera ? { camera: filter.camera } : {}),
        ...(filter.label ? { label: filter.label } : {}),
        ...(names(line, 'line') ? { line: names(line, 'line') } : {}),
        ...(names(zone, 'zone') ? { zone: names(zone, 'zone') } : {}),
        since,
        until,
        bucket: b as BucketName,
      });
      res.setHeader('cache-control', 'no-store');
      if (format === 'csv') {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        res.setHeader('content-type', 'text/csv; charset=utf-8; header=present');
        res.setHeader('content-disposition', `attachment; filename="lookout-counts-${stamp}.csv"`);
        res.send(countsCsv(counts));
        return;
      }
      res.json(counts);
    } catch (err) {
      if (!sendError(res, err)) throw err;
    }
  });
  return router;
}
