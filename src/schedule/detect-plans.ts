// A batch of frames' plans through the model: each frame's regions (or the
// whole frame) as images of one Predict call, the answers mapped back onto
// their frames and merged per frame; then, for objects a region's edge cut,
// one more call with regions centred on them, whose answers replace the cut
// ones. The scheduler calls this once per batch, holding the batch's slot.
import type { CallOptions } from '../model/client.js';
import type { Detection, ImageInput, Rect } from '../types.js';
import { boxOnFrame, prepareBatch, type Job } from './model-input.js';
import { cutBy, mergeDetections, plain, recentred, sameObject, type RegionDetection } from './merge.js';

/** What the scheduler needs of the model here. */
export interface PlanModel {
  detect(images: readonly ImageInput[], options?: CallOptions): Promise<{ detections: Detection[][]; modelVersion?: number }>;
}

export interface PlansResult {
  /** Per job, in order: the frame's detections. */
  detections: Detection[][];
  /** Per job: images sent to the model (regions, re-centred ones included). */
  images: number[];
  /** Per job: every rectangle of the frame the model was given, the second look's included. */
  looked: Rect[][];
  /** Second looks that failed (their first look's answers stand). */
  secondFailed: number;
  /** The model version that answered the first look (model_spec.version of its answer), when the server said. */
  modelVersion?: number;
}

/** One call for the jobs: per job, its detections on its frame, each with its view, region edges marked. */
async function look(model: PlanModel, jobs: readonly Job[], options: CallOptions, firstView = 0, answered?: (version: number | undefined) => void): Promise<RegionDetection[][]> {
  const batch = await prepareBatch(jobs);
  const { detections, modelVersion } = await model.detect(batch.images, options);
  answered?.(modelVersion);
  const perJob: RegionDetection[][] = jobs.map(() => []);
  const viewOf = jobs.map(() => firstView);
  batch.views.forEach((view, i) => {
    const { frame, plan } = jobs[view.job];
    const at = viewOf[view.job]++;
    for (const d of detections[i] ?? []) {
      const box = boxOnFrame(d.box, view, batch, frame);
      if (box) perJob[view.job].push({ ...d, box, view: at, cut: plan.kind === 'regions' && cutBy(box, view.rect, frame) });
    }
  });
  return perJob.map((found) => mergeDetections(found));
}

export async function detectPlans(model: PlanModel, jobs: readonly Job[], options: CallOptions = {}): Promise<PlansResult> {
  let modelVersion: number | undefined;
  const first = await look(model, jobs, options, 0, (v) => {
    modelVersion = v;
  });
  const images = jobs.map((j) => j.plan.rects.length);
  const looked = jobs.map((j) => [...j.plan.rects]);
  const again: { at: number; job: Job }[] = [];
  jobs.forEach((job, j) => {
    if (job.plan.kind !== 'regions') return;
    const cut = first[j].filter((d) => d.cut);
    if (cut.length === 0) return;
    const side = Math.min(job.plan.fit.width, job.plan.fit.height);
    const rects = recentred(cut, job.plan.rects, side, job.frame);
    if (rects.length > 0) again.push({ at: j, job: { frame: job.frame, plan: { ...job.plan, rects } } });
  });
  let secondFailed = 0;
  if (again.length > 0) {
    let second: RegionDetection[][] | undefined;
    try {
      second = await look(model, again.map((a) => a.job), options, 1_000);
    } catch (err) {
      // The first look's answers are good: a failed second look (the model busy, a deadline) costs only the re-centred views.
      if (options.signal?.aborted) throw err;
      secondFailed = again.length;
    }
    if (second) {
      const seconds = second;
      again.forEach(({ at, job }, k) => {
        // A cut detection the second look saw whole is that object: the whole one stays.
        const whole = seconds[k];
        const kept = first[at].filter((d) => !d.cut || !whole.some((w) => !w.cut && sameObject(w, d)));
        first[at] = mergeDetections([...kept, ...whole]);
        images[at] += job.plan.rects.length;
        looked[at].push(...job.plan.rects);
      });
    }
  }
  return { detections: first.map(plain), images, looked, secondFailed, ...(modelVersion !== undefined ? { modelVersion } : {}) };
}
