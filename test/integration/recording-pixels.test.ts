// The one check that does not trust lookout's own arithmetic: the real COCO
// detector is run again on the frame a clip shows at a logged detection's
// time, and must find the logged box there. A walking person moves a box
// width in well under a second, so a clip whose timeline were off by a few
// frames would show someone elsewhere.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cleanup.js';
import { startTestLookout } from '../helpers/lookout.js';
import { PERSON_CLIP } from '../helpers/media.js';
import { until } from '../helpers/wait.js';

type Box = [number, number, number, number];
interface Det { time: number; label: string; score: number; box: Box }

function iou(a: Box, b: Box): number {
  const h = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const w = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = h * w;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** The frame a clip shows at media time t (s): the first whose pts is at or after it, as a JPEG. */
function frameAt(file: string, t: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select='gte(t\\,${(t - 0.002).toFixed(4)})'`, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '2', 'pipe:1']);
    const out: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}`))));
  });
}

describe('a recorded clip against the real detector', () => {
  it('shows, at each logged detection\'s time, the frame the detector finds that box on', async () => {
    const lookout = await startTestLookout({
      modelServer: { embedded: { model: 'centernet', workerNice: 0 } },
      detection: { detectFps: 2, liveFps: 0, minScore: 0.5, labels: ['person'] },
      record: { mode: 'continuous', segmentSeconds: 2 },
      cameras: [{ id: 'walk', url: PERSON_CLIP, loop: true }],
    });
    const base = lookout.url;
    let dets: Det[] = [];
    await until(async () => {
      dets = ((await (await fetch(`${base}/api/detections?camera=walk&label=person&limit=100`)).json()) as { detections: Det[] }).detections;
      return dets.length >= 8;
    }, 60_000, 500);
    // Oldest first: their segments are finished.
    const picked = dets.slice(-6, -1);
    const file = path.join(tempDir('lookout-pixels-'), 'clip.mp4');
    const ious: number[] = [];
    for (const d of picked) {
      const res = await fetch(`${base}/api/recordings/walk/clip.mp4?since=${d.time - 1500}&until=${d.time + 1500}`);
      expect(res.status).toBe(200);
      const clipStart = Number(res.headers.get('x-lookout-clip-start'));
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const jpeg = await frameAt(file, (d.time - clipStart) / 1000);
      const again = (await (await fetch(`${base}/api/detect`, { method: 'POST', body: jpeg, headers: { 'content-type': 'image/jpeg' } })).json()) as { detections: Det[] };
      ious.push(Math.max(0, ...again.detections.filter((x) => x.label === d.label).map((x) => iou(x.box, d.box))));
    }
    // The JPEG round trip moves a box a little; another frame moves it a lot.
    expect(ious.filter((v) => v > 0.85).length, `IoUs ${ious.map((v) => v.toFixed(3)).join(', ')}`).toBeGreaterThanOrEqual(4);
  }, 120_000);
});
