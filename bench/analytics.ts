// npm run bench:analytics — what zones, lines and notifications cost:
//   1. the analytics per detection (µs, p50 and p99), 10 zones and 10 lines
//      on a camera against none, side by side in one run: the object filters
//      (screen) and Analytics.apply behind Tracking, in this process, with ten
//      objects walking across a 1080p picture (analytics-cost.ts);
//   2. MQTT: zone notices per second lookout's MqttSink gets acknowledged
//      (QoS 1) by a local mosquitto, sustained, without a drop, and the
//      publish → PUBACK latency (analytics-mqtt.ts);
//   3. the pipeline's detect fps without (A) and with (B) notifications (MQTT
//      to that mosquitto and a webhook to a local receiver): whole lookouts in
//      this process, looping clip cameras with the 10 zones and 10 lines each,
//      the synthetic model with walking boxes, windows A, B, A, B … with the
//      CPU of each; the ratio B ÷ A of the means (goal ≥ 0.98), and what was
//      delivered during B (analytics-pipeline.ts).
// mosquitto and the receiver are child processes, stopped at the end. Ends
// with one line of JSON.
//
// BENCH_ROUNDS, BENCH_SECONDS, BENCH_WARM_SECONDS, BENCH_CAMERAS,
// BENCH_DETECT_FPS, BENCH_MQTT_SECONDS, BENCH_COST_FRAMES; BENCH_MODEL=fixed
// runs part 3 on the embedded synthetic model (fixed boxes) instead.
import os from 'node:os';
import { resolveFfmpeg } from '../src/ingest/ffmpeg-binary.js';
import { startBroker, type Broker } from './analytics-broker.js';
import { measureCost } from './analytics-cost.js';
import { startWalkingModel, type WalkingModel } from './analytics-model.js';
import { measureMqtt } from './analytics-mqtt.js';
import { runWindow, startReceiver, type Mode, type Receiver, type Window } from './analytics-pipeline.js';
import { printReport } from './analytics-report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const WINDOW_S = Number(process.env.BENCH_SECONDS ?? 20);
const WARM_S = Number(process.env.BENCH_WARM_SECONDS ?? 5);
const CAMERAS = Number(process.env.BENCH_CAMERAS ?? 4);
const DETECT_FPS = Number(process.env.BENCH_DETECT_FPS ?? 10);
const MQTT_S = Number(process.env.BENCH_MQTT_SECONDS ?? 12);
/** Frames per camera in part 1: about 7 of the 10 walkers are on the picture at a time, so 8000 frames are some 55 000 detections. */
const COST_FRAMES = Number(process.env.BENCH_COST_FRAMES ?? 8000);
const FIXED = process.env.BENCH_MODEL === 'fixed';
/** lookout's default notify.mqtt.maxQueue: the most the bench keeps in the sink. */
const MQTT_MAX_QUEUE = 1000;

const started = Date.now();
const say = (text: string) => process.stderr.write(`[analytics ${((Date.now() - started) / 1000).toFixed(0)} s] ${text}\n`);

// Ctrl-C or a kill ends through process.exit, so the broker's exit hook kills it (ffmpeg and the receiver follow their pipes).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const ffmpeg = resolveFfmpeg();
  const loadAtStart = os.loadavg();
  console.log(`lookout bench:analytics — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, node ${process.version}, ${ffmpeg.source} ${ffmpeg.version}; load average at start ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}\n`);

  say(`part 1: analytics cost, ${COST_FRAMES} frames per camera`);
  const cost = measureCost({ frames: COST_FRAMES, warmFrames: 1000, block: 500, fps: 10 });

  let broker: Broker | undefined;
  let receiver: Receiver | undefined;
  let model: WalkingModel | undefined;
  try {
    broker = await startBroker();
    say(`part 2: MQTT to mosquitto at ${broker.url}, ${MQTT_S} s`);
    const mqtt = await measureMqtt({ url: broker.url, brokerPid: broker.pid, maxQueue: MQTT_MAX_QUEUE, seconds: MQTT_S, warmSeconds: 1, singleSeconds: 2 });

    receiver = await startReceiver();
    model = FIXED ? undefined : await startWalkingModel(2, 4);
    const options = {
      cameras: CAMERAS, detectFps: DETECT_FPS, windowS: WINDOW_S, warmS: WARM_S,
      brokerUrl: broker.url, brokerPid: broker.pid, receiver, modelAddress: model?.address,
    };
    const windows: Window[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['A', 'B'] as Mode[]) {
        say(`part 3: round ${round}, ${mode === 'A' ? 'A, no notifications' : 'B, MQTT and a webhook'}`);
        const w = await runWindow(options, round, mode);
        say(`  detect ${w.detectFps.toFixed(2)}/s per camera, ${w.nodeCores.toFixed(3)} cores; ${Object.entries(w.sinks).map(([k, c]) => `${k} ${c.published}`).join(', ') || 'no sinks'}; ${w.crossings} crossings`);
        windows.push(w);
      }
    }
    printReport({
      cost, mqtt, windows, loadAtStart, seconds: (Date.now() - started) / 1000,
      pipeline: {
        cameras: CAMERAS, detectFps: DETECT_FPS, windowS: WINDOW_S, warmS: WARM_S,
        model: FIXED ? 'embedded synthetic model, fixed boxes (BENCH_MODEL=fixed)' : `${model?.description ?? ''}, served in this process over gRPC`,
      },
    });
  } finally {
    await model?.close();
    await receiver?.stop();
    await broker?.stop();
  }
}

await main();
// Anything left (a stuck handle) must not keep the bench from ending.
process.exit(0);
