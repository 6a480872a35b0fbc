// `lookout detect <file|url> [--out detections.jsonl]`: flags, the model
// server, the JSONL output and the progress bar around runDetect().
import { accessSync, constants, createWriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseCommand, numberFlag, stringFlag, UsageError } from '../cli-args.js';
import { demoConfig, loadConfig } from '../config/load.js';
import { EMBEDDED_MODELS, isEmbeddedModel, type LookoutConfig } from '../config/schema.js';
import { parseTargets } from '../tfserving/channels.js';
import { resolveFfmpeg } from '../ingest/ffmpeg-binary.js';
import type { Logger } from '../util/logger.js';
import { connectModel } from '../model/connection.js';
import { toDetectionJson } from '../store/records.js';
import type { DetectionRecord } from '../types.js';
import { classifySource } from '../ingest/source-url.js';
import { DetectInputError, runDetect, type DetectProgress } from './detect-run.js';

export const DETECT_HELP = `  lookout detect <file|url> [--out FILE] [--fps N] [--camera NAME]
                 [--min-score S] [--labels a,b] [--config FILE]
                 [--model-server HOST:PORT|http://HOST:PORT] [--model centernet|synthetic]
      Runs detection once over a video as fast as the model allows and
      writes one JSON line per detection (the API's record shape) to FILE,
      or to standard output. --fps 0 detects every frame (default: the
      config's detection.detectFps, 5). A terminal shows a progress bar.
`;

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** One line, redrawn in place: bar, frames, fps, ETA (when the length is known). */
export function progressLine(p: DetectProgress, width = 24): string {
  const fps = p.elapsedMs > 0 ? (p.frames * 1000) / p.elapsedMs : 0;
  const parts: string[] = [];
  if (p.durationMs && p.durationMs > 0) {
    const share = Math.min(1, p.positionMs / p.durationMs);
    const filled = Math.round(share * width);
    const speed = p.elapsedMs > 0 ? p.positionMs / p.elapsedMs : 0;
    const eta = speed > 0 ? (p.durationMs - p.positionMs) / speed : NaN;
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`);
    parts.push(`${p.frames} frames`, `${fps.toFixed(1)} fps`, `ETA ${Number.isFinite(eta) ? clock(eta) : '?'}`);
  } else {
    parts.push(`${p.frames} frames`, `${fps.toFixed(1)} fps`, `at ${clock(p.positionMs)}`);
  }
  parts.push(`${p.detections} detections`);
  return parts.join('  ');
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

export async function detectCommand(argv: string[], log: Logger): Promise<void> {
  const { flags, positionals } = parseCommand(argv, {
    out: { type: 'string', short: 'o' },
    fps: { type: 'string' },
    camera: { type: 'string' },
    'min-score': { type: 'string' },
    labels: { type: 'string' },
    config: { type: 'string' },
    'model-server': { type: 'string' },
    model: { type: 'string' },
  }, 1);
  const input = positionals[0];
  if (!input) throw new UsageError('detect: give a video file or URL');
  const configFile = stringFlag(flags, 'config');
  // One video, no cameras of the config: a replica's shard means nothing here.
  const config: LookoutConfig = configFile ? loadConfig(configFile, process.env, { shard: false }) : demoConfig(process.env, { shard: false });
  const modelServerFlag = stringFlag(flags, 'model-server');
  if (modelServerFlag !== undefined) {
    try {
      config.modelServer.address = /^https?:\/\//i.test(modelServerFlag) ? [modelServerFlag] : parseTargets(modelServerFlag);
    } catch (err) {
      throw new UsageError(`--model-server: ${(err as Error).message}`);
    }
  }
  const model = stringFlag(flags, 'model');
  if (model !== undefined) {
    if (!isEmbeddedModel(model)) throw new UsageError(`--model: expected ${EMBEDDED_MODELS.join(' or ')}, got ${JSON.stringify(model)}`);
    config.modelServer.embedded.model = model;
  }
  const fps = numberFlag(flags, 'fps', 0, 240) ?? config.detection.detectFps;
  const minScore = numberFlag(flags, 'min-score', 0, 1) ?? config.detection.minScore;
  const labelsFlag = stringFlag(flags, 'labels');
  const labels = labelsFlag !== undefined ? labelsFlag.split(',').map((l) => l.trim()).filter(Boolean) : config.detection.labels;
  const camera = stringFlag(flags, 'camera') ?? (path.basename(input.split('?')[0]) || 'video');
  const outFile = stringFlag(flags, 'out');

  // A missing or unreadable file fails here, before the model loads.
  const source = (() => {
    try {
      return classifySource(input, []);
    } catch (err) {
      throw new DetectInputError(`${input}: ${(err as Error).message}`);
    }
  })();
  if (source.kind === 'file') {
    const file = source.input.slice('file:'.length);
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new DetectInputError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }

  const binary = resolveFfmpeg();
  const connection = await connectModel(config.modelServer, config.minScore, log);
  let out: NodeJS.WritableStream = process.stdout;
  const tty = process.stderr.isTTY === true;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await connection.client.waitUntilReady(config.modelServer.embedded.model === 'centernet' ? 120_000 : 30_000, controller.signal);
    if (outFile) {
      const file = createWriteStream(outFile);
      await once(file, 'open');
      out = file;
    }
    // A full disk, or a reader that went away (`lookout detect x | head`), stops the run cleanly.
    let outputError: NodeJS.ErrnoException | undefined;
    out.on('error', (err: NodeJS.ErrnoException) => {
      outputError ??= err;
      controller.abort();
    });
    let lastDraw = 0;
    const run = runDetect({
      input,
      source,
      camera,
      binary,
      model: connection.client,
      fps,
      maxWidth: config.detection.size.width,
      maxHeight: config.detection.size.height,
      minScore,
      labels,
      maxInFlight: Math.max(1, config.scheduler.maxInFlight),
      startTime: Date.now(),
      signal: controller.signal,
      onRecords: async (records: DetectionRecord[]) => {
        if (records.length === 0) return;
        await write(out, records.map((r) => JSON.stringify(toDetectionJson(r))).join('\n') + '\n');
      },
      onProgress: (p) => {
        if (!tty || Date.now() - lastDraw < 100) return;
        lastDraw = Date.now();
        process.stderr.write(`\r${progressLine(p)}\u001b[K`);
      },
    });
    // The last frame starts a frame before the end: the finished run reads 100 %.
    let summary;
    try {
      summary = await run;
    } catch (err) {
      if (outputError?.code === 'EPIPE') return;
      if (outputError) throw new DetectInputError(`cannot write ${outFile ?? 'to standard output'}: ${outputError.message}`);
      throw err;
    }
    if (tty) process.stderr.write(`\r${progressLine({ ...summary, positionMs: summary.durationMs ?? summary.positionMs })}\u001b[K\n`);
    const where = outFile ? ` to ${outFile}` : '';
    log.info(`detect: ${summary.frames} frames, ${summary.detections} detections, ${summary.events} tracked objects in ${(summary.elapsedMs / 1000).toFixed(1)} s${where}`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (out !== process.stdout) {
      out.end();
      await once(out, 'close').catch(() => undefined);
    }
    await connection.close();
  }
}
