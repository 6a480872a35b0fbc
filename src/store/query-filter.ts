// What a query of the detection log asks for, read from an API request's
// query string: cameras, labels, a score, a time span, a page size and the
// cursor of the page before. Every value is checked here, and a wrong one is
// a QueryError naming the parameter, so the SQL side (queries.ts) only ever
// sees a well-formed filter.
import { LookoutError } from '../util/errors.js';

export interface QueryFilter {
  /** Any of these cameras; absent or empty for all. */
  camera?: string[];
  label?: string[];
  /** Events only: any of these zones among those the object entered. */
  zone?: string[];
  /** Detection score (events: their best score) at least this. */
  minScore?: number;
  /** ms since the epoch, inclusive (events: their start). */
  since?: number;
  /** ms since the epoch, exclusive. */
  until?: number;
  /** Rows per page, 1…MAX_LIMIT. */
  limit: number;
  /** The previous page's nextCursor. */
  cursor?: string;
}

export const MAX_LIMIT = 10_000;
const DEFAULT_LIMIT = 100;
/** More values than this in one list filter is not a question a person asks. */
const MAX_LIST = 100;

/** A query parameter the API cannot use; `param` names it, and so does the message. */
export class QueryError extends LookoutError {
  readonly code = 'BAD_QUERY';
  constructor(readonly param: string, message: string) {
    super(message);
  }

  override fields(): Record<string, unknown> {
    return { param: this.param };
  }
}

/** The cursor is opaque to clients: base64url of [kind, time, id]. */
export function encodeCursor(kind: 'd' | 'e', time: number, id: number | string): string {
  return Buffer.from(JSON.stringify([kind, time, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { kind: 'd' | 'e'; time: number; id: number | string } {
  const bad = () => new QueryError('cursor', 'cursor: not a cursor this API returned');
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw bad();
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(v) || v.length !== 3) throw bad();
  const [kind, time, id] = v as unknown[];
  if ((kind !== 'd' && kind !== 'e') || !Number.isSafeInteger(time)) throw bad();
  if (!(kind === 'd' ? Number.isSafeInteger(id) : typeof id === 'string')) throw bad();
  return { kind, time: time as number, id: id as number | string };
}

/** One value of a scalar parameter; undefined when absent. */
function scalar(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new QueryError(name, `${name}: expected one value, got ${Array.isArray(v) ? 'several' : typeof v}`);
  return v;
}

/** Repeatable and comma-separated: `?camera=a&camera=b` and `?camera=a,b` are the same. */
function list(query: Record<string, unknown>, name: string): string[] | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  const parts = (Array.isArray(v) ? v : [v]).map((x) => {
    if (typeof x !== 'string') throw new QueryError(name, `${name}: expected text values`);
    return x;
  });
  const values = [...new Set(parts.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== ''))];
  if (values.length > MAX_LIST) throw new QueryError(name, `${name}: at most ${MAX_LIST} values, got ${values.length}`);
  return values.length ? values : undefined;
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** ms since the epoch, or ISO 8601 (a date-time without an offset is UTC, not the server's local time). */
function instant(query: Record<string, unknown>, name: string): number | undefined {
  const v = scalar(query, name);
  if (v === undefined) return undefined;
  let ms = NaN;
  if (/^\d{1,16}$/.test(v)) ms = Number(v);
  else if (ISO.test(v)) ms = Date.parse(/T[^Z+-]*$/.test(v) ? `${v}Z` : v);
  if (!Number.isSafeInteger(ms)) {
    throw new QueryError(name, `${name}: expected ISO 8601 (2024-05-01T12:00:00Z) or ms since the epoch, got ${JSON.stringify(v.slice(0, 40))}`);
  }
  return ms;
}

/** Validates HTTP query parameters into a filter; unknown parameters are left to the caller. */
export function parseQueryFilter(query: Record<string, unknown>): QueryFilter {
  const filter: QueryFilter = { limit: DEFAULT_LIMIT };
  const camera = list(query, 'camera');
  if (camera) filter.camera = camera;
  const label = list(query, 'label');
  if (label) filter.label = label;
  const zone = list(query, 'zone');
  if (zone) filter.zone = zone;
  const limit = scalar(query, 'limit');
  if (limit !== undefined) {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) throw new QueryError('limit', `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limit.slice(0, 20))}`);
    filter.limit = n;
  }
  const minScore = scalar(query, 'minScore');
  if (minScore !== undefined) {
    const n = /^\s*$/.test(minScore) ? NaN : Number(minScore);
    if (!(n >= 0 && n <= 1)) throw new QueryError('minScore', `minScore: expected a number from 0 to 1, got ${JSON.stringify(minScore.slice(0, 20))}`);
    filter.minScore = n;
  }
  const since = instant(query, 'since');
  const until = instant(query, 'until');
  if (since !== undefined) filter.since = since;
  if (until !== undefined) filter.until = until;
  if (since !== undefined && until !== undefined && until < since) throw new QueryError('until', 'until: earlier than since');
  const cursor = scalar(query, 'cursor');
  if (cursor !== undefined) {
    decodeCursor(cursor);
    filter.cursor = cursor;
  }
  return filter;
}
