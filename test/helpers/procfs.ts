// What a running process holds, read from Linux's /proc: its descriptors
// (each named by what it points at, so a leak says what leaked), threads,
// resident memory and child processes. Every read tolerates the process or
// descriptor vanishing between listing and reading it: they are live.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** The kernel's name for it (/proc/PID/status Name:, the executable's first 15 characters). */
  name: string;
  cmdline: string[];
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statusField(status: string, field: string): string | undefined {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
}

export function procInfo(pid: number): ProcInfo | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const cmdline = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((s) => s.length > 0);
  return { pid, ppid: Number(statusField(status, 'PPid') ?? -1), name: statusField(status, 'Name') ?? '', cmdline };
}

/** A process's environment as NAME=value strings; empty once it is gone (or not ours to read). */
export function environOf(pid: number): string[] {
  return (readText(`/proc/${pid}/environ`) ?? '').split('\0').filter((s) => s.length > 0);
}

/** Every process this namespace can see. */
export function allProcs(): ProcInfo[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => procInfo(Number(d)))
    .filter((p): p is ProcInfo => p !== undefined);
}

export function childrenOf(pid: number): ProcInfo[] {
  return allProcs().filter((p) => p.ppid === pid);
}

/** ffmpeg by its kernel name or its argv[0]: the system's and the npm package's binaries are both called ffmpeg. */
export function isFfmpeg(p: ProcInfo): boolean {
  return p.name === 'ffmpeg' || path.basename(p.cmdline[0] ?? '') === 'ffmpeg';
}

/** Socket inode → a readable name: TCP by named ports and state, unix by path. */
function socketNames(ports: Record<string, number>): Map<string, string> {
  const nameOf = (port: number): string | undefined => Object.entries(ports).find(([, p]) => p === port)?.[0];
  const names = new Map<string, string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readText(file) ?? '').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const local = nameOf(parseInt(cols[1].split(':')[1], 16));
      const remote = nameOf(parseInt(cols[2].split(':')[1], 16));
      // 0A is LISTEN. Ports not named keep no number: it would change with every connection.
      let name: string;
      if (cols[3] === '0A') name = `tcp listen ${local ?? '(other port)'}`;
      else if (local) name = `tcp accepted on ${local}`;
      else if (remote) name = `tcp to ${remote}`;
      else name = 'tcp (other)';
      names.set(cols[9], name);
    }
  }
  for (const line of (readText('/proc/net/unix') ?? '').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 7) continue;
    // Numbered paths (ffmpeg's live-7.sock) are lumped by kind: each run gets a new number.
    names.set(cols[6], cols[7] ? `unix ${path.basename(cols[7]).replace(/\d+/g, 'N')}` : 'unix (unnamed)');
  }
  return names;
}

export interface ProcessFigures {
  fds: number;
  /** Descriptors by what they point at ("pipe", "tcp accepted on http", "file /…/lookout.db-wal", …). */
  fdKinds: Record<string, number>;
  threads: number;
  /** Threads by name (each task's comm, at most 15 characters, digits folded): "node", "libvips worker", "[pango] fontcon"…. */
  threadKinds: Record<string, number>;
  rssKb: number;
  children: ProcInfo[];
}

/**
 * One reading of `pid`. `ports` names the ports that matter (e.g. { http: 8080 })
 * so sockets read "tcp accepted on http" or "tcp to model".
 */
export function processFigures(pid: number, ports: Record<string, number> = {}): ProcessFigures {
  const sockets = socketNames(ports);
  const fdKinds: Record<string, number> = {};
  let fds = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(`/proc/${pid}/fd`);
  } catch {
    entries = [];
  }
  for (const fd of entries) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between the listing and the read
    }
    fds++;
    let kind: string;
    const socket = /^socket:\[(\d+)\]$/.exec(target);
    if (socket) {
      kind = sockets.get(socket[1]) ?? 'socket (other)';
    } else if (target.startsWith('pipe:')) kind = 'pipe';
    else if (target.startsWith('anon_inode:')) kind = target;
    else kind = `file ${target}`;
    fdKinds[kind] = (fdKinds[kind] ?? 0) + 1;
  }
  const threadKinds: Record<string, number> = {};
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    tasks = [];
  }
  for (const task of tasks) {
    const comm = readText(`/proc/${pid}/task/${task}/comm`)?.trim();
    if (comm === undefined) continue; // ended between the listing and the read
    const kind = comm.replace(/\d+/g, 'N');
    threadKinds[kind] = (threadKinds[kind] ?? 0) + 1;
  }
  const status = readText(`/proc/${pid}/status`) ?? '';
  return {
    fds,
    fdKinds,
    threads: Number(statusField(status, 'Threads') ?? 0),
    threadKinds,
    rssKb: Number((statusField(status, 'VmRSS') ?? '0').replace(/\s*kB$/, '')),
    children: childrenOf(pid),
  };
}

/** The kinds whose counts differ between two readings (of fdKinds or threadKinds), as "kind: a → b". */
export function kindDiff(before: Record<string, number>, after: Record<string, number>): string[] {
  const kinds = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...kinds].filter((k) => (before[k] ?? 0) !== (after[k] ?? 0)).sort().map((k) => `${k}: ${before[k] ?? 0} → ${after[k] ?? 0}`);
}
