// What a failed Predict call means for the scheduler: which drop counter it
// goes to, and whether it says the model server is down (so the breaker
// stops sending and probes) rather than that one call went wrong.
import { TfServingError } from '../tfserving/errors.js';

/** Why a detection frame was not answered. */
export type DropReason = 'superseded' | 'stale' | 'error' | 'busy' | 'modelDown';

export interface CallFailure {
  reason: Extract<DropReason, 'busy' | 'error'>;
  /** Down, too slow, or the model not (yet) AVAILABLE: stop sending, let the breaker probe GetModelStatus. */
  tripsBreaker: boolean;
}

/** TF Serving answers NOT_FOUND while a version loads: that is "not available", not a bad request. */
const DOWN = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'NOT_FOUND'];

export function classifyFailure(err: unknown): CallFailure {
  const status = err instanceof TfServingError ? err.codeName : undefined;
  return { reason: status === 'RESOURCE_EXHAUSTED' ? 'busy' : 'error', tripsBreaker: status !== undefined && DOWN.includes(status) };
}
