// A whole lookout in the test process, as `lookout serve` starts it
// (src/app.ts): HTTP on 127.0.0.1 on a free port, the embedded synthetic
// model over real gRPC, the detection log in a fresh temporary folder, no
// log output. A test passes only what differs; the lookout is closed after
// the test that started it (or after the file, when started in beforeAll).
import path from 'node:path';
import { startLookout, type RunningLookout } from '../../src/app.js';
import { parseConfig } from '../../src/config/parse.js';
import { silentLogger, type Logger } from '../../src/util/logger.js';
import { onCleanup, tempDir } from './cleanup.js';

type Section = Record<string, unknown>;

export interface TestLookoutOptions {
  /** The config's cameras (default: none). */
  cameras?: Section[];
  /**
   * false: no detection log. A string: the database file (a test that
   * restarts lookout on the same log, or puts it on a disk of its own).
   * An object: the store section as written. Default: lookout.db in a
   * temporary folder removed afterwards.
   */
  store?: false | string | Section;
  /**
   * Merged over the default { embedded: { model: 'synthetic', latencyMs: 5,
   * capacity: 2 } }; an embedded model other than synthetic takes none of
   * the synthetic settings. With an address, lookout uses that server and
   * nothing is merged.
   */
  modelServer?: Section;
  detection?: Section;
  record?: Section;
  /** The config's object filters (by label, "*" for all). */
  filters?: Section;
  /** The config's notify section (MQTT, webhooks). */
  notify?: Section;
  scheduler?: Section;
  auth?: Section;
  minScore?: number;
  fileRoots?: string[];
  /** Where cameras added over the API may connect despite the SSRF guard (e.g. ['127.0.0.0/8'] for a test RTSP server); default none. */
  allowedSourceNetworks?: string[];
  /** Default: silentLogger. */
  log?: Logger;
}

const SYNTHETIC = { model: 'synthetic', latencyMs: 5, capacity: 2 };

/** The store section; without a path, one in a temporary folder (so nothing lands in ./data, cameras.json included). */
function storeSection(store: TestLookoutOptions['store']): Section {
  if (typeof store === 'string') return { path: store };
  const section: Section = store === false ? { enabled: false } : store ?? {};
  return section.path === undefined ? { ...section, path: path.join(tempDir('lookout-store-'), 'lookout.db') } : section;
}

function modelServerSection(given: Section = {}): Section {
  if (given.address !== undefined) return given;
  const embedded = (given.embedded ?? {}) as Section;
  const synthetic = embedded.model === undefined || embedded.model === 'synthetic';
  return { ...given, embedded: synthetic ? { ...SYNTHETIC, ...embedded } : embedded };
}

/** Starts lookout with the defaults above and `options` over them; closes it by onCleanup. */
export async function startTestLookout(options: TestLookoutOptions = {}): Promise<RunningLookout> {
  const { cameras = [], store, modelServer, log = silentLogger, ...rest } = options;
  const config = parseConfig({
    ...rest,
    http: { host: '127.0.0.1', port: 0 },
    store: storeSection(store),
    modelServer: modelServerSection(modelServer),
    cameras,
  });
  const lookout = await startLookout(config, log);
  onCleanup(() => lookout.close());
  return lookout;
}
