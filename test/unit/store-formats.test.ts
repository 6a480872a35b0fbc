import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvCell, detectionShape, eventShape, exportStream, parseFormat, streamRows } from '../../src/store/formats.js';
import { QueryError } from '../../src/store/query-filter.js';
import type { EventRecord, StoredDetection } from '../../src/store/records.js';

const det = (id: number, over: Partial<StoredDetection> = {}): StoredDetection => ({
  id, camera: 'front', time: 1_700_000_000_000 + id, frameId: `1:${id}`, label: 'person', classId: 1, score: 0.5,
  box: [0.1, 0.2, 0.3, 0.4], trackId: null, ...over,
});

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

async function render(format: 'json' | 'jsonl' | 'csv', batches: StoredDetection[][], nextCursor?: string | null): Promise<string> {
  const sink = new Sink();
  await streamRows(format, detectionShape, batches, sink, { nextCursor });
  return sink.text;
}

/** A minimal RFC 4180 reader, to check that what is written reads back as the same cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; }
    else cell += c;
  }
  return rows;
}

describe('csv cells', () => {
  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
  });

  it('defuses text that a spreadsheet would run as a formula, but not negative numbers', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell(-0.5)).toBe('-0.5');
  });

  it('writes a header and rows that read back as the same cells', async () => {
    const text = await render('csv', [[det(1, { camera: 'lot, north', label: '=cmd|"/c calc"!A1', trackId: 3 })], [det(2, { frameId: 'a\r\nb' })]]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(detectionShape.header);
    expect(rows[1]).toEqual(['1', 'lot, north', '1700000000001', '1:1', `'=cmd|"/c calc"!A1`, '1', '0.5', '0.1', '0.2', '0.3', '0.4', '3']);
    expect(rows[2][3]).toBe('a\r\nb');
    expect(rows[2][11]).toBe('');
    expect(rows).toHaveLength(3);
  });
});

describe('json and jsonl', () => {
  it('json is one document with the rows and the next cursor, also when empty', async () => {
    const doc = JSON.parse(await render('json', [[det(1), det(2)], [], [det(3)]], 'abc')) as { detections: { id: number }[]; nextCursor: string };
    expect(doc.detections.map((d) => d.id)).toEqual([1, 2, 3]);
    expect(doc.nextCursor).toBe('abc');
    expect(JSON.parse(await render('json', []))).toEqual({ detections: [], nextCursor: null });
  });

  it('jsonl is one detection object per line', async () => {
    const lines = (await render('jsonl', [[det(1)], [det(2, { label: 'a\nb' })]])).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1])).toEqual({ ...det(2, { label: 'a\nb' }) });
  });

  it('events use their own array key and columns', async () => {
    const e: EventRecord = {
      id: 'front-1-2', camera: 'front', trackId: 2, label: 'car', classId: 3, start: 1, end: null, maxScore: 0.9,
      bestBox: [0, 0, 1, 1], bestFrameId: '1:0', bestTime: 1, snapshot: null, snapshotBytes: 0, zones: [],
    };
    const sink = new Sink();
    await streamRows('json', eventShape, [[e]], sink);
    expect(JSON.parse(sink.text)).toEqual({ events: [{ ...e, model: null, modelVersion: null }], nextCursor: null });
    const csv = new Sink();
    await streamRows('csv', eventShape, [[e, { ...e, id: 'front-1-3', model: 'people', modelVersion: 3 }]], csv);
    const rows = parseCsv(csv.text);
    expect(rows[1][6]).toBe('');
    // The model that detected each event closes the row: empty when unknown.
    expect(rows[0].slice(-2)).toEqual(['model', 'modelVersion']);
    expect(rows[1].slice(-2)).toEqual(['', '']);
    expect(rows[2].slice(-2)).toEqual(['people', '3']);
  });

  it('parses the format parameter, naming it when wrong', () => {
    expect(parseFormat(undefined)).toBe('json');
    expect(parseFormat('csv')).toBe('csv');
    expect(() => parseFormat('xml')).toThrow(QueryError);
    expect(() => parseFormat('xml')).toThrow(/format/);
  });
});

describe('streaming', () => {
  it('pulls rows only as fast as the consumer takes them, and stops the source when the consumer goes away', async () => {
    let pulled = 0;
    let finished = false;
    function* endless(): Generator<StoredDetection[]> {
      try {
        for (;;) {
          pulled++;
          yield Array.from({ length: 100 }, (_, i) => det(pulled * 100 + i));
        }
      } finally {
        finished = true;
      }
    }
    const stream = exportStream('jsonl', detectionShape, endless());
    // A consumer that takes one chunk and then stalls, like a slow client.
    let release!: () => void;
    const stalled = new Writable({
      highWaterMark: 1024,
      write(_chunk, _enc, cb) {
        release = cb;
      },
    });
    stream.pipe(stalled);
    await new Promise((r) => setTimeout(r, 200));
    // Each batch is ~15 kB of text; the readable buffers up to 64 kB: a handful, not thousands.
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(12);
    const before = pulled;
    await new Promise((r) => setTimeout(r, 100));
    expect(pulled).toBe(before);
    stream.destroy();
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toBe(true);
  });
});
