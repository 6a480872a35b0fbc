// One base for lookout's errors, and one table from an error's code to what
// it means at the edges: the HTTP status a route answers with, and the exit
// code a command ends with. A route or a command looks the code up here
// instead of walking an instanceof chain, so a new error class needs one row,
// not an edit in every place that reports errors.
//
// The codes are stable strings (as ws's errors carry): scripts and tests
// match them, and they never change with a message's wording. Errors of the
// TF Serving protocol (tfserving/errors.ts) keep gRPC's numeric code, as
// grpc-js's own errors do; they enter this table as MODEL_<status name>
// through modelErrorCode() where lookout reports them (http/).

/** Every code a LookoutError can carry, with its HTTP status and exit code. */
export const ERROR_CODES = {
  // Start-up and command line: exit 2 is "you asked for something wrong".
  USAGE: { http: 400, exit: 2 },
  CONFIG_INVALID: { http: 400, exit: 2 },
  SHARD_CONFIG_INVALID: { http: 500, exit: 2 },
  MODEL_BASE_PATH_INVALID: { http: 500, exit: 2 },
  FFMPEG_NOT_FOUND: { http: 500, exit: 1 },
  DETECT_INPUT: { http: 400, exit: 1 },
  // Cameras over the API.
  CAMERA_INVALID: { http: 400, exit: 2 },
  CAMERA_URL_INVALID: { http: 400, exit: 2 },
  // A camera url from the API aimed at this machine or link-local (ingest/source-guard.ts).
  CAMERA_URL_FORBIDDEN: { http: 400, exit: 2 },
  CAMERA_NOT_FOUND: { http: 404, exit: 1 },
  CAMERA_EXISTS: { http: 409, exit: 1 },
  CAMERA_BUSY: { http: 429, exit: 1 },
  CAMERA_STORE: { http: 503, exit: 1 },
  // Users, sessions and API tokens (auth/).
  USER_INVALID: { http: 400, exit: 2 },
  USER_NOT_FOUND: { http: 404, exit: 1 },
  USER_EXISTS: { http: 409, exit: 1 },
  USERS_FILE: { http: 500, exit: 2 },
  // The detection log.
  BAD_QUERY: { http: 400, exit: 1 },
  BAD_SNAPSHOT_NAME: { http: 400, exit: 1 },
  STORE_TOO_NEW: { http: 500, exit: 2 },
  STORE_NOT_MIGRATED: { http: 500, exit: 1 },
  STORE_OPEN_FAILED: { http: 500, exit: 2 },
  STORE_CLOSED: { http: 503, exit: 1 },
  // A caller's mistake in code, not a user's: shown with its stack.
  TRACKER_OPTIONS_INVALID: { http: 500, exit: 1, bug: true },
  EVENT_OPTIONS_INVALID: { http: 500, exit: 1, bug: true },
  // The model, as a client sees it.
  IMAGE_UNDECODABLE: { http: 400, exit: 1 },
  IMAGE_BATCH_MIXED_SIZES: { http: 400, exit: 1 },
  TENSOR_DECODE: { http: 502, exit: 1 },
  SIGNATURE_UNSUPPORTED: { http: 502, exit: 1 },
  LABEL_MAP_INVALID: { http: 500, exit: 2 },
  MODEL_SERVER_ADDRESS_INVALID: { http: 400, exit: 2 },
  // A model server's gRPC status, as lookout answers its own callers
  // (/api/detect): lookout is the model server's gateway, so the server
  // being away or failing is 503 or 502, not the caller's fault.
  MODEL_NOT_FOUND: { http: 503, exit: 1 },
  MODEL_INVALID_ARGUMENT: { http: 400, exit: 1 },
  MODEL_FAILED_PRECONDITION: { http: 400, exit: 1 },
  MODEL_OUT_OF_RANGE: { http: 400, exit: 1 },
  MODEL_RESOURCE_EXHAUSTED: { http: 429, exit: 1 },
  MODEL_DEADLINE_EXCEEDED: { http: 504, exit: 1 },
  MODEL_UNAVAILABLE: { http: 503, exit: 1 },
  MODEL_UNIMPLEMENTED: { http: 501, exit: 1 },
  MODEL_ERROR: { http: 502, exit: 1 },
} as const satisfies Record<string, { http: number; exit: number; bug?: true }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** lookout's errors: a stable `code`, a message for people, and the fields an API answer names. */
export abstract class LookoutError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Extra fields of an API error answer (the key or parameter at fault). */
  fields(): Record<string, unknown> {
    return {};
  }
}

/** Whether `err` is one of lookout's errors (its code is in the table). */
export function isLookoutError(err: unknown): err is LookoutError {
  return err instanceof LookoutError && err.code in ERROR_CODES;
}

/** The HTTP status for a code. */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CODES[code].http;
}

/** The process exit code for a code. */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/** Whether the code marks a bug in lookout's own code (reported with its stack) rather than a wrong input. */
export function isBug(code: ErrorCode): boolean {
  return 'bug' in ERROR_CODES[code];
}

/** A gRPC status name (UNAVAILABLE, NOT_FOUND, …) as the table's code for a model server's failure. */
export function modelErrorCode(statusName: string): ErrorCode {
  const code = `MODEL_${statusName}`;
  return code in ERROR_CODES ? (code as ErrorCode) : 'MODEL_ERROR';
}
