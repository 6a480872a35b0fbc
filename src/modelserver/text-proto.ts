// Protobuf text format, as TF Serving's config files are written in it
// (--model_config_file, --batching_parameters_file, --monitoring_config_file).
// The parser knows no schema: it turns the text into a tree of fields, each
// with its line and column, and text-proto-schema.ts checks the tree against
// a message type. Syntax alone decides what is a message (`name { … }`,
// `name: { … }`, `name < … >`) and what is a scalar (`name: value`), as it
// does in protobuf's own parser, so one pass is enough.
//
// Positions are 1-based lines and columns, one column per character (protobuf
// advances tabs to the next multiple of 8; a file indented with tabs gets
// columns that differ there, nothing else).
import { TextDecoder } from 'node:util';
import { describe, type TextPosition, TextFormatError, type Token, Tokenizer } from './text-proto-tokens.js';

export { type TextPosition, TextFormatError } from './text-proto-tokens.js';

/** A scalar or a message, where it starts in the text. */
export type TextValue =
  | (TextPosition & { kind: 'string'; value: string; validUtf8: boolean })
  | (TextPosition & { kind: 'integer'; value: bigint })
  | (TextPosition & { kind: 'float'; value: number })
  | (TextPosition & { kind: 'identifier'; name: string; negative: boolean })
  | (TextPosition & { kind: 'message'; fields: TextField[] });

/** One `name: value` or `name { … }`; a field given n times (or in a list) appears n times. */
export interface TextField extends TextPosition {
  /** The field's name; an extension or Any type URL keeps its brackets: `[type.googleapis.com/x.Y]`. */
  name: string;
  value: TextValue;
}

export interface TextMessage {
  fields: TextField[];
}

const CLOSERS: Record<string, string> = { '{': '}', '<': '>' };

class Parser {
  private readonly tokens: Tokenizer;

  constructor(text: string) {
    this.tokens = new Tokenizer(text);
  }

  parseTop(): TextMessage {
    const fields = this.parseFields(undefined);
    return { fields };
  }

  private get current(): Token {
    return this.tokens.current;
  }

  private isSymbol(text: string): boolean {
    return this.current.kind === 'symbol' && this.current.text === text;
  }

  private expectSymbol(text: string): Token {
    if (!this.isSymbol(text)) throw new TextFormatError(this.current, `Expected "${text}", found ${describe(this.current)}.`);
    return this.tokens.next();
  }

  /** Fields up to `closer` (consumed), or to the end of the text when there is none. */
  private parseFields(closer: string | undefined): TextField[] {
    const fields: TextField[] = [];
    for (;;) {
      if (closer !== undefined && this.isSymbol(closer)) {
        this.tokens.next();
        return fields;
      }
      if (this.current.kind === 'end') {
        if (closer === undefined) return fields;
        throw new TextFormatError(this.current, `Expected "${closer}", found end of input.`);
      }
      // A symbol that cannot start a field here is most likely the wrong closer.
      if (closer !== undefined && this.current.kind === 'symbol' && this.current.text !== '[') {
        throw new TextFormatError(this.current, `Expected "${closer}", found ${describe(this.current)}.`);
      }
      this.parseField(fields);
      if (this.isSymbol(',') || this.isSymbol(';')) this.tokens.next();
    }
  }

  private parseFieldName(): { name: string; at: TextPosition } {
    const at = { line: this.current.line, column: this.current.column };
    if (this.current.kind === 'identifier') return { name: this.tokens.next().text, at };
    if (this.isSymbol('[')) {
      // An extension or an Any's type URL: [pkg.Type] or [type.googleapis.com/pkg.Type].
      this.tokens.next();
      let name = '';
      while (!this.isSymbol(']')) {
        const t = this.current;
        if (t.kind === 'identifier' || (t.kind === 'symbol' && (t.text === '.' || t.text === '/'))) name += this.tokens.next().text;
        else throw new TextFormatError(t, `Expected a type name or "]", found ${describe(t)}.`);
      }
      this.tokens.next();
      return { name: `[${name}]`, at };
    }
    throw new TextFormatError(this.current, `Expected a field name, found ${describe(this.current)}.`);
  }

  private parseField(into: TextField[]): void {
    const { name, at } = this.parseFieldName();
    const colon = this.isSymbol(':');
    if (colon) this.tokens.next();
    if (this.isSymbol('[')) {
      this.parseList(name, at, colon, into);
      return;
    }
    if (this.isSymbol('{') || this.isSymbol('<')) {
      into.push({ name, ...at, value: this.parseMessage() });
      return;
    }
    if (!colon) throw new TextFormatError(this.current, `Expected ":" or "{" after field "${name}", found ${describe(this.current)}.`);
    into.push({ name, ...at, value: this.parseScalar() });
  }

  /** `name: [a, b]` or `name [{…}, {…}]`: each element is the field given once more. */
  private parseList(name: string, at: TextPosition, colon: boolean, into: TextField[]): void {
    this.tokens.next();
    if (this.isSymbol(']')) {
      this.tokens.next();
      return;
    }
    let first = true;
    for (;;) {
      const elementAt = { line: this.current.line, column: this.current.column };
      const isMessage = this.isSymbol('{') || this.isSymbol('<');
      if (!isMessage && !colon) throw new TextFormatError(this.current, `Expected "{" in the list of field "${name}" (a list of scalars needs "${name}: ["), found ${describe(this.current)}.`);
      // The first element answers for the field's name (an unknown field is
      // reported there); the others for themselves.
      into.push({ name, ...(first ? at : elementAt), value: isMessage ? this.parseMessage() : this.parseScalar() });
      first = false;
      if (this.isSymbol(']')) {
        this.tokens.next();
        return;
      }
      this.expectSymbol(',');
    }
  }

  private parseMessage(): TextValue {
    const open = this.tokens.next();
    const fields = this.parseFields(CLOSERS[open.text]);
    return { kind: 'message', line: open.line, column: open.column, fields };
  }

  private parseScalar(): TextValue {
    const first = this.current;
    const at = { line: first.line, column: first.column };
    if (first.kind === 'string') {
      // Adjacent literals are one string: 'ab' "cd" is "abcd".
      const bytes: number[] = [];
      while (this.current.kind === 'string') bytes.push(...(this.tokens.next().bytes ?? []));
      return { kind: 'string', ...at, ...decodeUtf8(Uint8Array.from(bytes)) };
    }
    let negative = false;
    if (this.isSymbol('-')) {
      negative = true;
      this.tokens.next();
    }
    const t = this.tokens.next();
    if (t.kind === 'integer') {
      const digits = /^0[0-7]+$/.test(t.text) ? `0o${t.text.slice(1)}` : t.text;
      const magnitude = BigInt(digits);
      return { kind: 'integer', ...at, value: negative ? -magnitude : magnitude };
    }
    if (t.kind === 'float') {
      const magnitude = Number(t.text.replace(/[fF]$/, ''));
      return { kind: 'float', ...at, value: negative ? -magnitude : magnitude };
    }
    if (t.kind === 'identifier') return { kind: 'identifier', ...at, name: t.text, negative };
    throw new TextFormatError(t, `Expected a value (string, number or identifier), found ${describe(t)}.`);
  }
}

function decodeUtf8(bytes: Uint8Array): { value: string; validUtf8: boolean } {
  try {
    return { value: new TextDecoder('utf-8', { fatal: true }).decode(bytes), validUtf8: true };
  } catch {
    return { value: new TextDecoder('utf-8').decode(bytes), validUtf8: false };
  }
}

/** The fields of a text-format message; throws TextFormatError at the first syntax error. */
export function parseTextProto(text: string): TextMessage {
  return new Parser(text).parseTop();
}
