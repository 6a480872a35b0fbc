// Undoing what a test made: one list per test file, run in reverse order of
// registration, so what was made last (a lookout writing into a folder) is
// undone before what it depends on (the folder).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

// Each test file runs in a fresh module graph (pool forks, isolated), so this
// hook is registered once per file that imports this module, at collection,
// before the file's own hooks: it runs after them (after-hooks run in reverse).
const afterFile: (() => unknown)[] = [];
afterAll(async () => {
  for (const undo of afterFile.splice(0).reverse()) await undo();
});

/**
 * Runs `undo` when the current test finishes, pass or fail; called outside a
 * test (in beforeAll, or at a file's top level), when the file has run.
 */
export function onCleanup(undo: () => unknown): void {
  try {
    onTestFinished(async () => { await undo(); });
  } catch {
    // vitest refuses onTestFinished outside a running test: this is file set-up.
    afterFile.push(undo);
  }
}

/** A fresh folder in the system's temporary folder, removed with everything in it by onCleanup. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
