// Detections and events as text: json, jsonl and csv, streamed.
//
// Rows come in as an iterator of batches (StoreReader.iterate*, or one page
// wrapped in an array) and leave as a Readable of text chunks, one chunk per
// batch. Readable.from pulls the next batch only when the consumer has taken
// the last (an HTTP response whose write() returned false stops the pulling),
// so an export of millions of rows holds one batch in memory, never the file.
//
// Shapes:
//   json   {"detections":[{…},{…}],"nextCursor":null}  (or "events"); one
//          document, so a plain JSON.parse reads it; nextCursor comes last
//          because a stream only knows it at the end.
//   jsonl  one toDetectionJson()/toEventJson() object per line, nothing else
//          (the same lines `lookout detect --out x.jsonl` writes).
//   csv    RFC 4180: a header line, CRLF line ends, fields with , " CR LF
//          quoted; text cells starting with = + - @ TAB CR get a leading '
//          so a spreadsheet shows them instead of running them as formulas.
//          The box is four columns; times are ms since the epoch, as in JSON.
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { QueryError } from './query-filter.js';
import { toDetectionJson, toEventJson, type EventRecord, type StoredDetection } from './records.js';

export type ExportFormat = 'json' | 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['json', 'jsonl', 'csv'];

export const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  json: 'application/json; charset=utf-8',
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

/** The `format` query parameter; json when absent. */
export function parseFormat(value: unknown): ExportFormat {
  if (value === undefined || value === '') return 'json';
  if (typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  throw new QueryError('format', `format: expected one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(String(value)).slice(0, 40)}`);
}

type Cell = string | number | null;

export interface RowShape<T> {
  /** The JSON document's array key. */
  name: 'detections' | 'events';
  json(row: T): unknown;
  header: readonly string[];
  /** Cells in header order; strings are the cells formula protection applies to. */
  cells(row: T): Cell[];
}

export const detectionShape: RowShape<StoredDetection> = {
  name: 'detections',
  json: toDetectionJson,
  header: ['id', 'camera', 'time', 'frameId', 'label', 'classId', 'score', 'ymin', 'xmin', 'ymax', 'xmax', 'trackId'],
  cells: (d) => [d.id, d.camera, d.time, d.frameId, d.label, d.classId, d.score, d.box[0], d.box[1], d.box[2], d.box[3], d.trackId],
};

export const eventShape: RowShape<EventRecord> = {
  name: 'events',
  json: toEventJson,
  header: ['id', 'camera', 'trackId', 'label', 'classId', 'start', 'end', 'maxScore', 'ymin', 'xmin', 'ymax', 'xmax', 'bestFrameId', 'bestTime', 'snapshot', 'snapshotBytes', 'zones', 'model', 'modelVersion'],
  cells: (e) => [e.id, e.camera, e.trackId, e.label, e.classId, e.start, e.end, e.maxScore,
    e.bestBox[0], e.bestBox[1], e.bestBox[2], e.bestBox[3], e.bestFrameId, e.bestTime, e.snapshot, e.snapshotBytes, e.zones.join(' '), e.model ?? null, e.modelVersion ?? null],
};

/** First characters that make a spreadsheet read a cell as a formula (OWASP's list). */
const FORMULA_START = '=+-@\t\r';

/** One CSV field. Numbers are written as they are (a negative number is not a formula); text is defused and quoted as needed. */
export function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const text = v.length > 0 && FORMULA_START.includes(v[0]) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export type RowBatches<T> = Iterable<readonly T[]> | AsyncIterable<readonly T[]>;

export interface TextOptions {
  /** Written as the json document's nextCursor (other formats leave it to a header); default null. */
  nextCursor?: string | null;
}

/** The text of rows in a format, one chunk per batch (plus the json/csv framing). */
export async function* textChunks<T>(format: ExportFormat, shape: RowShape<T>, batches: RowBatches<T>, options: TextOptions = {}): AsyncGenerator<string> {
  if (format === 'csv') {
    yield csvLine(shape.header);
    for await (const batch of batches) {
      if (batch.length) yield batch.map((r) => csvLine(shape.cells(r))).join('');
    }
  } else if (format === 'jsonl') {
    for await (const batch of batches) {
      if (batch.length) yield batch.map((r) => `${JSON.stringify(shape.json(r))}\n`).join('');
    }
  } else {
    yield `{"${shape.name}":[`;
    let first = true;
    for await (const batch of batches) {
      if (!batch.length) continue;
      yield `${first ? '\n' : ',\n'}${batch.map((r) => JSON.stringify(shape.json(r))).join(',\n')}`;
      first = false;
    }
    yield `\n],"nextCursor":${JSON.stringify(options.nextCursor ?? null)}}\n`;
  }
}

/**
 * A byte stream of the rows, to pipe into an HTTP response (set the
 * Content-Type from CONTENT_TYPES). Destroying it (the client went away)
 * returns the row iterator, which ends the underlying reads.
 */
export function exportStream<T>(format: ExportFormat, shape: RowShape<T>, batches: RowBatches<T>, options: TextOptions = {}): Readable {
  return Readable.from(textChunks(format, shape, batches, options), { objectMode: false, highWaterMark: 64 * 1024 });
}

/** Streams the rows into `out` with backpressure; resolves when `out` has finished, rejects if either side fails. */
export function streamRows<T>(format: ExportFormat, shape: RowShape<T>, batches: RowBatches<T>, out: Writable, options: TextOptions = {}): Promise<void> {
  return pipeline(exportStream(format, shape, batches, options), out);
}
