// The body of a REST predict call, read straight into one tensor: pixel
// values of nested [H][W][3] lists go into a Uint8Array as they are scanned
// (JSON.parse would build a JavaScript array per pixel), b64 strings are
// decoded as they come. Errors use TF Serving's wording (see rest-api.ts for
// the sources).
import { invalidArgument, TfServingError, type InvalidRequestError } from '../tfserving/errors.js';
import type { TensorProto__Output } from '../tfserving/generated/tensorflow/TensorProto.js';
import { COMMA, isDigit, JsonScanner, LBRACE, LBRACKET, MINUS, QUOTE, RBRACKET } from './json-scanner.js';
import { INPUT_ALIAS } from './signatures.js';

// Parsed straight from the bytes, as json_tensor.cc reads them, without
// JSON.parse: a nested-list frame would become one JS array per pixel (about
// 70 bytes of heap per pixel), while here its values go straight into one
// Uint8Array. A first pass checks the syntax and finds the top-level keys; the
// tensor is read once the signature, and so its dtype, is known.

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Takes the values of one input tensor, checking each against the input's dtype. */
interface Sink {
  leaf(s: JsonScanner): void;
}

const typeError = (s: JsonScanner, dtype: string): InvalidRequestError =>
  invalidArgument(`JSON Value: ${s.raw(s.pos)} Type: ${s.typeName()} is not of expected type: ${dtype} (input ${INPUT_ALIAS})`);

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
    if (!b64) throw invalidArgument(`JSON Value: ${s.raw(s.pos)} not formatted correctly for base64 data (input ${INPUT_ALIAS})`);
    if (b64.text.length % 4 === 1 || !B64.test(b64.text)) throw invalidArgument(`Unable to base64 decode (input ${INPUT_ALIAS})`);
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
        throw invalidArgument(`JSON Value: ${s.raw(s.pos)} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${this.rank}`);
      }
      this.sink.leaf(s);
      this.count++;
      return;
    }
    if (this.rank !== -1 && level >= this.rank) throw invalidArgument(`Encountered list at unexpected level: ${level} expected < ${this.rank}`);
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
    else if (expected !== size) throw invalidArgument(`Encountered list at unexpected size: ${size} at level: ${level} expected size: ${expected}`);
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
  if (s.peek() !== LBRACKET) throw invalidArgument(`JSON Value: ${doc()} Excepting 'instances' to be an list/array`);
  s.pos++;
  s.ws();
  if (s.peek() === RBRACKET) throw invalidArgument(`JSON Value: ${doc()} No values in 'instances' array`);
  const isNamed = (): boolean => s.peek() === LBRACE && s.b64() === undefined;
  const named = isNamed();
  let first: { count: number; shape: number[] } | undefined;
  const addItem = (name: string): void => {
    if (name !== INPUT_ALIAS) throw invalidArgument(`JSON object: does not have named input: ${name}`);
    const walk = new TensorWalk(s, sink);
    walk.walk(0);
    if (!first) first = { count: walk.count, shape: walk.shape };
    else if (walk.count !== first.count) throw invalidArgument(`Expecting tensor size: ${first.count} but got: ${walk.count}`);
    else if (!sameShape(walk.shape, first.shape)) throw invalidArgument(`Expecting shape [${first.shape.join(',')}] but got: [${walk.shape.join(',')}]`);
  };
  const cause = (err: unknown): string => (err instanceof TfServingError ? `INVALID_ARGUMENT: ${err.details}` : String(err));
  let n = 0;
  for (;;) {
    s.ws();
    if (named) {
      if (!isNamed()) throw invalidArgument(`Expecting object but got list at item ${n} of input list`);
      const start = s.pos;
      const keys = new Set<string>();
      for (const { key, at: valueAt } of s.members(start)) {
        keys.add(key);
        s.pos = valueAt;
        try {
          addItem(key);
        } catch (err) {
          throw invalidArgument(`Failed to process element: ${n} key: ${key} of 'instances' list. Error: ${cause(err)}`);
        }
      }
      if (keys.size !== 1 || !keys.has(INPUT_ALIAS)) {
        throw invalidArgument(`Failed to process element: ${n} of 'instances' list. JSON object: ${s.raw(start)} must only have keys: ${INPUT_ALIAS}`);
      }
      s.pos = start;
      s.skipValue(0);
    } else {
      if (isNamed()) throw invalidArgument(`Expecting value/list but got object at item ${n} of input list`);
      try {
        addItem(INPUT_ALIAS);
      } catch (err) {
        throw invalidArgument(`Failed to process element: ${n} of 'instances' list. Error: ${cause(err)}`);
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
    if (!member) throw invalidArgument(`Missing named input: ${INPUT_ALIAS} in 'inputs' object.`);
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
 * A request body's JSON checked as TF Serving checks it first: not empty,
 * well formed, one root value, an object. Returns the scanner at the root,
 * and its members (the first of each key), with the root's text for errors.
 */
function objectBody(body: Buffer): { s: JsonScanner; doc: () => string; keys: Map<string, number> } {
  const s = new JsonScanner(body);
  s.ws();
  if (s.pos >= body.length) throw invalidArgument('JSON Parse error: The document is empty');
  const root = s.pos;
  s.skipValue(0);
  s.ws();
  if (s.pos < body.length) s.syntax('The document root must not be followed by other values.');
  const doc = (): string => s.raw(root);
  s.pos = root;
  if (s.peek() !== LBRACE) throw invalidArgument(`JSON Value: ${doc()} Is not object`);
  const keys = new Map<string, number>();
  for (const m of s.members(root)) if (!keys.has(m.key)) keys.set(m.key, m.at);
  return { s, doc, keys };
}

/** The body's signature_name ('' when absent), which must be a string. */
function signatureNameOf({ s, doc, keys }: ReturnType<typeof objectBody>): string {
  const at = keys.get('signature_name');
  if (at === undefined) return '';
  s.pos = at;
  if (s.peek() !== QUOTE) throw invalidArgument(`JSON Value: ${doc()} not formatted correctly. 'signature_name' key must be a string value.`);
  return s.readString();
}

/** A :classify or :regress body read as far as its signature_name, with the JSON checks TF Serving makes first. */
export function readSignatureName(body: Buffer): string {
  return signatureNameOf(objectBody(body));
}

/**
 * Reads a predict body in FillPredictRequestFromJson's order. `resolve` gets
 * the signature name once the JSON is known to be well formed, looks up the
 * servable and signature (throwing as TF Serving does), and names the input's dtype.
 */
export function parsePredictBody(body: Buffer, resolve: (signatureName: string) => 'DT_UINT8' | 'DT_STRING'): ParsedPredictBody {
  const parsed = objectBody(body);
  const { s, doc, keys } = parsed;
  const signatureName = signatureNameOf(parsed);
  const dtype = resolve(signatureName);
  const sink = dtype === 'DT_UINT8' ? new Uint8Sink() : new StringSink();
  const instancesAt = keys.get('instances');
  const inputsAt = keys.get('inputs');
  if (instancesAt !== undefined && inputsAt !== undefined) {
    throw invalidArgument(`JSON Value: ${doc()} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `);
  }
  if (instancesAt !== undefined) {
    const shape = rowTensor(s, instancesAt, sink, doc);
    return { signatureName, format: 'row', tensor: tensorOutput(dtype, shape, sink) };
  }
  if (inputsAt !== undefined) {
    const shape = columnarTensor(s, inputsAt, sink);
    return { signatureName, format: 'columnar', tensor: tensorOutput(dtype, shape, sink) };
  }
  throw invalidArgument("Missing 'inputs' or 'instances' key");
}

