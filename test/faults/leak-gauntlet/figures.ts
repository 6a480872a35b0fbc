// What the leak gauntlet (leak-gauntlet.test.ts) measures and how it judges
// it: the slack its descriptors get, the rules its threads are held to, and
// the readings it takes from /proc and /metrics.
import { isFfmpeg, type ProcessFigures, type ProcInfo } from '../../helpers/procfs.js';

/**
 * Descriptors the end may hold beyond the baseline without it being a leak:
 * one or two short-lived ones that come and go with normal work at any
 * instant (the retention check's or a snapshot write's file, an HTTP
 * connection the test's own poll just opened, grpc-js's reconnect socket
 * while it swaps channels). A real leak from these faults is one per round
 * of a fault at least, so tens.
 */
export const FD_SLACK = 3;
/**
 * Threads come in two sorts. lookout's own (all named "node" here: the main
 * thread, V8's platform threads, libuv's pool, the store's writer thread, any
 * worker thread) are fixed once warmed up: not one may be added. libvips
 * (sharp, which draws and encodes the live frames) keeps a shared pool of
 * "libvips worker" threads that, by design, grows with how many images are
 * being made at once and shrinks when idle (sharp's docs), each with pango's
 * "[pango] fontconfig" thread beside it (a font map per thread, for the
 * labels). That pool is not lookout's to close, and its size at any instant
 * follows the load just before: seen here from 4 to 11 at the same point of
 * the run. So it is held to its bound, not to the baseline: sharp runs its
 * work in libuv's pool (4 at once), and each image takes at most a few
 * libvips threads (its workers at sharp's concurrency, 1 here, a write-behind
 * thread, the overlay's own render), so 4 per libuv thread. A leak would be
 * one per client, request or round: hundreds, far past it.
 */
const IMAGE_POOL_THREADS = new Set(['libvips worker', '[pango] fontcon']);
const IMAGE_POOL_CAP = 4 * Number(process.env.UV_THREADPOOL_SIZE ?? 4);

/** Threads past what the rules above allow, as "kind: a → b". */
export function threadGrowth(before: Record<string, number>, after: Record<string, number>): string[] {
  return Object.entries(after)
    .filter(([kind, n]) => n > (IMAGE_POOL_THREADS.has(kind) ? Math.max(before[kind] ?? 0, IMAGE_POOL_CAP) : before[kind] ?? 0))
    .map(([kind, n]) => `${kind}: ${before[kind] ?? 0} → ${n}`);
}

/** lookout's ffmpeg children among its figures' children. */
export const ffmpegChildren = (f: ProcessFigures): ProcInfo[] => f.children.filter(isFfmpeg);

/** A gauge from a /metrics text, for the summary (V8's heap: RSS alone cannot tell a JS leak from the allocator's habits). */
export const gauge = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
