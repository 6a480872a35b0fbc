// bench:density's WebSocket viewers, in a process of their own so that their
// CPU is not counted as lookout's (lookout runs in the bench's process). One
// connection per camera, `video=native` or `video=jpeg`, reading everything.
// Driven over IPC (density-viewers.ts): "reset" starts a window, "report"
// answers with what arrived since, "close" ends. Run by fork() only.
import WebSocket from 'ws';
import type { ViewerArgs, ViewerReport, CameraReceipt, DetectionsSeen, JpegSeen } from './density-viewers.js';

const args = JSON.parse(process.argv[2] ?? '{}') as ViewerArgs;

interface Span {
  /** Summed media time of finished stretches (a stretch ends when pts goes back: a new run). */
  doneS: number;
  first: number | undefined;
  last: number | undefined;
  lastDuration: number;
}

interface State extends CameraReceipt {
  span: Span;
}

const fresh = (): State => ({ bytes: 0, payloadBytes: 0, messages: 0, mediaS: 0, span: { doneS: 0, first: undefined, last: undefined, lastDuration: 0 } });
const states = new Map<string, State>(args.cameras.map((c) => [c, fresh()]));
let jpegs: JpegSeen[] = [];
const detections: DetectionsSeen = {};

function extend(span: Span, pts: number, duration: number): void {
  if (span.last !== undefined && pts < span.last) {
    span.doneS += span.last + span.lastDuration - (span.first ?? span.last);
    span.first = undefined;
  }
  span.first ??= pts;
  span.last = pts;
  span.lastDuration = duration;
}

function spanS(span: Span): number {
  return span.doneS + (span.last === undefined ? 0 : span.last + span.lastDuration - (span.first ?? span.last));
}

interface Header { kind: string; camera: string; pts?: number | null; duration?: number; timestamp?: number; detectionsFrameId?: string | null }

function onBinary(camera: string, data: Buffer): void {
  const state = states.get(camera);
  if (!state) return;
  const n = data.readUInt32BE(0);
  const header = JSON.parse(data.subarray(4, 4 + n).toString()) as Header;
  state.bytes += data.length;
  state.payloadBytes += data.length - 4 - n;
  state.messages++;
  if (header.pts === undefined || header.pts === null) return;
  if (header.kind === 'media') extend(state.span, header.pts, header.duration ?? 0);
  if (header.kind === 'jpeg') {
    extend(state.span, header.pts, 1 / args.sourceFps);
    if (args.keep) jpegs.push({ camera, pts: header.pts, detectionsFrameId: header.detectionsFrameId ?? null, timestamp: header.timestamp ?? NaN, at: Date.now() });
  }
}

function onText(text: string): void {
  if (!args.keep) return;
  const at = Date.now();
  const m = JSON.parse(text) as { type: string; frameId?: string; pts?: number | null; timestamp?: number; detections?: { label: string; score: number; box: [number, number, number, number] }[] };
  if (m.type === 'detections' && m.frameId && m.detections) {
    const boxes = m.detections.map((d) => ({ label: d.label, score: d.score, box: d.box }));
    detections[m.frameId] = { pts: m.pts ?? NaN, timestamp: m.timestamp ?? NaN, at, detections: boxes };
  }
}

const sockets = args.cameras.map((camera) => {
  const ws = new WebSocket(`${args.url.replace(/^http/, 'ws')}/ws?camera=${encodeURIComponent(camera)}&video=${args.video}`, { perMessageDeflate: false });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) onBinary(camera, data);
    else onText(data.toString());
  });
  ws.on('error', (err) => {
    process.stderr.write(`viewer ${camera}: ${err.message}\n`);
  });
  return new Promise<WebSocket>((resolve) => ws.once('open', () => resolve(ws)));
});

void Promise.all(sockets).then((open) => {
  process.send?.({ type: 'ready' });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'reset') {
      for (const c of args.cameras) states.set(c, fresh());
      jpegs = [];
      // Detections are kept: a JPEG of the window may carry boxes found before it.
      process.send?.({ type: 'reset' });
    } else if (m.type === 'report') {
      const cameras: Record<string, CameraReceipt> = {};
      for (const [c, s] of states) cameras[c] = { bytes: s.bytes, payloadBytes: s.payloadBytes, messages: s.messages, mediaS: spanS(s.span) };
      const report: ViewerReport = { cameras, jpegs, detections };
      process.send?.({ type: 'report', report });
    } else if (m.type === 'close') {
      for (const ws of open) ws.terminate();
      process.disconnect();
    }
  });
});
