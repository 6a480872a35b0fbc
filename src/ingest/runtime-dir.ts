// A private folder for this lookout process (mode 0700, created on first
// use): the ffmpeg wrapper script lives there, out
// of other users' reach in the shared temp folder. It is removed at exit,
// and every ffmpeg still running then is killed with its process group.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let dir: string | undefined;
const groups = new Set<number>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // 'exit' runs on a normal end and after an uncaught exception; only synchronous work is possible here.
  process.on('exit', () => {
    for (const pgid of groups) signalGroup(pgid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

/** The folder, created with mode 0700 on first call. Throws if the temp folder is not writable. */
export function runtimeDir(): string {
  if (!dir) {
    dir = mkdtempSync(path.join(os.tmpdir(), `lookout-${process.pid}-`));
    hookExit();
  }
  return dir;
}

/** Remembers a running ffmpeg's process group, so it is killed if lookout exits without stopping it. */
export function trackGroup(pgid: number): () => void {
  hookExit();
  groups.add(pgid);
  return () => groups.delete(pgid);
}

/**
 * Signals a child's whole process group (the negative pid names it), or the
 * child alone when it leads none (no setsid here); nothing if it is gone.
 */
export function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  }
}
