// gRPC status codes as typed errors. The client turns every failed call into
// one of these, keeping the numeric code and the server's details; the
// embedded model server throws the same classes and sends them back as status.
import { status as Status, type ServiceError } from '@grpc/grpc-js';

export type StatusName = keyof typeof Status;

export function statusName(code: number): StatusName | `CODE_${number}` {
  const name = (Status as unknown as Record<number, StatusName | undefined>)[code];
  return name ?? `CODE_${code}`;
}

export class TfServingError extends Error {
  /** The gRPC status code (TensorFlow's error codes use the same numbers). */
  readonly code: number;
  /** The server's own message, unchanged. */
  readonly details: string;
  /** The RPC that failed, e.g. "Predict"; empty on the server side. */
  readonly method: string;

  constructor(code: number, details: string, method = '') {
    super(`${method ? `${method}: ` : ''}${statusName(code)}: ${details}`);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
    this.method = method;
  }

  get codeName(): string {
    return statusName(this.code);
  }

  /** True when the same request may succeed later without change. */
  get retryable(): boolean {
    return (
      this.code === Status.UNAVAILABLE ||
      this.code === Status.RESOURCE_EXHAUSTED ||
      this.code === Status.DEADLINE_EXCEEDED ||
      this.code === Status.ABORTED
    );
  }
}

/** NOT_FOUND: no such model or version, or the version is still loading. */
export class ModelNotFoundError extends TfServingError {}
/** INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE: the request itself is wrong. */
export class InvalidRequestError extends TfServingError {}
/** RESOURCE_EXHAUSTED: the server's queue is full; back off and send newer frames later. */
export class ServerBusyError extends TfServingError {}
/** UNAVAILABLE: the server cannot be reached or is shutting down. */
export class ServerUnavailableError extends TfServingError {}
/** DEADLINE_EXCEEDED: the call outlived its deadline. */
export class DeadlineExceededError extends TfServingError {}
/** CANCELLED: the caller aborted the call. */
export class CancelledError extends TfServingError {}
/** Anything else: INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS, auth failures. */
export class ServerError extends TfServingError {}

const classes: Partial<Record<number, new (code: number, details: string, method?: string) => TfServingError>> = {
  [Status.NOT_FOUND]: ModelNotFoundError,
  [Status.INVALID_ARGUMENT]: InvalidRequestError,
  [Status.FAILED_PRECONDITION]: InvalidRequestError,
  [Status.OUT_OF_RANGE]: InvalidRequestError,
  [Status.RESOURCE_EXHAUSTED]: ServerBusyError,
  [Status.UNAVAILABLE]: ServerUnavailableError,
  [Status.DEADLINE_EXCEEDED]: DeadlineExceededError,
  [Status.CANCELLED]: CancelledError,
};

/** INVALID_ARGUMENT: how a server refuses a malformed request. */
export function invalidArgument(details: string): InvalidRequestError {
  return new InvalidRequestError(Status.INVALID_ARGUMENT, details);
}

/** The typed error for a status code. */
export function errorForStatus(code: number, details: string, method = ''): TfServingError {
  const ErrorClass = classes[code] ?? ServerError;
  return new ErrorClass(code, details, method);
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

/** Wraps what a grpc-js call failed with. */
export function fromCallError(err: unknown, method: string): TfServingError {
  if (err instanceof TfServingError) return err;
  if (isServiceError(err)) return errorForStatus(err.code, err.details, method);
  return new ServerError(Status.INTERNAL, err instanceof Error ? err.message : String(err), method);
}
