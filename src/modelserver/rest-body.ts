// The body of a REST predict call, read straight into one tensor: pixel
// values of nested [H][W][3] lists go into a Uint8Array as they are scanned
// (JSON.parse would build a JavaScript array per pixel), b64 strings are
// decoded as they come. Errors use TF Serving's wording (see rest-api.ts for
// the sources).
import { status as Status } from '@grpc/grpc-js';
import { InvalidRequestError, TfServingError } from '../tfserving/errors.js';
import type { TensorProto__Output } from '../tfserving/generated/tensorflow/TensorProto.js';
import { INPUT_ALIAS } from './signatures.js';

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(Status.INVALID_ARGUMENT, message);
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

