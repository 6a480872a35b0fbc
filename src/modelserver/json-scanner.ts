// A JSON scanner over the bytes of a request body, for predict bodies that
// are read without JSON.parse (rest-body.ts says why). It checks syntax with
// rapidjson's wording and offsets, as TF Serving reports them, and lets the
// reader walk values in place: skip one, read a string or a number, list an
// object's members, recognise a {"b64": "…"} value. It never builds arrays or
// objects; what to do with the values is the reader's (rest-body.ts).
import { invalidArgument } from '../tfserving/errors.js';

// JSON's punctuation, as bytes.
export const QUOTE = 0x22, COMMA = 0x2c, MINUS = 0x2d;
export const LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d;
const BACKSLASH = 0x5c, COLON = 0x3a, PLUS = 0x2b;
/** Deeper documents are refused instead of recursing without bound. */
const MAX_DEPTH = 64;

export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** A value quoted in an error message, cut short as gRPC messages are. */
function quote(text: string): string {
  return text.length > 128 ? `${text.slice(0, 128)}...` : text;
}

export class JsonScanner {
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
    throw invalidArgument(`JSON Parse error: ${what} at offset: ${at}`);
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
