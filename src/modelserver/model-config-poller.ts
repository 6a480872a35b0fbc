// --model_config_file_poll_wait_seconds: the model config file read again
// every N seconds and, when it says something new, applied as
// HandleReloadConfigRequest applies a config (ModelFleet.reload). As in TF
// Serving, a file that no longer parses, or a config the server refuses, is
// only logged: the config in effect stays. One read at a time, on an unref'd
// timer set again after each; close() stops it.
import { isDeepStrictEqual } from 'node:util';
import type { ModelServerConfig } from './model-config-file.js';
import type { ModelFleet } from './model-fleet.js';
import { readModelServerConfigFile } from './serving-config-files.js';

export interface ModelConfigPollerOptions {
  file: string;
  pollSeconds: number;
  fleet: ModelFleet;
  platforms: readonly string[];
  log: (line: string) => void;
}

export class ModelConfigPoller {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The last failure logged: a config that keeps failing is tried on every read (as TF does) but said once. */
  private lastFailure = '';
  /** Settles when the read in progress (and its reload) is done. */
  private current: Promise<void> = Promise.resolve();

  constructor(private readonly options: ModelConfigPollerOptions) {
    this.schedule();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.current = this.pollOnce().finally(() => this.schedule());
    }, this.options.pollSeconds * 1000);
    this.timer.unref();
  }

  /** One read: a new config is applied, an identical one is nothing, a bad one is logged. */
  async pollOnce(): Promise<void> {
    let next: ModelServerConfig;
    try {
      next = readModelServerConfigFile(this.options.file, { platforms: this.options.platforms });
    } catch (err) {
      this.fail(`Failed to read ModelServerConfig file: ${(err as Error).message}`);
      return;
    }
    // Against the config in effect, as TF reloads whatever the file says on every read: a config
    // pushed by HandleReloadConfigRequest meanwhile gives way to the file's, and one that failed is tried again.
    if (next.noOp || isDeepStrictEqual(next, this.options.fleet.config)) return;
    try {
      await this.options.fleet.reload(next);
      this.lastFailure = '';
      this.options.log(`model config ${this.options.file} applied: ${next.models.map((m) => m.name).join(', ') || 'no models'}`);
    } catch (err) {
      this.fail(`model config ${this.options.file} not applied: ${(err as Error).message}`);
    }
  }

  private fail(message: string): void {
    if (message !== this.lastFailure) this.options.log(message);
    this.lastFailure = message;
  }

  /** Stops re-reading; a read in progress finishes. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.current;
  }
}
