// TF Serving's REST conventions that are not about bodies: which request a
// method and path name (http_rest_api_util.cc's ParseModelInfo, with the
// regular expressions of http_rest_api_handler.cc), and which HTTP status
// answers a canonical error code (http_server.cc). rest-api.ts lists the sources.
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument } from '../tfserving/errors.js';


/** HTTP status for a canonical error code, as TF Serving's http_server.cc maps them. */
export function httpStatusForCode(code: number): number {
  switch (code) {
    case Status.OK: return 200;
    case Status.CANCELLED: return 499;
    case Status.INVALID_ARGUMENT:
    case Status.FAILED_PRECONDITION:
    case Status.OUT_OF_RANGE: return 400;
    case Status.DEADLINE_EXCEEDED: return 504;
    case Status.NOT_FOUND: return 404;
    case Status.ALREADY_EXISTS:
    case Status.ABORTED: return 409;
    case Status.PERMISSION_DENIED: return 403;
    case Status.RESOURCE_EXHAUSTED: return 429;
    case Status.UNIMPLEMENTED: return 501;
    case Status.UNAVAILABLE: return 503;
    case Status.UNAUTHENTICATED: return 401;
    default: return 500;
  }
}

const PREDICT_ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(classify|regress|predict)$/i;
const STATUS_ROUTE = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;

export interface Route {
  kind: 'predict' | 'status' | 'metadata' | 'unimplemented';
  model: string;
  version: number | undefined;
  label: string | undefined;
  verb: string;
}

function decodeArg(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidArgument(`Failed to decode ${what}:${raw}`);
  }
}

/** Parses the path as TF Serving's ParseModelInfo does. */
export function route(method: string, path: string): Route {
  const malformed = invalidArgument(`Malformed request: ${method} ${path}`);
  const m = method === 'POST' ? PREDICT_ROUTE.exec(path) : method === 'GET' ? STATUS_ROUTE.exec(path) : null;
  if (!m) throw malformed;
  const [, rawName = '', rawVersion, rawLabel, verb = ''] = m;
  let version: number | undefined;
  if (rawVersion !== undefined) {
    version = Number(rawVersion);
    if (!Number.isSafeInteger(version)) throw invalidArgument(`Failed to convert version: ${rawVersion} to numeric.`);
  }
  const model = rawName ? decodeArg(rawName, 'model name') : '';
  const label = rawLabel !== undefined ? decodeArg(rawLabel, 'model version label') : undefined;
  if (method === 'POST') {
    // The regex ignores case; the verb compare does not, so ":PREDICT" matches the route but no verb.
    if (verb === 'predict') return { kind: 'predict', model, version, label, verb };
    if (verb === 'classify' || verb === 'regress') return { kind: 'unimplemented', model, version, label, verb };
    throw malformed;
  }
  if (!model) throw invalidArgument('Missing model name in request.');
  return { kind: verb ? 'metadata' : 'status', model, version, label, verb };
}
