// The error of TF Serving's config files and of the rules applied to them,
// as a TF status: a code name and TF Serving's message. It is a
// TfServingError, so a ReloadConfig RPC can send it back as its status
// unchanged, and a start-up error prints as TF's Status prints
// ("INVALID_ARGUMENT: …").
import { status as Status } from '@grpc/grpc-js';
import { TfServingError } from '../tfserving/errors.js';
import { parseTextProto, TextFormatError } from './text-proto.js';
import { type CheckedMessage, checkMessage, type MessageSchema } from './text-proto-schema.js';

export type ConfigStatusName = 'INVALID_ARGUMENT' | 'FAILED_PRECONDITION' | 'NOT_FOUND';

export class ServingConfigError extends TfServingError {
  /** The TF status code's name. */
  readonly status: ConfigStatusName;
  /** Where in the text the error is, for a parse or schema error. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(status: ConfigStatusName, message: string, at?: { line: number; column: number }) {
    super(Status[status], message);
    this.status = status;
    this.line = at?.line;
    this.column = at?.column;
  }
}

export function invalidConfig(message: string): ServingConfigError {
  return new ServingConfigError('INVALID_ARGUMENT', message);
}

/**
 * Text checked against a message type. A syntax or schema error becomes
 * INVALID_ARGUMENT worded as TF Serving's start-up error begins:
 * "Error parsing text-format tensorflow.serving.X: L:C: …".
 */
export function parseConfigText(text: string, type: MessageSchema): CheckedMessage {
  try {
    return checkMessage(type, parseTextProto(text));
  } catch (err) {
    if (!(err instanceof TextFormatError)) throw err;
    throw new ServingConfigError('INVALID_ARGUMENT', `Error parsing text-format ${type.fullName}: ${err.message}`, err);
  }
}
