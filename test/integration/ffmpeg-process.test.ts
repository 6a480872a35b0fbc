// FfmpegProcess's own lifecycle, against the real ffmpeg.
import { describe, expect, it } from 'vitest';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { FfmpegProcess } from '../../src/ingest/ffmpeg-process.js';
import { classifySource } from '../../src/ingest/source-url.js';
import { BOTTLE_CLIP } from '../helpers/media.js';
import { allProcs } from '../helpers/procfs.js';
import { until } from '../helpers/wait.js';

describe('FfmpegProcess', () => {
  it('kills an ffmpeg that spawns only after stop() gave up waiting for it', async () => {
    // stop(0) gives up at once, before fluent-ffmpeg's capability probes have
    // spawned ffmpeg (as a loaded machine makes them slow). The spawn must
    // then kill its own child: before, this ffmpeg looped for ever, owned by no one.
    const proc = new FfmpegProcess(resolveFfmpeg(), {
      ...classifySource(BOTTLE_CLIP, []),
      rtspTransport: 'tcp',
      timeoutMs: 10_000,
      realtime: true,
      loop: true,
      detect: { fps: 5, maxWidth: 320, maxHeight: 320 },
    });
    await proc.stop(0);
    const exit = await proc.exited;
    expect(exit.signal === 'SIGKILL' || exit.code !== 0).toBe(true);
    const pid = proc.processId;
    expect(pid).toBeDefined();
    await until(() => !allProcs().some((p) => p.pid === pid), 5_000);
  });
});
