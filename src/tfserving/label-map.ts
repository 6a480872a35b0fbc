// Label maps in the TF Object Detection API's text format:
//   item { id: 1 name: "/m/01g317" display_name: "person" }
// Detection models answer with label-map ids; this turns them into names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LookoutError } from '../util/errors.js';
import { assetsDir } from '../util/paths.js';

export class LabelMapError extends LookoutError {
  readonly code = 'LABEL_MAP_INVALID';
  constructor(message: string, readonly source: string) {
    super(`${source}: ${message}`);
  }
}

export class LabelMap {
  constructor(private readonly names: ReadonlyMap<number, string>) {}

  label(id: number): string {
    return this.names.get(id) ?? `class ${id}`;
  }

  has(id: number): boolean {
    return this.names.has(id);
  }

  /** Ids in ascending order. */
  ids(): number[] {
    return [...this.names.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.names.size;
  }
}

type Token = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') { line++; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === ';') { i++; continue; }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '{' || c === '}' || c === ':') { tokens.push({ kind: 'punct', text: c, line }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) { value += text[j + 1]; j += 2; continue; }
        if (text[j] === '\n') throw new LabelMapError(`unterminated string on line ${line}`, source);
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new LabelMapError(`unterminated string on line ${line}`, source);
      tokens.push({ kind: 'string', text: value, line });
      i = j + 1;
      continue;
    }
    const match = /^[A-Za-z0-9_.+-]+/.exec(text.slice(i, i + 256));
    if (!match) throw new LabelMapError(`unexpected character ${JSON.stringify(c)} on line ${line}`, source);
    tokens.push({ kind: 'word', text: match[0], line });
    i += match[0].length;
  }
  return tokens;
}

/** Parses label-map text; `source` names the file in errors. */
export function parseLabelMap(text: string, source = 'label map'): LabelMap {
  const tokens = tokenize(text, source);
  const names = new Map<number, string>();
  let pos = 0;
  const next = (): Token => {
    const token = tokens[pos++];
    if (!token) throw new LabelMapError('unexpected end of file', source);
    return token;
  };
  while (pos < tokens.length) {
    const head = next();
    if (head.kind !== 'word' || head.text !== 'item') {
      throw new LabelMapError(`expected "item" on line ${head.line}, found ${JSON.stringify(head.text)}`, source);
    }
    let open = next();
    if (open.text === ':') open = next();
    if (open.text !== '{') throw new LabelMapError(`expected "{" after item on line ${open.line}`, source);
    let id: number | undefined;
    let name: string | undefined;
    let displayName: string | undefined;
    for (;;) {
      const key = next();
      if (key.kind === 'punct' && key.text === '}') break;
      if (key.kind !== 'word') throw new LabelMapError(`expected a field name on line ${key.line}`, source);
      let value = next();
      if (value.text === ':') value = next();
      if (value.kind === 'punct' && value.text === '{') {
        // A nested message (keypoints, frequency info...): skip it whole.
        let depth = 1;
        while (depth > 0) {
          const t = next();
          if (t.text === '{') depth++;
          else if (t.text === '}') depth--;
        }
        continue;
      }
      if (key.text === 'id') {
        const n = Number(value.text);
        if (value.kind !== 'word' || !Number.isInteger(n) || n < 0) {
          throw new LabelMapError(`id on line ${value.line} must be a non-negative integer, got ${JSON.stringify(value.text)}`, source);
        }
        id = n;
      } else if (key.text === 'name') {
        name = value.text;
      } else if (key.text === 'display_name') {
        displayName = value.text;
      }
    }
    if (id === undefined) throw new LabelMapError(`an item ending on line ${tokens[pos - 1]?.line} has no id`, source);
    if (names.has(id)) throw new LabelMapError(`id ${id} appears twice`, source);
    names.set(id, displayName ?? name ?? `class ${id}`);
  }
  if (names.size === 0) throw new LabelMapError('no items', source);
  return new LabelMap(names);
}

export function loadLabelMap(file: string): LabelMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabelMapError(`cannot read: ${(err as Error).message}`, file);
  }
  return parseLabelMap(text, file);
}

export const cocoLabelMapPath = path.join(assetsDir, 'coco_label_map.pbtxt');

let coco: LabelMap | undefined;
/** The COCO label map lookout ships (ids 1–90 with gaps). */
export function cocoLabelMap(): LabelMap {
  coco ??= loadLabelMap(cocoLabelMapPath);
  return coco;
}
