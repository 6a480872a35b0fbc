// The tokens of protobuf's text format: identifiers, numbers, string
// literals (escapes decoded to bytes) and one-character symbols, each with
// its 1-based line and column; `#` comments and white space between them.
import { TextEncoder } from 'node:util';

export interface TextPosition {
  line: number;
  column: number;
}

/** A syntax or schema error at a place in the text; the message starts with `line:column: `. */
export class TextFormatError extends Error {
  readonly line: number;
  readonly column: number;
  /** The message without its position. */
  readonly reason: string;

  constructor(at: TextPosition, reason: string) {
    super(`${at.line}:${at.column}: ${reason}`);
    this.name = 'TextFormatError';
    this.line = at.line;
    this.column = at.column;
    this.reason = reason;
  }
}

export type TokenKind = 'identifier' | 'integer' | 'float' | 'string' | 'symbol' | 'end';

export interface Token extends TextPosition {
  kind: TokenKind;
  /** The source text (for a string, the literal with its quotes). */
  text: string;
  /** A string literal's bytes, escapes decoded. */
  bytes?: number[];
}

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, "'": 39, '"': 34, '?': 63,
};

export class Tokenizer {
  private pos = 0;
  private line = 1;
  private column = 1;
  current: Token;

  constructor(private readonly text: string) {
    this.current = this.read();
  }

  next(): Token {
    const token = this.current;
    this.current = this.read();
    return token;
  }

  private advance(n = 1): void {
    for (let i = 0; i < n; i++) {
      if (this.text[this.pos] === '\n') {
        this.line++;
        this.column = 1;
      } else {
        this.column++;
      }
      this.pos++;
    }
  }

  private read(): Token {
    this.skipSpaceAndComments();
    const at = { line: this.line, column: this.column };
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === undefined) return { ...at, kind: 'end', text: '' };
    if (/[A-Za-z_]/.test(c)) {
      while (this.pos < this.text.length && /[A-Za-z0-9_]/.test(this.text[this.pos])) this.advance();
      return { ...at, kind: 'identifier', text: this.text.slice(start, this.pos) };
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(this.text[this.pos + 1] ?? ''))) return this.readNumber(at);
    if (c === '"' || c === "'") return this.readString(at, c);
    this.advance();
    return { ...at, kind: 'symbol', text: c };
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const c = this.text[this.pos];
      if (c === '#') {
        while (this.pos < this.text.length && this.text[this.pos] !== '\n') this.advance();
      } else if (c !== undefined && /\s/.test(c)) {
        this.advance();
      } else {
        return;
      }
    }
  }

  private readNumber(at: TextPosition): Token {
    const rest = this.text.slice(this.pos);
    // Hex and octal are integers only; a decimal with a point, an exponent or
    // an f suffix is a float (`1f` is the float 1, as protobuf reads it).
    const m = /^0[xX][0-9A-Fa-f]+/.exec(rest) ?? /^0[0-7]+(?![0-9.eE])/.exec(rest) ?? /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fF]?/.exec(rest);
    if (!m) throw new TextFormatError(at, `Malformed number starting "${rest.slice(0, 12)}".`);
    const text = m[0];
    this.advance(text.length);
    if (/[A-Za-z0-9_.]/.test(this.text[this.pos] ?? '')) {
      throw new TextFormatError({ line: this.line, column: this.column }, `A number must be followed by a space or a symbol, not "${this.text[this.pos]}".`);
    }
    const isFloat = !/^0[xX]/.test(text) && /[.eEfF]/.test(text);
    if (!isFloat && /^0[0-9]+$/.test(text) && !/^0[0-7]+$/.test(text)) throw new TextFormatError(at, `"${text}" starts with 0, which makes it octal, but has the digit 8 or 9.`);
    return { ...at, kind: isFloat ? 'float' : 'integer', text };
  }

  private readString(at: TextPosition, quote: string): Token {
    const start = this.pos;
    const bytes: number[] = [];
    const encoder = new TextEncoder();
    this.advance();
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') {
        throw new TextFormatError({ line: this.line, column: this.column }, `String literal opened at ${at.line}:${at.column} is not closed on its line.`);
      }
      if (c === quote) {
        this.advance();
        return { ...at, kind: 'string', text: this.text.slice(start, this.pos), bytes };
      }
      if (c !== '\\') {
        const cp = this.text.codePointAt(this.pos) ?? 0;
        const ch = String.fromCodePoint(cp);
        bytes.push(...encoder.encode(ch));
        this.advance(ch.length);
        continue;
      }
      this.readEscape(bytes, encoder);
    }
  }

  private readEscape(bytes: number[], encoder: TextEncoder): void {
    const at = { line: this.line, column: this.column };
    const e = this.text[this.pos + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      this.advance(2);
      return;
    }
    const rest = this.text.slice(this.pos + 1);
    const octal = /^[0-7]{1,3}/.exec(rest);
    const hex = /^[xX][0-9A-Fa-f]{1,2}/.exec(rest);
    const unicode = /^u[0-9A-Fa-f]{4}/.exec(rest) ?? /^U[0-9A-Fa-f]{8}/.exec(rest);
    if (octal) {
      bytes.push(parseInt(octal[0], 8) & 0xff);
      this.advance(1 + octal[0].length);
    } else if (hex) {
      bytes.push(parseInt(hex[0].slice(1), 16));
      this.advance(1 + hex[0].length);
    } else if (unicode) {
      const cp = parseInt(unicode[0].slice(1), 16);
      if (cp > 0x10ffff) throw new TextFormatError(at, `Escape \\${unicode[0]} is beyond Unicode.`);
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
      this.advance(1 + unicode[0].length);
    } else {
      throw new TextFormatError(at, `Unknown escape "\\${e}" in a string literal.`);
    }
  }
}

export function describe(token: Token): string {
  return token.kind === 'end' ? 'end of input' : `"${token.text}"`;
}
