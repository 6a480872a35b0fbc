// Cameras against a real RTSP server we did not write (GStreamer's): the plug
// is pulled and put back, and the camera recovers by itself.
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Camera } from '../../src/ingest/camera.js';
import { resolveFfmpeg } from '../../src/ingest/ffmpeg-binary.js';
import { classifySource } from '../../src/ingest/source-url.js';
import { BOTTLE_CLIP, PERSON_CLIP } from '../helpers/media.js';
import { prepareClip, skipRtsp, startRtspServer, type RtspServer } from '../helpers/rtsp-server.js';
import { startCli, type RunningChild } from '../helpers/child.js';
import { sleep, until, alive } from '../helpers/wait.js';
import { tempDir } from '../helpers/cleanup.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function rtspCamera(id: string, url: string) {
  let frames = 0;
  const cam = new Camera({
    id, displayUrl: url, binary: resolveFfmpeg(),
    spec: { ...classifySource(url), rtspTransport: 'tcp', timeoutMs: 3_000, realtime: true, loop: false, detect: { fps: 5, maxWidth: 640, maxHeight: 640 } },
    onDetectFrame: () => { frames++; },
    backoff: { initialMs: 300, maxMs: 2_000, factor: 2, jitter: 0.2 },
  });
  cam.start();
  cleanup.push(() => cam.stop());
  return { cam, frames: () => frames };
}

const skip = skipRtsp();

describe.skipIf(skip)('RTSP cameras', () => {
  let server: RtspServer;

  it('recover by themselves when the RTSP server is killed mid-stream and comes back', async () => {
    server = await startRtspServer({ '/cam': prepareClip(BOTTLE_CLIP, 4), '/hall': prepareClip(PERSON_CLIP, 2) });
    cleanup.push(() => server.stop());
    const a = rtspCamera('a', server.url('/cam'));
    const b = rtspCamera('b', server.url('/hall'));
    await until(() => a.frames() >= 5 && b.frames() >= 5);
    expect(a.cam.status().state).toBe('streaming');
    expect(a.cam.status().input).toMatchObject({ width: 640, height: 360 });
    const firstPid = a.cam.status().pid;

    await server.kill();
    await until(() => a.cam.status().state !== 'streaming' && b.cam.status().state !== 'streaming');
    expect(['reconnecting', 'starting']).toContain(a.cam.status().state);
    expect(alive(firstPid)).toBe(false);
    await sleep(1_500);

    await server.restart();
    const before = a.frames();
    await until(() => a.cam.status().state === 'streaming' && a.frames() > before + 5 && b.cam.status().state === 'streaming');
    expect(a.cam.status().restarts).toBeGreaterThanOrEqual(1);

    const pids = [a.cam.status().pid, b.cam.status().pid];
    await a.cam.stop();
    await b.cam.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('fails a camera on a wrong path with the server\'s reason, while the others keep streaming', async () => {
    server = await startRtspServer({ '/cam': prepareClip(BOTTLE_CLIP, 4) });
    cleanup.push(() => server.stop());
    const good = rtspCamera('good', server.url('/cam'));
    const wrong = rtspCamera('wrong', server.url('/nope'));
    await until(() => wrong.cam.status().state === 'failed' && good.frames() >= 5);
    const status = wrong.cam.status();
    expect(status.lastError).toMatch(/404 Not Found/);
    expect(status.stderrTail.join('\n')).toMatch(/DESCRIBE|404/);
    const n = good.frames();
    await sleep(1_000);
    expect(good.frames()).toBeGreaterThan(n + 2);
  });

  it('as a new user: a config with an RTSP camera and a file camera streams both', async () => {
    server = await startRtspServer({ '/cam': prepareClip(BOTTLE_CLIP, 4) });
    cleanup.push(() => server.stop());
    const dir = tempDir('lookout-rtsp-');
    const config = path.join(dir, 'lookout.yaml');
    writeFileSync(config, [
      'modelServer:',
      '  embedded: { model: synthetic, latencyMs: 20, capacity: 2 }',
      'cameras:',
      `  - id: porch`,
      `    url: ${server.url('/cam')}`,
      `  - id: hall`,
      `    url: ${PERSON_CLIP}`,
      '    loop: true',
      '',
    ].join('\n'));
    const cli: RunningChild = startCli(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1']);
    cleanup.push(() => cli.stop('SIGTERM'));
    const [, url] = await cli.waitFor(/lookout listening on (http:\/\/\S+)/);
    interface Cams { cameras: { id: string; state: string; schedule?: { detected: number }; latest?: { detections: { label: string }[] } }[] }
    await until(async () => {
      const body = (await (await fetch(`${url}/api/cameras`)).json()) as Cams;
      return body.cameras.every((c) => c.state === 'streaming' && (c.schedule?.detected ?? 0) >= 3);
    });
    const body = (await (await fetch(`${url}/api/cameras`)).json()) as Cams;
    expect(body.cameras.map((c) => c.id)).toEqual(['porch', 'hall']);
    expect(body.cameras[0].latest?.detections.map((d) => d.label)).toContain('person');
    expect(await cli.stop('SIGTERM')).toBe(0);
  });
});
