// A text-format tree checked against a message type, as protobuf's parser
// checks it while it reads: every field must exist in the type, a singular
// field may be given once, one member of a oneof at most, and each value must
// fit the field's type (an int64 in range, a uint32 not negative, a string
// valid UTF-8). The result keeps each value's position, so the readers that
// turn it into typed configs can report a bad value where it was written.
import { type TextMessage, type TextPosition, type TextValue, TextFormatError } from './text-proto.js';

export type ScalarType = 'string' | 'int64' | 'uint32' | 'int32' | 'bool' | 'double';

export interface EnumType {
  enum: string;
  values: Record<string, number>;
}

export interface FieldSchema {
  type: ScalarType | EnumType | MessageSchema;
  repeated?: boolean;
  /** The oneof the field belongs to. */
  oneof?: string;
}

export interface MessageSchema {
  /** The full name protobuf reports, e.g. "tensorflow.serving.ModelConfig". */
  fullName: string;
  /** Fields by name; a function when the type refers to itself or to types declared after it. */
  fields: Record<string, FieldSchema> | (() => Record<string, FieldSchema>);
  /** Accepted with any content, unchecked (a type lookout reads nothing of). */
  opaque?: boolean;
}

export type CheckedValue = string | bigint | boolean | number | CheckedMessage;

export interface CheckedField extends TextPosition {
  value: CheckedValue;
}

export interface CheckedMessage extends TextPosition {
  type: MessageSchema;
  /** Given fields by name, in the order written. */
  fields: Map<string, CheckedField[]>;
}

const INT_RANGES: Record<'int64' | 'uint32' | 'int32', [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
};

const BOOL_NAMES: Record<string, boolean> = { true: true, t: true, True: true, false: false, f: false, False: false };

function fieldsOf(type: MessageSchema): Record<string, FieldSchema> {
  return typeof type.fields === 'function' ? type.fields() : type.fields;
}

function typeName(type: FieldSchema['type']): string {
  if (typeof type === 'string') return type;
  return 'enum' in type ? type.enum : type.fullName;
}

function shown(value: TextValue): string {
  switch (value.kind) {
    case 'string':
      return JSON.stringify(value.value);
    case 'integer':
    case 'float':
      return String(value.value);
    case 'identifier':
      return `${value.negative ? '-' : ''}${value.name}`;
    case 'message':
      return 'a message';
  }
}

function checkScalar(name: string, type: ScalarType | EnumType, value: TextValue): CheckedValue {
  const wrong = () => new TextFormatError(value, `Field "${name}" takes a value of type ${typeName(type)}; ${shown(value)} is not one.`);
  if (typeof type !== 'string') {
    if (value.kind === 'identifier' && !value.negative) {
      const number = type.values[value.name];
      if (number === undefined) throw new TextFormatError(value, `Enum ${type.enum} has no value named "${value.name}" (field "${name}").`);
      return number;
    }
    // An open (proto3) enum takes any int32 by number.
    if (value.kind === 'integer' && value.value >= INT_RANGES.int32[0] && value.value <= INT_RANGES.int32[1]) return Number(value.value);
    throw wrong();
  }
  switch (type) {
    case 'string':
      if (value.kind !== 'string') throw wrong();
      if (!value.validUtf8) throw new TextFormatError(value, `Field "${name}" is a string and must be valid UTF-8.`);
      return value.value;
    case 'bool':
      if (value.kind === 'identifier' && !value.negative && value.name in BOOL_NAMES) return BOOL_NAMES[value.name];
      if (value.kind === 'integer' && (value.value === 0n || value.value === 1n)) return value.value === 1n;
      throw wrong();
    case 'double':
      if (value.kind === 'integer') return Number(value.value);
      if (value.kind === 'float') return value.value;
      if (value.kind === 'identifier' && /^(inf|infinity)$/i.test(value.name)) return value.negative ? -Infinity : Infinity;
      if (value.kind === 'identifier' && /^nan$/i.test(value.name)) return NaN;
      throw wrong();
    default: {
      if (value.kind !== 'integer') throw wrong();
      const [min, max] = INT_RANGES[type];
      if (value.value < min || value.value > max) throw new TextFormatError(value, `${value.value} is out of range for field "${name}" (${type}: ${min} to ${max}).`);
      return value.value;
    }
  }
}

/** The tree of one message checked against its type; throws TextFormatError at the first field that does not fit. */
export function checkMessage(type: MessageSchema, message: TextMessage, at: TextPosition = { line: 1, column: 1 }): CheckedMessage {
  const out: CheckedMessage = { type, line: at.line, column: at.column, fields: new Map() };
  if (type.opaque) return out;
  const schema = fieldsOf(type);
  const oneofs = new Map<string, string>();
  for (const field of message.fields) {
    const spec = Object.hasOwn(schema, field.name) ? schema[field.name] : undefined;
    if (!spec) throw new TextFormatError(field, `Message type "${type.fullName}" has no field named "${field.name}".`);
    const given = out.fields.get(field.name) ?? [];
    if (given.length > 0 && !spec.repeated) throw new TextFormatError(field, `Field "${field.name}" of ${type.fullName} is not repeated and is given more than once.`);
    if (spec.oneof !== undefined) {
      const other = oneofs.get(spec.oneof);
      if (other !== undefined && other !== field.name) {
        throw new TextFormatError(field, `Field "${field.name}" and field "${other}" are both members of oneof "${spec.oneof}" of ${type.fullName}; give only one.`);
      }
      oneofs.set(spec.oneof, field.name);
    }
    const value = field.value;
    let checked: CheckedValue;
    if (typeof spec.type === 'object' && 'fullName' in spec.type) {
      if (value.kind !== 'message') {
        throw new TextFormatError(value, `Field "${field.name}" is a message (${spec.type.fullName}): write it as ${field.name} { … }, not ${field.name}: ${shown(value)}.`);
      }
      checked = checkMessage(spec.type, value, value);
    } else {
      if (value.kind === 'message') throw new TextFormatError(value, `Field "${field.name}" is a ${typeName(spec.type)}, not a message: write ${field.name}: value.`);
      checked = checkScalar(field.name, spec.type, value);
    }
    given.push({ line: field.line, column: field.column, value: checked });
    out.fields.set(field.name, given);
  }
  return out;
}

// Typed reads of a checked message. The schema has already fixed each
// field's type; these narrow the union without a cast and fail loudly if a
// reader asks for a field as the wrong type (a bug in the reader, not in the file).

function mismatch(message: CheckedMessage, name: string, wanted: string): Error {
  return new Error(`reader bug: field "${name}" of ${message.type.fullName} read as ${wanted}`);
}

export function stringField(message: CheckedMessage, name: string, fallback = ''): string {
  const v = message.fields.get(name)?.[0]?.value;
  if (v === undefined) return fallback;
  if (typeof v !== 'string') throw mismatch(message, name, 'string');
  return v;
}

export function boolField(message: CheckedMessage, name: string, fallback = false): boolean {
  const v = message.fields.get(name)?.[0]?.value;
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw mismatch(message, name, 'bool');
  return v;
}

export function numberField(message: CheckedMessage, name: string, fallback = 0): number {
  const v = message.fields.get(name)?.[0]?.value;
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw mismatch(message, name, 'enum or double');
  return v;
}

/** Every value of an integer field, with where each was written. */
export function integerFields(message: CheckedMessage, name: string): { value: bigint; at: TextPosition }[] {
  return (message.fields.get(name) ?? []).map((f) => {
    if (typeof f.value !== 'bigint') throw mismatch(message, name, 'integer');
    return { value: f.value, at: { line: f.line, column: f.column } };
  });
}

export function integerField(message: CheckedMessage, name: string): bigint | undefined {
  return integerFields(message, name)[0]?.value;
}

/** Every value of a message field. */
export function messageFields(message: CheckedMessage, name: string): CheckedMessage[] {
  return (message.fields.get(name) ?? []).map((f) => {
    if (typeof f.value !== 'object') throw mismatch(message, name, 'message');
    return f.value;
  });
}

export function messageField(message: CheckedMessage, name: string): CheckedMessage | undefined {
  return messageFields(message, name)[0];
}
