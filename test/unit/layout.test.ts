// The shape of the code, held to what the folder READMEs say: each src/
// folder imports only what its README's "May import" line names (types only
// where it says so), and no hand-written source, benchmark or test file grows
// past 350 lines.
// A newcomer reads the READMEs; this keeps them true.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/paths.js';

const SRC = path.join(packageRoot, 'src');
const TEST = path.join(packageRoot, 'test');
const MAX_LINES = 350;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'generated' ? [] : files(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

interface Rules {
  /** Paths under src/ (a folder ends in /) this folder may import values from. */
  values: string[];
  /** Paths it may import types from (and nothing else). */
  types: string[];
  /** "any part of lookout but …": everything outside `values` is allowed but these. */
  allBut: string[] | undefined;
}

/** The "**May import:**" paragraph of a folder's README. */
export function rulesOf(readme: string): Rules | undefined {
  const at = readme.indexOf('**May import:**');
  if (at === -1) return undefined;
  const paragraph = readme.slice(at).split(/\n\s*\n/)[0].replace(/\s+/g, ' ');
  const paths = (text: string) => [...text.matchAll(/`(src\/[^`]+)`/g)].map((m) => m[1]);
  if (/any part of lookout but/.test(paragraph)) return { values: [], types: [], allBut: paths(paragraph) };
  const [values, types = ''] = paragraph.split(/types only from/);
  return { values: paths(values), types: paths(types), allBut: undefined };
}

const covers = (rule: string, target: string) => (rule.endsWith('/') ? target.startsWith(rule) : target === rule);

interface Import { target: string; typeOnly: boolean; line: number }

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^(import|export)\s+(type\s+)?([^'"]*?)\s*from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[4] ?? m[5];
    const names = m[3] ?? '';
    // `import { type A, type B }` is as type-only as `import type { A, B }`.
    const allTypes = /^\{[^}]*\}$/.test(names.trim()) && names.replace(/[{}\s]/g, '').split(',').filter(Boolean).every((n) => n.startsWith('type'));
    const resolved = path.relative(packageRoot, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts');
    out.push({ target: resolved, typeOnly: m[2] !== undefined || allTypes, line: text.slice(0, m.index).split('\n').length });
  }
  return out;
}

const folders = readdirSync(SRC).filter((d) => statSync(path.join(SRC, d)).isDirectory());

describe('the layout', () => {
  it('has a README per src/ folder saying what it may import', () => {
    const missing = folders.filter((d) => {
      try {
        return rulesOf(readFileSync(path.join(SRC, d, 'README.md'), 'utf8')) === undefined;
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });

  it('keeps every folder to the imports its README allows', () => {
    const broken: string[] = [];
    for (const d of folders) {
      const rules = rulesOf(readFileSync(path.join(SRC, d, 'README.md'), 'utf8'));
      if (!rules) continue;
      const own = `src/${d}/`;
      for (const file of files(path.join(SRC, d))) {
        for (const imp of importsOf(file)) {
          if (!imp.target.startsWith('src/') || imp.target.startsWith(own)) continue;
          const allowed = rules.allBut
            ? !rules.allBut.some((r) => covers(r, imp.target))
            : rules.values.some((r) => covers(r, imp.target)) || (imp.typeOnly && rules.types.some((r) => covers(r, imp.target)));
          if (!allowed) broken.push(`${path.relative(packageRoot, file)}:${imp.line} imports ${imp.typeOnly ? 'types from ' : ''}${imp.target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it(`has no hand-written source, benchmark or test file over ${MAX_LINES} lines`, () => {
    // Every .ts under test/ (tests, helpers, types) but test/fixtures/, which holds what the tests run against.
    const tests = files(TEST).filter((f) => !f.startsWith(`${path.join(TEST, 'fixtures')}${path.sep}`));
    const long = [...files(SRC), ...files(path.join(packageRoot, 'bench')), ...tests]
      .map((f) => ({ f: path.relative(packageRoot, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('reads the rules as the READMEs mean them', () => {
    const r = rulesOf('x\n\n**May import:** `src/util/`, `src/types.ts`; types only from\n`src/model/` (the client).\n\n**Must never import:** `src/http/`.');
    expect(r).toEqual({ values: ['src/util/', 'src/types.ts'], types: ['src/model/'], allBut: undefined });
    expect(rulesOf('**May import:** any part of lookout but `src/modelserver/`.')?.allBut).toEqual(['src/modelserver/']);
  });
});
