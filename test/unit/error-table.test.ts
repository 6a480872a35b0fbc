// The one table from an error's code to its HTTP status and exit code, as a
// route answers with it (http/errors.ts) and as the CLI exits with it.
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { CameraBusyError, CameraExistsError, CameraNotFoundError, CameraStoreError } from '../../src/cameras/admin.js';
import { ConfigError } from '../../src/config/schema.js';
import { sendError } from '../../src/http/errors.js';
import { QueryError } from '../../src/store/query-filter.js';
import { errorForStatus } from '../../src/tfserving/errors.js';
import { ImageDecodeError } from '../../src/tfserving/image-codec.js';
import { TrackerOptionsError } from '../../src/track/tracker.js';
import { UsageError } from '../../src/cli-args.js';
import { ERROR_CODES, exitCodeOf, isBug, isLookoutError } from '../../src/util/errors.js';
import { status } from '@grpc/grpc-js';

/** What a route would have sent. */
function answer(err: unknown, context?: string): { sent: boolean; status?: number; body?: unknown } {
  const out: { sent: boolean; status?: number; body?: unknown } = { sent: false };
  const res = {
    status(code: number) {
      out.status = code;
      return this;
    },
    json(body: unknown) {
      out.body = body;
      return this;
    },
  };
  // The one place the fake stands in for express's Response: sendError uses status() and json() only.
  out.sent = sendError(res as unknown as Response, err, context);
  return out;
}

describe('the error table', () => {
  it('answers each camera error with its status and the message, a config mistake with its key', () => {
    expect(answer(new ConfigError('detectFps', 'must be between 0.05 and 60, got 0', 'camera'))).toEqual({
      sent: true, status: 400, body: { error: 'camera: detectFps: must be between 0.05 and 60, got 0', key: 'detectFps' },
    });
    expect(answer(new CameraExistsError('camera "a" already exists')).status).toBe(409);
    expect(answer(new CameraNotFoundError('no camera "a"')).status).toBe(404);
    expect(answer(new CameraBusyError('16 camera changes are already waiting')).status).toBe(429);
    expect(answer(new CameraStoreError('cannot keep the change')).status).toBe(503);
  });

  it('names the query parameter at fault', () => {
    expect(answer(new QueryError('since', 'since: not a time'))).toEqual({ sent: true, status: 400, body: { error: 'since: not a time', param: 'since' } });
  });

  it('answers a model server failure as its gateway: down or loading is 503, busy 429, too slow 504, else 502', () => {
    const model = (code: number) => answer(errorForStatus(code, 'x', 'Predict'));
    expect(model(status.UNAVAILABLE)).toMatchObject({ status: 503, body: { code: 'UNAVAILABLE' } });
    expect(model(status.NOT_FOUND).status).toBe(503);
    expect(model(status.RESOURCE_EXHAUSTED).status).toBe(429);
    expect(model(status.DEADLINE_EXCEEDED).status).toBe(504);
    expect(model(status.INVALID_ARGUMENT).status).toBe(400);
    expect(model(status.UNIMPLEMENTED).status).toBe(501);
    expect(model(status.INTERNAL).status).toBe(502);
    expect(answer(new ImageDecodeError('unsupported image format'), 'cannot decode the image: ').body).toEqual({ error: 'cannot decode the image: unsupported image format' });
  });

  it('leaves anything else to the caller (a bug: 500 with its stack in the log)', () => {
    expect(answer(new Error('boom'))).toEqual({ sent: false });
    expect(answer('not even an error')).toEqual({ sent: false });
  });

  it('exits 2 for what was asked wrong, 1 for what failed, and shows the stack of a bug', () => {
    expect(exitCodeOf(new UsageError('--port: expected an integer').code)).toBe(2);
    expect(exitCodeOf(new ConfigError('http.port', 'bad').code)).toBe(2);
    expect(exitCodeOf('DETECT_INPUT')).toBe(1);
    const bug = new TrackerOptionsError('maxTracks', 'an integer ≥ 1', 0);
    expect(isLookoutError(bug) && isBug(bug.code)).toBe(true);
    expect(isBug('CONFIG_INVALID')).toBe(false);
    // Every row is a real status and exit code.
    for (const [code, row] of Object.entries(ERROR_CODES)) {
      expect(row.http >= 400 && row.http < 600, code).toBe(true);
      expect([1, 2], code).toContain(row.exit);
    }
  });
});
