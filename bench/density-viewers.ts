// The bench's side of density-viewer-child.ts: forks the viewers' process,
// starts a window, reads what arrived. Types shared with the child.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ViewerArgs {
  url: string;
  cameras: string[];
  video: 'native' | 'jpeg';
  /** The source's frame rate: a JPEG frame stands for this much of the source. */
  sourceFps: number;
  /** Keep every JPEG header and every detections message (for the IoU of the JPEG path). */
  keep: boolean;
}

export interface CameraReceipt {
  /** Whole WebSocket binary messages (framing header + payload). */
  bytes: number;
  /** The payloads only (fMP4 fragments, or JPEGs). */
  payloadBytes: number;
  messages: number;
  /** Seconds of the camera's timeline the received messages cover. */
  mediaS: number;
}

export interface JpegSeen {
  camera: string;
  pts: number;
  detectionsFrameId: string | null;
  /** When lookout read the frame from its JPEG-view decoder (the header's timestamp), ms since the epoch. */
  timestamp: number;
  /** When it arrived here. */
  at: number;
}

export interface DetectionsMessageSeen {
  pts: number;
  /** When lookout read the frame from its detection decoder, ms since the epoch. */
  timestamp: number;
  /** When the message arrived here. */
  at: number;
  detections: { label: string; score: number; box: [number, number, number, number] }[];
}

/** By frameId. */
export type DetectionsSeen = Record<string, DetectionsMessageSeen>;

export interface ViewerReport {
  cameras: Record<string, CameraReceipt>;
  jpegs: JpegSeen[];
  detections: DetectionsSeen;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export class Viewers {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts the viewers and waits until every connection is open. */
  static async start(args: ViewerArgs): Promise<Viewers> {
    const script = fileURLToPath(new URL('./density-viewer-child.js', import.meta.url));
    const child = fork(script, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    const viewers = new Viewers(child);
    await viewers.next('ready', 30_000);
    return viewers;
  }

  private next(type: string, timeoutMs = 10_000): Promise<{ type: string; report?: ViewerReport }> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.child.off('message', on);
        this.child.off('exit', exit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the viewers did not answer "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (m: { type: string; report?: ViewerReport }) => {
        if (m.type !== type) return;
        done();
        resolve(m);
      };
      const exit = (code: number | null) => {
        done();
        reject(new Error(`the viewers' process exited (${code})`));
      };
      this.child.on('message', on);
      this.child.on('exit', exit);
    });
  }

  /** Starts a window: counters from zero. */
  async reset(): Promise<void> {
    const answer = this.next('reset');
    this.child.send({ type: 'reset' });
    await answer;
  }

  async report(): Promise<ViewerReport> {
    const answer = this.next('report', 30_000);
    this.child.send({ type: 'report' });
    return (await answer).report as ViewerReport;
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
    children.delete(this.child);
  }
}
