import { describe, expect, it } from 'vitest';
import { MAX_LIMIT, parseQueryFilter, QueryError } from '../../src/store/query-filter.js';

function refused(query: Record<string, unknown>): QueryError {
  try {
    parseQueryFilter(query);
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError);
    return err as QueryError;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
}

const cursor = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('parseQueryFilter', () => {
  it('defaults to the newest 100 rows of everything', () => {
    expect(parseQueryFilter({})).toEqual({ limit: 100 });
  });

  it('takes cameras and labels repeated or comma-separated, without duplicates or blanks', () => {
    expect(parseQueryFilter({ camera: ['a', 'b,c'], label: 'person, car,,' })).toEqual({
      camera: ['a', 'b', 'c'], label: ['person', 'car'], limit: 100,
    });
    expect(parseQueryFilter({ camera: 'a,a' }).camera).toEqual(['a']);
  });

  it('reads since/until as ms since the epoch or ISO 8601, a bare date-time being UTC', () => {
    expect(parseQueryFilter({ since: '1700000000000' }).since).toBe(1_700_000_000_000);
    expect(parseQueryFilter({ since: '2024-05-01' }).since).toBe(Date.UTC(2024, 4, 1));
    expect(parseQueryFilter({ since: '2024-05-01T12:30:00Z' }).since).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(parseQueryFilter({ since: '2024-05-01T12:30:00' }).since).toBe(Date.UTC(2024, 4, 1, 12, 30));
    expect(parseQueryFilter({ until: '2024-05-01T12:30:00+02:00' }).until).toBe(Date.UTC(2024, 4, 1, 10, 30));
    expect(parseQueryFilter({ until: '2024-05-01T12:30:00.250Z' }).until).toBe(Date.UTC(2024, 4, 1, 12, 30, 0, 250));
  });

  it('takes limit 1…10000 and minScore 0…1', () => {
    expect(parseQueryFilter({ limit: '1', minScore: '0' })).toEqual({ limit: 1, minScore: 0 });
    expect(parseQueryFilter({ limit: String(MAX_LIMIT), minScore: '1' })).toEqual({ limit: MAX_LIMIT, minScore: 1 });
    expect(parseQueryFilter({ minScore: '.5' }).minScore).toBe(0.5);
  });

  it.each([
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2024-13-45T99:99' }, 'since'],
    [{ until: '12abc' }, 'until'],
    [{ since: '2000', until: '1000' }, 'until'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '10001' }, 'limit'],
    [{ limit: '5.5' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ limit: ['1', '2'] }, 'limit'],
    [{ minScore: '2' }, 'minScore'],
    [{ minScore: '-0.1' }, 'minScore'],
    [{ minScore: 'high' }, 'minScore'],
    [{ minScore: ' ' }, 'minScore'],
    [{ cursor: 'not a cursor!' }, 'cursor'],
    [{ cursor: Buffer.from('hello').toString('base64url') }, 'cursor'],
    [{ cursor: cursor(['d', 1, 'x']) }, 'cursor'],
    [{ cursor: cursor(['x', 1, 2]) }, 'cursor'],
    [{ cursor: cursor(['d', 1.5, 2]) }, 'cursor'],
    [{ camera: { nested: 'object' } }, 'camera'],
    [{ label: Array.from({ length: 101 }, (_, i) => `l${i}`) }, 'label'],
  ])('refuses %j naming %s', (query, param) => {
    const err = refused(query);
    expect(err.code).toBe('BAD_QUERY');
    expect(err.param).toBe(param);
    expect(err.message).toContain(param);
  });

  it('accepts the cursors pages hand out', () => {
    expect(parseQueryFilter({ cursor: cursor(['d', 1_700_000_000_000, 12]) }).cursor).toBeDefined();
    expect(parseQueryFilter({ cursor: cursor(['e', 1_700_000_000_000, 'front-1-2']) }).cursor).toBeDefined();
  });
});
