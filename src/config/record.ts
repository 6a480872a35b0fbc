// A camera's `record` settings (recordings/docs: docs/recordings.md): the
// config's top-level `record` holds the defaults, a camera's own overrides
// any key of it, in the config file and through the camera API alike.
import type { Reader } from './reader.js';
import { RECORD_MODES, type RecordMode, type RecordSettings } from './schema.js';

export const RECORD_KEYS = ['mode', 'preSeconds', 'postSeconds', 'segmentSeconds', 'retainDays', 'eventRetainDays', 'graceSeconds'] as const;

export const RECORD_DEFAULTS: RecordSettings = {
  mode: 'events',
  preSeconds: 5,
  postSeconds: 5,
  segmentSeconds: 10,
  retainDays: 7,
  eventRetainDays: 30,
  graceSeconds: 30,
};

/** `record` at `key`, completed from `defaults`. */
export function parseRecord(r: Reader, value: unknown, key: string, defaults: RecordSettings = RECORD_DEFAULTS): RecordSettings {
  const o = r.object(value, key, RECORD_KEYS);
  const mode = r.string(o.mode, `${key}.mode`, defaults.mode);
  if (!(RECORD_MODES as readonly string[]).includes(mode)) r.fail(`${key}.mode`, `expected one of ${RECORD_MODES.join(', ')}; got ${JSON.stringify(mode)}`);
  return {
    mode: mode as RecordMode,
    preSeconds: r.number(o.preSeconds, `${key}.preSeconds`, defaults.preSeconds, 0, 600),
    postSeconds: r.number(o.postSeconds, `${key}.postSeconds`, defaults.postSeconds, 0, 600),
    segmentSeconds: r.number(o.segmentSeconds, `${key}.segmentSeconds`, defaults.segmentSeconds, 1, 600),
    retainDays: r.number(o.retainDays, `${key}.retainDays`, defaults.retainDays, 0.0001, 36_500),
    eventRetainDays: r.number(o.eventRetainDays, `${key}.eventRetainDays`, defaults.eventRetainDays, 0.0001, 36_500),
    graceSeconds: r.number(o.graceSeconds, `${key}.graceSeconds`, defaults.graceSeconds, 0, 3_600),
  };
}
