// One inference worker thread: loads the TFJS graph model on the WebAssembly
// backend and answers jobs posted by InferencePool. Each worker runs on one
// core; the pool runs one worker per core, so the gRPC event loop never waits
// on the model.
import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { CENTERNET_INPUT_NODE, CENTERNET_INPUT_SIZE, CENTERNET_OUTPUT_NODE, decodeCenternet, letterboxFor } from './centernet.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker must run as a worker thread');
const config = workerData as WorkerData;

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  signature?: unknown;
}

async function loadModel(modelJsonPath: string): Promise<GraphModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  const dir = path.dirname(modelJsonPath);
  const shards = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => readFile(path.join(dir, p))));
  const weights = Buffer.concat(shards);
  return loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[],
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
      signature: json.signature as tf.io.ModelArtifacts['signature'],
    }),
  });
}

/**
 * Lowers this thread's priority, so that when the cores are all busy the
 * event loops (lookout's frames, the gRPC server) and ffmpeg come before
 * inference: a late detection costs little, a late live frame is visible.
 * An idle core still runs inference at full speed. Linux keeps a niceness
 * per thread, and setpriority() takes a thread id; raising one's own
 * niceness needs no privilege.
 */
function lowerPriority(nice: number): void {
  if (nice <= 0) return;
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, nice);
  } catch {
    // Not Linux, or /proc missing: the thread keeps the process's priority.
  }
}

async function start(): Promise<GraphModel> {
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(`${wasmDir}${path.sep}`);
  // One thread per worker: the pool already spreads work over the cores.
  setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const model = await loadModel(config.modelJsonPath);
  // Warm up once so the first real frame does not pay for kernel set-up.
  const warm = tf.zeros([1, CENTERNET_INPUT_SIZE, CENTERNET_INPUT_SIZE, 3]);
  const out = model.execute(warm, CENTERNET_OUTPUT_NODE) as tf.Tensor;
  await out.data();
  tf.dispose([warm, out]);
  return model;
}

function infer(model: GraphModel, job: Extract<WorkerRequest, { type: 'infer' }>): WorkerReply {
  const started = performance.now();
  const box = letterboxFor(job.width, job.height);
  const size = CENTERNET_INPUT_SIZE;
  const raw = tf.tidy(() => {
    // One conversion straight to float32 (the model's input type), not int32 then a cast.
    const pixels = tf.tensor4d(new Float32Array(new Uint8Array(job.pixels)), [1, job.height, job.width, 3]);
    const resized = tf.image.resizeBilinear(pixels, [box.height, box.width]);
    const input = tf.pad(resized, [[0, 0], [box.top, size - box.height - box.top], [box.left, size - box.width - box.left], [0, 0]]);
    return model.execute({ [CENTERNET_INPUT_NODE]: input }, CENTERNET_OUTPUT_NODE) as tf.Tensor;
  });
  const values = raw.dataSync() as Float32Array;
  raw.dispose();
  const output = decodeCenternet(values, config.classIds, config.scoreThreshold, box);
  return { type: 'result', id: job.id, output, inferMs: performance.now() - started };
}

// Before loading, so the model's set-up does not compete either.
lowerPriority(config.nice);
start().then(
  (model) => {
    port.on('message', (message: WorkerRequest) => {
      if (message.type !== 'infer') return;
      let reply: WorkerReply;
      try {
        reply = infer(model, message);
      } catch (err) {
        reply = { type: 'failed', id: message.id, message: err instanceof Error ? err.message : String(err) };
      }
      const transfer = reply.type === 'result' ? [reply.output.boxes.buffer, reply.output.scores.buffer, reply.output.classes.buffer] : [];
      port.postMessage(reply, transfer as ArrayBuffer[]);
    });
    port.postMessage({ type: 'ready' } satisfies WorkerReply);
  },
  (err: unknown) => {
    port.postMessage({ type: 'load-failed', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
  },
);
