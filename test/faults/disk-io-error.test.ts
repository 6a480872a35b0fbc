// The detection log's disk failing with I/O errors: ext4 turning itself
// read-only (disk-io-transient.test.ts has a disk that fails for a while and
// comes back; disk-full.test.ts the disk that fills up). The suite runs as
// root, as CI does; the failure is the kernel's own, never a mocked fs or
// SQLite.
//
// `mount -o remount,ro` cannot do that to a file system with files open for
// writing (the kernel answers EBUSY, and SQLite always holds its database
// open), so the test mounts a real ext4 (errors=remount-ro, an image on a
// loop device, the image on a tmpfs) and makes ext4 take its own error path
// (sysfs trigger_fs_error): "Aborting journal … Remounting filesystem
// read-only", EROFS from then on. ext4 keeps that until it is unmounted, so
// recovery is the operator's: stop lookout, fsck, mount, start it again.
// (This kernel has no device-mapper, so no dm-error/dm-flakey.)
//
// Through it, video keeps streaming, the store says it is failing and why,
// nothing crashes, and the database stays whole. What this test shares with
// the transient one is in test/helpers/disk-io.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import {
  checkDatabase, committedRows, expectServingWhileFailing, failed, recordingLogger, run, start, tmpfs, unmount,
} from '../helpers/disk-io.js';
import { requireOrSkip } from '../helpers/skip.js';
import { until } from '../helpers/wait.js';

/** A fresh ext4 (errors=remount-ro) on a loop device over an image in a tmpfs; returns its mount point and device. */
function ext4(): { dir: string; device: string } {
  const base = tmpfs('lookout-ext4img-', '80m');
  const image = path.join(base, 'disk.img');
  execFileSync('truncate', ['-s', '64M', image]);
  execFileSync('mkfs.ext4', ['-q', '-F', image]);
  const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
  // After the unmount below (LIFO): a device still in use detaches once freed.
  onCleanup(() => { spawnSync('losetup', ['-d', device]); });
  const dir = tempDir('lookout-ext4-');
  execFileSync('mount', ['-o', 'errors=remount-ro', device, dir]);
  onCleanup(() => unmount(dir));
  return { dir, device };
}

/** Why the ext4 test cannot run here, if it cannot. */
function ext4SkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting needs root';
  const base = tempDir('lookout-ext4-probe-');
  let device = '';
  try {
    let r = run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', base]);
    if (r.status !== 0) return `cannot mount a tmpfs: ${failed(r)}`;
    const image = path.join(base, 'disk.img');
    const mnt = path.join(base, 'mnt');
    r = run('truncate', ['-s', '8M', image]);
    if (r.status === 0) r = run('mkfs.ext4', ['-q', '-F', image]);
    if (r.status !== 0) return `cannot make an ext4 image: ${failed(r)}`;
    r = run('losetup', ['-f', '--show', image]);
    if (r.status !== 0) return `no loop device: ${failed(r)}`;
    device = r.stdout.trim();
    mkdirSync(mnt);
    r = run('mount', ['-o', 'errors=remount-ro', device, mnt]);
    if (r.status !== 0) return `cannot mount ext4 on ${device}: ${failed(r)}`;
    const trigger = `/sys/fs/ext4/${path.basename(device)}/trigger_fs_error`;
    const has = existsSync(trigger);
    spawnSync('umount', [mnt]);
    return has ? undefined : `this kernel has no ${trigger}`;
  } finally {
    if (device) spawnSync('losetup', ['-d', device]);
    unmount(base);
  }
}

const ext4Skip = requireOrSkip('the ext4 read-only test', ext4SkipReason());

describe.skipIf(ext4Skip)('ext4 turning itself read-only under the detection log (errors=remount-ro)', () => {
  it('keeps streaming, reports the store failing, closes cleanly, and the database comes back whole', async () => {
    const { dir, device } = ext4();
    const dbFile = path.join(dir, 'lookout.db');
    const log = recordingLogger();
    const first = await start(dbFile, log);
    await until(async () => (await first.store()).writer.written > 100, 30_000);

    // Every commit is fsynced (synchronous=FULL), so every row committed
    // before the fault must survive ext4's abort. No manual sync: with
    // NORMAL, commits the kernel had not yet written back (up to 30 s) died
    // with ext4's journal, as in a power cut, and a young database lost even
    // its tables; this test failed that way.
    const durable = committedRows(dbFile);
    // The fault comes right after a commit, well inside ext4's 5 s journal
    // commit interval, so only an fsync can have made that commit durable.
    const w0 = (await first.store()).writer.written;
    await until(async () => (await first.store()).writer.written > w0, 10_000, 5);
    const writtenBeforeFault = (await first.store()).writer.written;

    writeFileSync(`/sys/fs/ext4/${path.basename(device)}/trigger_fs_error`, '1');
    await until(async () => (await first.store()).writer.failing, 30_000);
    expect(log.warnings.join('\n')).toMatch(/store: cannot write/);
    await expectServingWhileFailing(first.base, first.frames, first.store);
    expect((await first.store()).writer.lastError).not.toMatch(/writer thread/);
    // The recordings on the same disk pause, saying why, while video goes on.
    const recording = async () => ((await (await fetch(`${first.base}/api/cameras/a`)).json()) as { recording: { state: string; reason: string | null } }).recording;
    await until(async () => (await recording()).state === 'paused', 15_000);
    expect((await recording()).reason).toMatch(/read-only|EROFS/);

    // ext4 stays read-only until it is unmounted: the operator stops lookout,
    // which must not hang on the dead disk and must let go of every file.
    const pending = (await first.store()).writer.pending;
    const t0 = Date.now();
    await first.lookout.close();
    const closeMs = Date.now() - t0;
    expect(closeMs).toBeLessThan(20_000);
    const after = first.lookout.store!.stats().writer;
    // What it held and could not write is counted, and said.
    expect(after.pending).toBe(0);
    expect(after.dropped + after.droppedEvents).toBeGreaterThanOrEqual(pending);
    expect(log.warnings.join('\n')).toMatch(/closed with \d+ detections/);
    const umount = run('umount', [dir]);
    expect(umount.status, `lookout left files open on the failed disk: ${umount.stderr}`).toBe(0);

    const fsck = run('e2fsck', ['-f', '-y', device]);
    expect(fsck.status, fsck.stdout).toBeLessThanOrEqual(1);
    execFileSync('mount', [device, dir]);
    const rows = checkDatabase(dbFile, durable);
    // And everything the writer had reported written when the fault came.
    expect(rows.n).toBeGreaterThanOrEqual(writtenBeforeFault);

    // Started again on the repaired disk, lookout writes on.
    const second = await start(dbFile, log);
    await until(async () => (await second.store()).writer.written > 50, 30_000);
    const s = await second.store();
    expect(s.writer.failing).toBe(false);
    expect(s.writer.dropped).toBe(0);
    await second.lookout.close();
    expect(checkDatabase(dbFile, durable).n).toBeGreaterThan(rows.n);
    console.log(`ext4 read-only: close took ${closeMs} ms; ${after.dropped} detections held at close were counted lost; ` +
      `${durable.count} rows committed before the fault kept; ${writtenBeforeFault} reported written just before the fault, ${rows.n} survived ext4's abort`);
  }, 150_000);
});
