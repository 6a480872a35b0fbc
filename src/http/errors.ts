// How a route answers an error: lookout's own errors by their code's row in
// the one table (util/errors.ts), a model server's failure by its gRPC
// status (MODEL_<name> rows), as JSON `{"error": …}` plus the fields the
// error names (the config key, the query parameter, the model's status).
// Anything else is a bug: the caller rethrows it and express answers 500.
import type { Response } from 'express';
import { TfServingError } from '../tfserving/errors.js';
import { httpStatusOf, isLookoutError, modelErrorCode } from '../util/errors.js';

/** Answers `err` if it is one lookout knows; false (nothing sent) otherwise. `context` leads the message. */
export function sendError(res: Response, err: unknown, context = ''): boolean {
  if (isLookoutError(err)) {
    res.status(httpStatusOf(err.code)).json({ error: `${context}${err.message}`, ...err.fields() });
    return true;
  }
  if (err instanceof TfServingError) {
    res.status(httpStatusOf(modelErrorCode(err.codeName))).json({ error: `${context}${err.message}`, code: err.codeName });
    return true;
  }
  return false;
}
