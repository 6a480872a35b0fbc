// A clip through motion gating, frame by frame, as a camera's detection
// frames go through lookout serve: the motion gate decides (skip, whole
// frame, regions), the model answers (the scheduler's detectPlans, so the
// same crops, merging and second looks), the object filters' minScore and
// the event threshold apply, tracking holds its steady tracks over skipped
// frames. Nothing is dropped and the clock is the clip's own (frame i at
// i / fps), so two runs over one clip (gated and not) compare like for like
// whatever the machine's load. bench:motion and the motion tests use it.
import { spawn } from 'node:child_process';
import { FILTER_DEFAULTS } from '../src/config/analytics.js';
import { MOTION_DEFAULTS, REGIONS_DEFAULTS } from '../src/config/motion.js';
import type { MotionConfig, RegionsConfig } from '../src/config/schema.js';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { readFrames } from '../src/ingest/frame-reader.js';
import { MotionGate, type GateReason } from '../src/motion/gate.js';
import { detectPlans, type PlanModel } from '../src/schedule/detect-plans.js';
import { EventBuilder } from '../src/track/events.js';
import type { Detection, DetectPlan, Frame, Size, TrackedObject, TrackEvent } from '../src/types.js';
import { rectBox, wholeRect } from '../src/util/rect.js';

export interface ReplayOptions {
  file: string;
  /** The clip's own size (frames are decoded at it). */
  width: number;
  height: number;
  /** Detection frames per second of clip. */
  fps: number;
  model: PlanModel;
  /** undefined: no gate, every frame whole (motion off). */
  motion?: Partial<MotionConfig>;
  regions?: Partial<RegionsConfig>;
  /** The model's size (config `size`). */
  size?: Size;
  startSeconds?: number;
  seconds?: number;
  /** Called for each frame after it was handled. */
  onFrame?: (frame: Frame, plan: DetectPlan | undefined, detections: readonly Detection[], after: FrameAfter) => void;
}

/** Once a frame was handled: why the gate decided as it did (undefined ungated), tracking's live tracks at the frame's time, and the events that frame ended. */
export interface FrameAfter {
  reason: GateReason | undefined;
  objects: TrackedObject[];
  ended: readonly TrackEvent[];
}

export interface ReplayResult {
  frames: number;
  /** Frames the model was given (whole or as regions). */
  sent: number;
  full: number;
  regions: number;
  skipped: number;
  /** Images the model was given. */
  images: number;
  events: TrackEvent[];
  /** Seconds the replay took. */
  seconds: number;
}

/** Decoded frames of a clip (or part of it) at `fps`, at the clip's own size. */
async function* clipFrames(o: ReplayOptions): AsyncGenerator<Buffer> {
  const args = ['-v', 'error', ...(o.startSeconds ? ['-ss', String(o.startSeconds)] : []), ...(o.seconds ? ['-t', String(o.seconds)] : []), '-i', o.file, '-vf', `fps=${o.fps}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const child = spawn(resolveFfmpeg().path, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    yield* readFrames(child.stdout, async () => o.width * o.height * 3);
  } finally {
    child.kill('SIGKILL');
  }
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const size = o.size ?? { width: 640, height: 640 };
  const gate = o.motion ? new MotionGate({ motion: { ...MOTION_DEFAULTS, ...o.motion }, regions: { ...REGIONS_DEFAULTS, ...o.regions }, size }) : undefined;
  const events = new EventBuilder('replay', { threshold: () => FILTER_DEFAULTS.threshold });
  const done: TrackEvent[] = [];
  const result: ReplayResult = { frames: 0, sent: 0, full: 0, regions: 0, skipped: 0, images: 0, events: done, seconds: 0 };
  const started = performance.now();
  let seq = 0;
  for await (const data of clipFrames(o)) {
    const time = Math.round((seq * 1000) / o.fps);
    const frame: Frame = { cameraId: 'replay', seq, run: 1, width: o.width, height: o.height, data, ptsMs: time, capturedAt: time };
    seq++;
    result.frames++;
    const decision = gate?.decide(frame, events.objects(time));
    const plan: DetectPlan | undefined = decision ? decision.plan : { kind: 'full', rects: [wholeRect(frame)], fit: size };
    let kept: Detection[] = [];
    let ended: TrackEvent[] = [];
    if (plan) {
      const answer = await detectPlans(o.model, [{ frame, plan }]);
      gate?.answered(plan, frame);
      result.sent++;
      result[plan.kind === 'full' ? 'full' : 'regions']++;
      result.images += answer.images[0];
      kept = answer.detections[0].filter((d) => d.score >= FILTER_DEFAULTS.minScore);
      const update = events.update({ time, frameId: `1:${time}` }, kept, plan.kind === 'regions' ? answer.looked[0].map((r) => rectBox(r, frame)) : null);
      ended = update.ended;
      done.push(...ended);
    } else {
      result.skipped++;
      events.hold(time);
    }
    o.onFrame?.(frame, plan, kept, { reason: decision?.reason, objects: events.objects(time), ended });
  }
  done.push(...events.endAll());
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** Events per label: { person: 6, bottle: 3 }. */
export function eventsByLabel(events: readonly TrackEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) out[e.label] = (out[e.label] ?? 0) + 1;
  return out;
}
