// TF Serving's REST API in front of the embedded model server, so clients of
// TF Serving's (or KServe's v1) HTTP/JSON protocol work against it as they do
// against `tensorflow_model_server --rest_api_port`.
//
// Facts relied on (tensorflow/serving: g3doc/api_rest.md, model_servers/
// http_rest_api_util.cc, http_rest_api_handler.cc, http_server.cc,
// util/json_tensor.cc, servables/tensorflow/testdata/*_metadata.json):
// - routes: POST /v1/models/NAME[/versions/N|/labels/L]:(classify|regress|predict),
//   GET /v1/models/NAME[/versions/N|/labels/L][/metadata]; the path match is
//   case-insensitive, the verb compare is not; anything else is
//   "Malformed request: METHOD PATH" (INVALID_ARGUMENT);
// - predict bodies: optional string "signature_name", and "instances" (row
//   format, answered with "predictions") or "inputs" (columnar, answered with
//   "outputs"), never both; a binary DT_STRING value is {"b64": "…"};
// - status is GetModelStatusResponse printed by protobuf's JSON printer with
//   primitive fields always printed (int64 version as a string, enum names);
//   metadata is {"model_spec": …, "metadata": {"signature_def": <SignatureDefMap>}}
//   printed with proto field names, so the map sits under signature_def twice;
// - errors are {"error": "message"}; HTTP status from the canonical code:
//   INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE 400, NOT_FOUND 404,
//   RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501, UNAVAILABLE 503,
//   DEADLINE_EXCEEDED 504, CANCELLED 499, others 500;
// - --rest_api_timeout_in_ms defaults to 30000 and bounds each call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import { InvalidRequestError, ServerError, TfServingError } from '../tfserving/errors.js';
import type { TensorInfo } from '../tfserving/generated/tensorflow/TensorInfo.js';
import type { TensorProto__Output } from '../tfserving/generated/tensorflow/TensorProto.js';
import type { DetectorOutput } from './centernet.js';
import { MAX_DETECTIONS } from './centernet.js';
import { MAX_REQUEST_BYTES, planImageInput, type ImageInputPlan } from './predict-request.js';
import { DEFAULT_SIGNATURE, INPUT_ALIAS, OUTPUT_ALIASES, SIGNATURES } from './signatures.js';

/** TF Serving's --rest_api_timeout_in_ms default. */
export const REST_TIMEOUT_MS = 30_000;
/** Largest body taken: the gRPC receive limit, so both front-ends take the same request sizes. */
export const MAX_BODY_BYTES = MAX_REQUEST_BYTES + 1024 * 1024;

export interface RestApiOptions {
  /** Each call's deadline, as TF Serving's --rest_api_timeout_in_ms. Default 30 000. */
  timeoutMs?: number;
  /** Largest request body; bigger ones get 413. Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

/** What the REST front-end needs of the model server: the same lookups and predict path gRPC uses. */
export interface RestBackend {
  readonly modelName: string;
  readonly version: number;
  /** TF Serving's servable lookup: throws NOT_FOUND or INVALID_ARGUMENT as gRPC Predict does. */
  findServable(name: string, version: number | undefined, label: string | undefined): void;
  /** Queue room, decoding, detection: the predict core gRPC Predict also runs. */
  predict(plan: ImageInputPlan, signal: AbortSignal): Promise<DetectorOutput[]>;
  status(name: string, version: number | undefined, label: string | undefined): {
    version: number;
    state: string;
    status: { error_code: string; error_message: string };
  };
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(Status.INVALID_ARGUMENT, message);
}

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

// --- predict bodies ----------------------------------------------------------------
//
// Parsed straight from the bytes, as json_tensor.cc reads them, without
// JSON.parse: a nested-list frame would become one JS array per pixel (about
// 70 bytes of heap per pixel), while here its values go straight into one
// Uint8Array. A first pass checks the syntax and finds the top-level keys; the
// tensor is read once the signature, and so its dtype, is known.

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a, MINUS = 0x2d, PLUS = 0x2b;
const LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d;
/** Deeper documents are refused instead of recursing without bound. */
const MAX_DEPTH = 64;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** A value quoted in an error message, cut short as gRPC messages are. */
function quote(text: string): string {
  return text.length > 128 ? `${text.slice(0, 128)}...` : text;
}

class JsonScanner {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos] : -1;
  }

  ws(): void {
    const b = this.buf;
    while (this.pos < b.length && (b[this.pos] === 0x20 || b[this.pos] === 0x0a || b[this.pos] === 0x0d || b[this.pos] === 0x09)) this.pos++;
  }

  /** rapidjson's wording and offset, as TF Serving reports them. */
  syntax(what: string, at = this.pos): never {
    throw invalid(`JSON Parse error: ${what} at offset: ${at}`);
  }

  private word(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (this.buf[this.pos + i] !== text.charCodeAt(i)) return false;
    this.pos += text.length;
    return true;
  }

  skipValue(depth: number): void {
    this.ws();
    const c = this.peek();
    if (c === LBRACE || c === LBRACKET) {
      if (depth >= MAX_DEPTH) this.syntax(`Nesting deeper than ${MAX_DEPTH} levels.`);
      const close = c === LBRACE ? RBRACE : RBRACKET;
      this.pos++;
      this.ws();
      if (this.peek() === close) {
        this.pos++;
        return;
      }
      for (;;) {
        if (c === LBRACE) {
          if (this.peek() !== QUOTE) this.syntax('Missing a name for object member.');
          this.skipString();
          this.ws();
          if (this.peek() !== COLON) this.syntax('Missing a colon after a name of object member.');
          this.pos++;
        }
        this.skipValue(depth + 1);
        this.ws();
        const d = this.peek();
        if (d === COMMA) {
          this.pos++;
          this.ws();
        } else if (d === close) {
          this.pos++;
          return;
        } else {
          this.syntax(c === LBRACE ? "Missing a comma or '}' after an object member." : "Missing a comma or ']' after an array element.");
        }
      }
    }
    if (c === QUOTE) {
      this.skipString();
      return;
    }
    if (this.word('true') || this.word('false') || this.word('null')) return;
    // Plain digits followed by a delimiter, as image bytes are, need no more checking.
    const b = this.buf;
    let p = this.pos;
    while (isDigit(b[p] ?? -1)) p++;
    const next = b[p];
    if (p > this.pos && (b[this.pos] !== 0x30 || p === this.pos + 1) && (next === COMMA || next === RBRACKET || next === RBRACE || next === 0x20 || next === 0x0a || next === 0x0d || next === 0x09)) {
      this.pos = p;
      return;
    }
    this.readNumber();
  }

  /** Skips a string, checking its escapes; returns whether it has any. */
  skipString(): boolean {
    const b = this.buf;
    let escaped = false;
    this.pos++;
    for (;;) {
      if (this.pos >= b.length) this.syntax('Missing a closing quotation mark in string.');
      const c = b[this.pos];
      if (c === QUOTE) {
        this.pos++;
        return escaped;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[this.pos + 1];
        if (e === 0x75) {
          for (let i = 2; i < 6; i++) {
            if (!/[0-9a-fA-F]/.test(String.fromCharCode(b[this.pos + i] ?? 0))) this.syntax('Incorrect hex digit after \\u escape in string.', this.pos + i);
          }
          this.pos += 6;
        } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          this.pos += 2;
        } else {
          this.syntax('Invalid escape character in string.', this.pos + 1);
        }
      } else if (c < 0x20) {
        this.syntax('Invalid encoding in string.');
      } else {
        this.pos++;
      }
    }
  }

  readString(): string {
    const start = this.pos + 1;
    const escaped = this.skipString();
    const raw = this.buf.toString('utf8', start, this.pos - 1);
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  /**
   * A number, or the NaN/Infinity tokens TF Serving's parser accepts; `isInt`
   * is rapidjson's IsInt(): no fraction or exponent, and within int32.
   */
  readNumber(): { value: number; isInt: boolean } {
    const b = this.buf;
    const start = this.pos;
    const negative = b[this.pos] === MINUS;
    if (negative) this.pos++;
    if (this.word('Infinity')) return { value: negative ? -Infinity : Infinity, isInt: false };
    if (!negative && this.word('NaN')) return { value: NaN, isInt: false };
    if (!isDigit(b[this.pos] ?? -1)) this.syntax('Invalid value.', start);
    let value = 0;
    let digits = 0;
    if (b[this.pos] === 0x30) {
      this.pos++;
      digits = 1;
    } else {
      while (isDigit(b[this.pos] ?? -1)) {
        value = value * 10 + (b[this.pos] - 0x30);
        this.pos++;
        digits++;
      }
    }
    let exact = digits <= 15;
    if (b[this.pos] === 0x2e) {
      this.pos++;
      if (!isDigit(b[this.pos] ?? -1)) this.syntax('Miss fraction part in number.');
      while (isDigit(b[this.pos] ?? -1)) this.pos++;
      exact = false;
    }
    if (b[this.pos] === 0x65 || b[this.pos] === 0x45) {
      this.pos++;
      if (b[this.pos] === PLUS || b[this.pos] === MINUS) this.pos++;
      if (!isDigit(b[this.pos] ?? -1)) this.syntax('Miss exponent in number.');
      while (isDigit(b[this.pos] ?? -1)) this.pos++;
      exact = false;
    }
    if (exact) {
      const v = negative ? -value : value;
      return { value: v, isInt: v >= -2147483648 && v <= 2147483647 };
    }
    return { value: Number(b.toString('latin1', start, this.pos)), isInt: false };
  }

  /** The text of the value at `at`, for error messages. */
  raw(at: number): string {
    const saved = this.pos;
    this.pos = at;
    this.skipValue(0);
    const text = this.buf.toString('utf8', at, this.pos);
    this.pos = saved;
    return quote(text);
  }

  /** rapidjson's type name of the value here, as TF Serving's type errors print it. */
  typeName(): string {
    switch (this.peek()) {
      case LBRACE: return 'Object';
      case LBRACKET: return 'Array';
      case QUOTE: return 'String';
      case 0x74: return 'True';
      case 0x66: return 'False';
      case 0x6e: return 'Null';
      default: return 'Number';
    }
  }

  /** The string of a {"b64": "…"} object here (exactly one member, a string), without moving. */
  b64(): { text: string; end: number } | undefined {
    if (this.peek() !== LBRACE) return undefined;
    const saved = this.pos;
    try {
      this.pos++;
      this.ws();
      if (this.peek() !== QUOTE || this.readString() !== 'b64') return undefined;
      this.ws();
      this.pos++; // the colon; the syntax pass checked it
      this.ws();
      if (this.peek() !== QUOTE) return undefined;
      const text = this.readString();
      this.ws();
      return this.peek() === RBRACE ? { text, end: this.pos + 1 } : undefined;
    } finally {
      this.pos = saved;
    }
  }

  /** An object's members in order (the syntax pass has checked them): key and where its value starts. */
  members(at: number): Array<{ key: string; at: number }> {
    const out: Array<{ key: string; at: number }> = [];
    this.pos = at + 1;
    this.ws();
    if (this.peek() === RBRACE) return out;
    for (;;) {
      const key = this.readString();
      this.ws();
      this.pos++;
      this.ws();
      out.push({ key, at: this.pos });
      this.skipValue(0);
      this.ws();
      if (this.buf[this.pos++] !== COMMA) return out;
      this.ws();
    }
  }
}

/** Takes the values of one input tensor, checking each against the input's dtype. */
interface Sink {
  leaf(s: JsonScanner): void;
}

const typeError = (s: JsonScanner, dtype: string): InvalidRequestError =>
  invalid(`JSON Value: ${s.raw(s.pos)} Type: ${s.typeName()} is not of expected type: ${dtype} (input ${INPUT_ALIAS})`);

/** DT_UINT8 values: integers (rapidjson's IsInt), kept modulo 256 as TensorFlow's int_val parsing keeps them. */
class Uint8Sink implements Sink {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  private push(value: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = value & 0xff;
  }

  leaf(s: JsonScanner): void {
    // Fast path for what nearly every value is: up to 9 digits, no sign, fraction or exponent.
    const b = s.buf;
    let p = s.pos;
    let c = b[p];
    if (c >= 0x30 && c <= 0x39) {
      let v = 0;
      do {
        v = v * 10 + (c - 0x30);
        c = b[++p];
      } while (c >= 0x30 && c <= 0x39 && p - s.pos < 9);
      if (!(c >= 0x30 && c <= 0x39) && c !== 0x2e && c !== 0x65 && c !== 0x45) {
        s.pos = p;
        this.push(v);
        return;
      }
    }
    c = s.peek();
    if (c === MINUS || isDigit(c) || c === 0x4e || c === 0x49) {
      const start = s.pos;
      const { value, isInt } = s.readNumber();
      if (!isInt) {
        s.pos = start;
        throw typeError(s, 'uint8');
      }
      this.push(value);
      return;
    }
    throw typeError(s, 'uint8');
  }
}

/** DT_STRING values: plain strings, or bytes as {"b64": "…"}. */
class StringSink implements Sink {
  readonly values: Buffer[] = [];
  leaf(s: JsonScanner): void {
    const c = s.peek();
    if (c === QUOTE) {
      this.values.push(Buffer.from(s.readString(), 'utf8'));
      return;
    }
    if (c !== LBRACE) throw typeError(s, 'string');
    const b64 = s.b64();
    if (!b64) throw invalid(`JSON Value: ${s.raw(s.pos)} not formatted correctly for base64 data (input ${INPUT_ALIAS})`);
    if (b64.text.length % 4 === 1 || !B64.test(b64.text)) throw invalid(`Unable to base64 decode (input ${INPUT_ALIAS})`);
    this.values.push(Buffer.from(b64.text, 'base64'));
    s.pos = b64.end;
  }
}

/**
 * Reads one dense tensor as FillTensorProto does: the first path down fixes
 * the rank and each dimension; every other list must match them.
 */
class TensorWalk {
  dims: Array<number | undefined> = [];
  rank = -1;
  count = 0;

  constructor(private readonly s: JsonScanner, private readonly sink: Sink) {}

  walk(level: number): void {
    const s = this.s;
    s.ws();
    if (s.peek() !== LBRACKET) {
      if (this.rank === -1) this.rank = level;
      if (level !== this.rank) {
        throw invalid(`JSON Value: ${s.raw(s.pos)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${this.rank}`);
      }
      this.sink.leaf(s);
      this.count++;
      return;
    }
    if (this.rank !== -1 && level >= this.rank) throw invalid(`Encountered list at unexpected level: ${level} expected < ${this.rank}`);
    s.pos++;
    s.ws();
    let size = 0;
    if (s.peek() === RBRACKET) {
      s.pos++;
      if (this.rank === -1) this.rank = level + 1;
    } else {
      for (;;) {
        this.walk(level + 1);
        size++;
        s.ws();
        if (s.buf[s.pos++] !== COMMA) break;
      }
    }
    const expected = this.dims[level];
    if (expected === undefined) this.dims[level] = size;
    else if (expected !== size) throw invalid(`Encountered list at unexpected size: ${size} at level: ${level} expected size: ${expected}`);
  }

  get shape(): number[] {
    return this.dims.slice(0, this.rank).map((d) => d ?? 0);
  }
}

function tensorOutput(dtype: 'DT_UINT8' | 'DT_STRING', shape: readonly number[], sink: Uint8Sink | StringSink): TensorProto__Output {
  return {
    dtype,
    tensor_shape: { dim: shape.map((size) => ({ size, name: '' })), unknown_rank: false },
    version_number: 0,
    tensor_content: sink instanceof Uint8Sink ? Buffer.from(sink.bytes.buffer, 0, sink.length) : Buffer.alloc(0),
    float_val: [], double_val: [], int_val: [],
    string_val: sink instanceof StringSink ? sink.values : [],
    scomplex_val: [], int64_val: [], bool_val: [], dcomplex_val: [], half_val: [],
    resource_handle_val: [], variant_val: [], uint32_val: [], uint64_val: [],
    float8_val: Buffer.alloc(0),
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** "instances": one list item per batch row, all of one shape (FillTensorMapFromInstancesList). */
function rowTensor(s: JsonScanner, at: number, sink: Uint8Sink | StringSink, doc: () => string): number[] {
  s.pos = at;
  if (s.peek() !== LBRACKET) throw invalid(`JSON Value: ${doc()} Excepting 'instances' to be an list/array`);
  s.pos++;
  s.ws();
  if (s.peek() === RBRACKET) throw invalid(`JSON Value: ${doc()} No values in 'instances' array`);
  const isNamed = (): boolean => s.peek() === LBRACE && s.b64() === undefined;
  const named = isNamed();
  let first: { count: number; shape: number[] } | undefined;
  const addItem = (name: string): void => {
    if (name !== INPUT_ALIAS) throw invalid(`JSON object: does not have named input: ${name}`);
    const walk = new TensorWalk(s, sink);
    walk.walk(0);
    if (!first) first = { count: walk.count, shape: walk.shape };
    else if (walk.count !== first.count) throw invalid(`Expecting tensor size: ${first.count} but got: ${walk.count}`);
    else if (!sameShape(walk.shape, first.shape)) throw invalid(`Expecting shape [${first.shape.join(',')}] but got: [${walk.shape.join(',')}]`);
  };
  const cause = (err: unknown): string => (err instanceof TfServingError ? `INVALID_ARGUMENT: ${err.details}` : String(err));
  let n = 0;
  for (;;) {
    s.ws();
    if (named) {
      if (!isNamed()) throw invalid(`Expecting object but got list at item ${n} of input list`);
      const start = s.pos;
      const keys = new Set<string>();
      for (const { key, at: valueAt } of s.members(start)) {
        keys.add(key);
        s.pos = valueAt;
        try {
          addItem(key);
        } catch (err) {
          throw invalid(`Failed to process element: ${n} key: ${key} of 'instances' list. Error: ${cause(err)}`);
        }
      }
      if (keys.size !== 1 || !keys.has(INPUT_ALIAS)) {
        throw invalid(`Failed to process element: ${n} of 'instances' list. JSON object: ${s.raw(start)} must only have keys: ${INPUT_ALIAS}`);
      }
      s.pos = start;
      s.skipValue(0);
    } else {
      if (isNamed()) throw invalid(`Expecting value/list but got object at item ${n} of input list`);
      try {
        addItem(INPUT_ALIAS);
      } catch (err) {
        throw invalid(`Failed to process element: ${n} of 'instances' list. Error: ${cause(err)}`);
      }
    }
    n++;
    s.ws();
    if (s.buf[s.pos++] !== COMMA) break;
  }
  return [n, ...(first?.shape ?? [])];
}

/** "inputs": the tensor itself, or an object naming it (FillTensorMapFromInputsMap). */
function columnarTensor(s: JsonScanner, at: number, sink: Uint8Sink | StringSink): number[] {
  s.pos = at;
  let valueAt = at;
  if (s.peek() === LBRACE && s.b64() === undefined) {
    const member = s.members(at).find((m) => m.key === INPUT_ALIAS);
    if (!member) throw invalid(`Missing named input: ${INPUT_ALIAS} in 'inputs' object.`);
    valueAt = member.at;
  }
  s.pos = valueAt;
  const walk = new TensorWalk(s, sink);
  walk.walk(0);
  return walk.shape;
}

export interface ParsedPredictBody {
  signatureName: string;
  format: 'row' | 'columnar';
  tensor: TensorProto__Output;
}

/**
 * Reads a predict body in FillPredictRequestFromJson's order. `resolve` gets
 * the signature name once the JSON is known to be well formed, looks up the
 * servable and signature (throwing as TF Serving does), and names the input's dtype.
 */
export function parsePredictBody(body: Buffer, resolve: (signatureName: string) => 'DT_UINT8' | 'DT_STRING'): ParsedPredictBody {
  const s = new JsonScanner(body);
  s.ws();
  if (s.pos >= body.length) throw invalid('JSON Parse error: The document is empty');
  const root = s.pos;
  s.skipValue(0);
  s.ws();
  if (s.pos < body.length) s.syntax('The document root must not be followed by other values.');
  const doc = (): string => s.raw(root);
  s.pos = root;
  if (s.peek() !== LBRACE) throw invalid(`JSON Value: ${doc()} Is not object`);
  const keys = new Map<string, number>();
  for (const m of s.members(root)) if (!keys.has(m.key)) keys.set(m.key, m.at);

  let signatureName = '';
  const sigAt = keys.get('signature_name');
  if (sigAt !== undefined) {
    s.pos = sigAt;
    if (s.peek() !== QUOTE) throw invalid(`JSON Value: ${doc()} not formatted correctly. 'signature_name' key must be a string value.`);
    signatureName = s.readString();
  }
  const dtype = resolve(signatureName);
  const sink = dtype === 'DT_UINT8' ? new Uint8Sink() : new StringSink();
  const instancesAt = keys.get('instances');
  const inputsAt = keys.get('inputs');
  if (instancesAt !== undefined && inputsAt !== undefined) {
    throw invalid(`JSON Value: ${doc()} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `);
  }
  if (instancesAt !== undefined) {
    const shape = rowTensor(s, instancesAt, sink, doc);
    return { signatureName, format: 'row', tensor: tensorOutput(dtype, shape, sink) };
  }
  if (inputsAt !== undefined) {
    const shape = columnarTensor(s, inputsAt, sink);
    return { signatureName, format: 'columnar', tensor: tensorOutput(dtype, shape, sink) };
  }
  throw invalid("Missing 'inputs' or 'instances' key");
}

// --- answers -----------------------------------------------------------------

/**
 * A float32 as TF Serving writes it: the shortest of six or nine significant
 * digits that reads back as the same float32, ".0" on whole numbers, and the
 * NaN/Infinity tokens its parser also accepts.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(v);
  let s = String(Number(f.toPrecision(6)));
  if (Math.fround(Number(s)) !== f) s = String(Number(f.toPrecision(9)));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A dense float tensor as nested JSON lists (a scalar when the shape is empty). */
function tensorJson(values: Float32Array, shape: readonly number[]): string {
  let offset = 0;
  const walk = (dim: number): string => {
    if (dim === shape.length) return formatFloat32(values[offset++]);
    const parts = new Array<string>(shape[dim]);
    for (let i = 0; i < shape[dim]; i++) parts[i] = walk(dim + 1);
    return `[${parts.join(',')}]`;
  };
  return walk(0);
}

/** One image's outputs, per alias, in the shape the signature gives them without the batch dimension. */
function outputsOf(o: DetectorOutput): Record<(typeof OUTPUT_ALIASES)[number], string> {
  return {
    detection_boxes: tensorJson(o.boxes, [MAX_DETECTIONS, 4]),
    detection_classes: tensorJson(o.classes, [MAX_DETECTIONS]),
    detection_scores: tensorJson(o.scores, [MAX_DETECTIONS]),
    num_detections: formatFloat32(o.num),
  };
}

const SORTED_OUTPUTS = [...OUTPUT_ALIASES].sort();

/** Row format: one object per image with every output; columnar: one object of batched outputs. */
export function predictJson(results: readonly DetectorOutput[], format: 'row' | 'columnar'): string {
  const perImage = results.map(outputsOf);
  if (format === 'row') {
    const rows = perImage.map((o) => `{${SORTED_OUTPUTS.map((k) => `"${k}":${o[k]}`).join(',')}}`);
    return `{"predictions":[${rows.join(',')}]}`;
  }
  const columns = SORTED_OUTPUTS.map((k) => `"${k}":[${perImage.map((o) => o[k]).join(',')}]`);
  return `{"outputs":{${columns.join(',')}}}`;
}

/** TensorInfo as protobuf's JSON printer gives it (int64 sizes as strings, defaults printed). */
function tensorInfoJson(info: TensorInfo): object {
  return {
    dtype: info.dtype,
    tensor_shape: {
      dim: (info.tensor_shape?.dim ?? []).map((d) => ({ size: String(d.size), name: d.name ?? '' })),
      unknown_rank: info.tensor_shape?.unknown_rank ?? false,
    },
    name: info.name ?? '',
  };
}

function metadataJson(modelName: string, version: number): object {
  const defs: Record<string, object> = {};
  for (const [name, { def }] of Object.entries(SIGNATURES)) {
    const map = (m: Record<string, TensorInfo> | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, tensorInfoJson(v)]));
    defs[name] = { inputs: map(def.inputs), outputs: map(def.outputs), method_name: def.method_name ?? '', defaults: {} };
  }
  return {
    model_spec: { name: modelName, signature_name: '', version: String(version) },
    metadata: { signature_def: { signature_def: defs } },
  };
}

// --- routes --------------------------------------------------------------------

const PREDICT_ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(classify|regress|predict)$/i;
const STATUS_ROUTE = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;

interface Route {
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
    throw invalid(`Failed to decode ${what}:${raw}`);
  }
}

/** Parses the path as TF Serving's ParseModelInfo does. */
export function route(method: string, path: string): Route {
  const malformed = invalid(`Malformed request: ${method} ${path}`);
  const m = method === 'POST' ? PREDICT_ROUTE.exec(path) : method === 'GET' ? STATUS_ROUTE.exec(path) : null;
  if (!m) throw malformed;
  const [, rawName = '', rawVersion, rawLabel, verb = ''] = m;
  let version: number | undefined;
  if (rawVersion !== undefined) {
    version = Number(rawVersion);
    if (!Number.isSafeInteger(version)) throw invalid(`Failed to convert version: ${rawVersion} to numeric.`);
  }
  const model = rawName ? decodeArg(rawName, 'model name') : '';
  const label = rawLabel !== undefined ? decodeArg(rawLabel, 'model version label') : undefined;
  if (method === 'POST') {
    // The regex ignores case; the verb compare does not, so ":PREDICT" matches the route but no verb.
    if (verb === 'predict') return { kind: 'predict', model, version, label, verb };
    if (verb === 'classify' || verb === 'regress') return { kind: 'unimplemented', model, version, label, verb };
    throw malformed;
  }
  if (!model) throw invalid('Missing model name in request.');
  return { kind: verb ? 'metadata' : 'status', model, version, label, verb };
}

// --- the server ------------------------------------------------------------------

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes exceeds this server's limit of ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new BodyTooLargeError(`request body exceeds this server's limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client that hangs up mid-body ends the wait too.
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

export class RestApi {
  private readonly server: http.Server;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly backend: RestBackend, options: RestApiOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? REST_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.reply(res, 500, { error: err instanceof Error ? err.message : String(err) }));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve(this.boundPort);
      });
    });
  }

  private reply(res: http.ServerResponse, status: number, body: object | string, close = false): void {
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      // While closing, keep-alive connections end with their answer instead of holding close() up.
      ...(close || this.closing ? { Connection: 'close' } : {}),
    });
    res.end(text);
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof BodyTooLargeError) {
      // The rest of the body is not read: say so and close rather than drain it.
      this.reply(res, 413, { error: err.message }, true);
      return;
    }
    const code = err instanceof TfServingError ? err.code : Status.INTERNAL;
    const details = err instanceof TfServingError ? err.details : err instanceof Error ? err.message : String(err);
    this.reply(res, httpStatusForCode(code), { error: details });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (!/^\/v1\//i.test(path)) {
        // TF Serving only dispatches /v1/… to its REST handler.
        req.resume();
        this.reply(res, 404, { error: `Not found: ${method} ${path}` });
        return;
      }
      const r = route(method, path);
      if (r.kind === 'status') {
        req.resume();
        const s = this.backend.status(r.model, r.version, r.label);
        this.reply(res, 200, { model_version_status: [{ version: String(s.version), state: s.state, status: s.status }] });
        return;
      }
      if (r.kind === 'metadata') {
        req.resume();
        this.backend.findServable(r.model, r.version, r.label);
        this.reply(res, 200, metadataJson(this.backend.modelName, this.backend.version));
        return;
      }
      if (r.kind === 'unimplemented') {
        req.resume();
        throw new ServerError(Status.UNIMPLEMENTED, `${r.verb} is not implemented: this server serves object detection through predict`);
      }
      const body = await readBody(req, this.maxBodyBytes);
      await this.predict(r, body, res);
    } catch (err) {
      this.fail(res, err);
    }
  }

  /** In TF Serving's order: JSON syntax, signature_name, servable, signature, tensors, then the model. */
  private async predict(r: Route, body: Buffer, res: http.ServerResponse): Promise<void> {
    const request = parsePredictBody(body, (signatureName) => {
      this.backend.findServable(r.model, r.version, r.label);
      const name = signatureName || DEFAULT_SIGNATURE;
      const signature = SIGNATURES[name];
      if (!signature) throw invalid(`Serving signature name: "${name}" not found in signature def`);
      return signature.kind === 'uint8' ? 'DT_UINT8' : 'DT_STRING';
    });
    const kind = request.tensor.dtype === 'DT_UINT8' ? 'uint8' : 'jpeg';
    const plan = planImageInput(request.tensor, kind);

    // The client hanging up or the deadline passing cancels the call: a frame
    // still queued leaves the queue; one already on a worker runs to its end, but
    // the caller is answered at the deadline, as TF Serving's session-run timeout answers it.
    const controller = new AbortController();
    let expire!: (err: Error) => void;
    const expired = new Promise<never>((_, reject) => {
      expire = reject;
    });
    expired.catch(() => undefined);
    const timer = setTimeout(() => {
      expire(new TfServingError(Status.DEADLINE_EXCEEDED, 'Deadline Exceeded'));
      controller.abort();
    }, this.timeoutMs);
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', onClose);
    try {
      const work = this.backend.predict(plan, controller.signal);
      work.catch(() => undefined);
      const results = await Promise.race([work, expired]);
      this.reply(res, 200, predictJson(results, request.format));
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  /**
   * Stops taking connections, lets calls in flight finish for up to graceMs,
   * then cuts the rest. Safe to call twice.
   */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // Keep-alive connections with no request in flight need not wait.
      this.server.closeIdleConnections();
    });
    return this.closing;
  }
}
