// What the version manager decides and remembers, apart from how it loads:
// TF Serving's AvailabilityPreservingPolicy (which version to load or unload
// next) and its ServableStateMonitor (every version ever seen, END ones
// included, answered as GetModelStatus answers).
import { status as Status } from '@grpc/grpc-js';
import { ModelNotFoundError, TfServingError } from '../tfserving/errors.js';

/** ModelVersionStatus.State, as GetModelStatus names it. */
export type ManagedState = 'START' | 'LOADING' | 'AVAILABLE' | 'UNLOADING' | 'END';

/** One version's entry in GetModelStatus's answer. error_code is gRPC's (= TF's) code, 0 for OK. */
export interface ManagedVersionStatus {
  version: number;
  state: ManagedState;
  status: { error_code: number; error_message: string };
}

/** What the policy needs to know of a version the manager holds. */
export interface PolicyVersion {
  version: number;
  aspired: boolean;
  /** 'new': not yet asked to load; 'ready': AVAILABLE; 'busy': loading, retrying or unloading; 'error': its load failed for good. */
  phase: 'new' | 'busy' | 'ready' | 'error';
}

export type PolicyAction = { action: 'load'; version: number } | { action: 'unload'; version: number };

/**
 * AvailabilityPreservingPolicy::GetNextAction. First, unload the lowest
 * un-aspired ready version, but only when no version is aspired, an aspired
 * one is ready, or more than one un-aspired one is ready: the last version
 * serving stays while its replacement loads, and stays for good if the
 * replacement fails. Otherwise load the highest aspired version not loaded.
 */
export function nextAction(versions: PolicyVersion[]): PolicyAction | undefined {
  const hasAspired = versions.some((v) => v.aspired);
  const hasAspiredReady = versions.some((v) => v.aspired && v.phase === 'ready');
  const unaspiredReady = versions.filter((v) => !v.aspired && v.phase === 'ready').map((v) => v.version);
  if ((!hasAspired || hasAspiredReady || unaspiredReady.length > 1) && unaspiredReady.length > 0) {
    return { action: 'unload', version: Math.min(...unaspiredReady) };
  }
  const fresh = versions.filter((v) => v.aspired && v.phase === 'new').map((v) => v.version);
  if (fresh.length > 0) return { action: 'load', version: Math.max(...fresh) };
  return undefined;
}

/** A load error's gRPC code: a TF status error keeps its own, anything else is UNKNOWN, as TF reports a loader's failure. */
export function errorCode(err: Error): number {
  return err instanceof TfServingError ? err.code : Status.UNKNOWN;
}

export function errorMessage(err: Error): string {
  return err instanceof TfServingError ? err.details : err.message;
}

interface Seen {
  state: ManagedState;
  error: Error | undefined;
}

/**
 * The state monitor: each model's versions as last published. END entries
 * are kept forever, as the model server never calls
 * ForgetUnloadedServableStates, so after rollouts the list reads
 * [{10 END}, {9 AVAILABLE}, {8 END}, …].
 */
export class StateMonitor {
  private readonly models = new Map<string, Map<number, Seen>>();

  publish(model: string, version: number, state: ManagedState, error?: Error): void {
    let versions = this.models.get(model);
    if (!versions) {
      versions = new Map();
      this.models.set(model, versions);
    }
    versions.set(version, { state, error });
  }

  stateOf(model: string, version: number): ManagedState | undefined {
    return this.models.get(model)?.get(version)?.state;
  }

  /**
   * GetModelStatus for one model: all versions seen, highest first, or just
   * `version`. NOT_FOUND in TF's words when there is nothing to answer.
   */
  status(model: string, version?: number): ManagedVersionStatus[] {
    const versions = this.models.get(model);
    if (!versions || versions.size === 0) {
      throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find any versions of model ${model}`);
    }
    const entry = (v: number, seen: Seen): ManagedVersionStatus => ({
      version: v,
      state: seen.state,
      status: seen.error
        ? { error_code: errorCode(seen.error), error_message: errorMessage(seen.error) }
        : { error_code: Status.OK, error_message: '' },
    });
    if (version !== undefined) {
      const seen = versions.get(version);
      if (!seen) throw new ModelNotFoundError(Status.NOT_FOUND, `Could not find version ${version} of model ${model}`);
      return [entry(version, seen)];
    }
    return [...versions.entries()].sort((a, b) => b[0] - a[0]).map(([v, seen]) => entry(v, seen));
  }

  /** Models the monitor has seen, in the order first seen. */
  modelNames(): string[] {
    return [...this.models.keys()];
  }
}

interface Waiter {
  check: () => boolean;
  fail: (err: Error) => void;
}

/** Promises of conditions on the manager's state, checked after every state change. */
export class Conditions {
  private readonly waiters = new Set<Waiter>();

  /** Resolves when test() holds; rejects if the signal aborts or failAll() is called first. */
  until(test: () => boolean, signal?: AbortSignal): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        check: () => {
          if (!test()) return false;
          cleanup();
          resolve();
          return true;
        },
        fail: (err) => {
          cleanup();
          reject(err);
        },
      };
      const onAbort = () => waiter.fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort);
      this.waiters.add(waiter);
    });
  }

  check(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  failAll(err: Error): void {
    for (const waiter of [...this.waiters]) waiter.fail(err);
  }
}
