// An RTSP camera's own video (GStreamer's RTSP server, which we did not
// write) to native viewers, across a camera crash: the WebSocket viewer stays
// connected and is handed the new run's init segment and keyframes, while a
// stream.mp4 response ends at the restart (a player cannot switch timelines
// mid-file). No ffmpeg is left after lookout closes.
import { describe, expect, it } from 'vitest';
import { onCleanup, tempDir } from '../helpers/cleanup.js';
import { PERSON_CLIP } from '../helpers/media.js';
import {
  captureHttp, lookoutWithoutLeftovers, micros, NativeClient, probeFrames, probeStream, saveCapture, skipWithoutFfprobe,
} from '../helpers/native-stream.js';
import { prepareClip, skipRtsp, startRtspServer } from '../helpers/rtsp-server.js';
import { sleep, until } from '../helpers/wait.js';

const skip = skipWithoutFfprobe('the native RTSP tests') || skipRtsp();
const start = lookoutWithoutLeftovers();

describe.skipIf(skip)('native video from an RTSP camera', () => {
  it('plays over WebSocket and stream.mp4; after the camera restarts the viewer gets run 2 without reconnecting, and stream.mp4 ends', async () => {
    const dir = tempDir('lookout-native-rtsp-');
    const server = await startRtspServer({ '/hall': prepareClip(PERSON_CLIP) });
    onCleanup(() => server.stop());
    const lookout = await start({ cameras: [{ id: 'hall', url: server.url('/hall'), rtspTransport: 'tcp', timeoutMs: 3_000 }] });
    const viewer = await NativeClient.connect(lookout.url, '?camera=hall&video=native');
    let restarted!: () => void;
    const restartedAt = new Promise<void>((resolve) => { restarted = resolve; });
    // A player on stream.mp4 across the crash: it keeps the response open until lookout ends it.
    const capturing = captureHttp(`${lookout.url}/api/cameras/hall/stream.mp4`, 90_000, restartedAt.then(() => sleep(15_000)));
    await until(() => viewer.media.length >= 30);
    expect(viewer.binary[0]).toMatchObject({ kind: 'init', camera: 'hall', run: 1, width: 768, height: 432, transcoded: false });
    expect(viewer.binary[1]).toMatchObject({ kind: 'media', run: 1, keyframe: true });
    const firstPid = lookout.registry.view('hall')?.status.pid;

    await server.kill();
    const killedAt = Date.now();
    // Down for a while, as a camera rebooting is: lookout tries again at least once, and finds nobody there.
    await until(() => {
      const status = lookout.registry.view('hall')?.status;
      return status !== undefined && status.restarts >= 2 && /Connection refused/.test(status.lastError ?? '');
    }, 30_000, 50);
    const run1 = viewer.media.filter((m) => m.run === 1);
    await server.restart();
    restarted();
    await until(() => viewer.inits.length >= 2, 45_000);
    const [first, next] = viewer.inits;
    const newRun = (m: { run: number }): boolean => m.run === next.run;
    await until(() => viewer.media.filter(newRun).length >= 20, 20_000);

    // The same connection, never closed or subscribed again: a new init with a new run, then keyframe-first fragments.
    expect(viewer.closedWith).toBeUndefined();
    expect(viewer.texts('subscribed')).toHaveLength(1);
    expect(first.run).toBe(1);
    // Runs number timelines, not attempts: the retries while the server was down made none.
    expect(next.run).toBe(2);
    expect(next).toMatchObject({ kind: 'init', camera: 'hall', width: 768, height: 432, codec: first.codec });
    const binary = viewer.binary;
    const second = binary.indexOf(next);
    expect(binary.slice(0, second).every((h) => h.run === 1)).toBe(true);
    expect(binary[second + 1]).toMatchObject({ kind: 'media', run: next.run, keyframe: true });
    const after = viewer.media.filter(newRun);
    expect(after.every((m, i) => m.seq === (i === 0 ? after[0].seq : after[i - 1].seq + 1))).toBe(true);
    expect(viewer.media.slice(0, run1.length).every((m) => m.run === 1)).toBe(true);
    const status = lookout.registry.view('hall')?.status;
    expect(status?.restarts).toBeGreaterThanOrEqual(1);
    expect(status?.pid).not.toBe(firstPid);

    // stream.mp4 ended by itself at the restart: a whole file of run 1, from a keyframe, with every frame up to the crash.
    const capture = await capturing;
    expect(capture.ended, 'stream.mp4 still open after the camera restarted').toBe(true);
    expect(capture.stoppedAt).toBeGreaterThan(killedAt);
    const init2 = viewer.messages.find((m) => m.type === 'init' && m.header === next);
    expect(Math.abs(capture.stoppedAt - (init2?.at ?? 0))).toBeLessThan(2_000);
    const file = saveCapture(dir, 'hall.mp4', capture.bytes);
    expect(await probeStream(file)).toMatchObject({ codec: 'h264', width: 768, height: 432 });
    const frames = await probeFrames(file);
    expect(frames[0].key).toBe(true);
    const fromFirst = (pts: number[]): number[] => pts.filter((t) => t >= frames[0].pts).map(micros).sort((a, b) => a - b);
    expect(fromFirst(frames.map((f) => f.pts))).toEqual(fromFirst(run1.map((m) => m.pts)));
    expect(frames.length).toBeGreaterThanOrEqual(20);

    // README: "`run` names the timeline: it starts at 1 and goes up each time the camera's ffmpeg restarts (a new init
    // segment)": the timeline after the crash is run 2. (Fails as of this writing: lookout also counts as runs the
    // attempts that found the camera down and never made an init segment, so the viewer gets 1 then 3.)
    expect(viewer.inits.map((i) => i.run), 'runs of the init segments the viewer got').toEqual([1, 2]);
  }, 150_000);
});
