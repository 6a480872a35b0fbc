// A camera's `motion` and `regions` settings (docs/motion.md): the config's
// top-level keys hold the defaults, a camera's own override any key of them,
// in the config file and through the camera API alike.
import { polygon } from './analytics.js';
import { describe, type Reader } from './reader.js';
import type { MotionConfig, RegionsConfig } from './schema.js';

export const MOTION_KEYS = ['enabled', 'threshold', 'minArea', 'masks', 'warmupSeconds', 'recalibrate', 'refreshSeconds'] as const;
export const REGIONS_KEYS = ['enabled', 'fullFrameSeconds', 'maxRegions'] as const;

/**
 * Measured on the bundled clips (src/motion/README.md has the numbers).
 * After the blur, a still picture re-encoded with H.264 strays at most 2
 * grey levels from its background and the person clip's empty room at most
 * 11, while a person against its wall differs by 100–200: 25 is twice the
 * worst noise seen and far below anything worth detecting. 0.0005 of the
 * frame is 29 cells of 320×180 (about 13×10 pixels of a 640×360 frame): the
 * head of a person just stepping into view passes it, a speck of noise that
 * got past the threshold does not.
 */
export const MOTION_DEFAULTS: MotionConfig = {
  enabled: true,
  threshold: 25,
  minArea: 0.0005,
  masks: [],
  warmupSeconds: 1,
  recalibrate: 0.5,
  refreshSeconds: 10,
};

export const REGIONS_DEFAULTS: RegionsConfig = {
  enabled: true,
  fullFrameSeconds: 30,
  maxRegions: 4,
};

/** `motion` at `key`, completed from `defaults`. */
export function parseMotion(r: Reader, value: unknown, key: string, defaults: MotionConfig = MOTION_DEFAULTS): MotionConfig {
  const o = r.object(value, key, MOTION_KEYS);
  let masks = defaults.masks;
  if (o.masks !== undefined && o.masks !== null) {
    if (!Array.isArray(o.masks)) r.fail(`${key}.masks`, `expected a list of polygons [[[x, y], …], …], got ${describe(o.masks)}`);
    if (o.masks.length > 32) r.fail(`${key}.masks`, `at most 32 masks, got ${o.masks.length}`);
    masks = o.masks.map((m, i) => polygon(r, m, `${key}.masks[${i}]`));
  }
  return {
    enabled: r.boolean(o.enabled, `${key}.enabled`, defaults.enabled),
    threshold: r.number(o.threshold, `${key}.threshold`, defaults.threshold, 1, 255),
    minArea: r.number(o.minArea, `${key}.minArea`, defaults.minArea, 0, 1),
    masks,
    warmupSeconds: r.number(o.warmupSeconds, `${key}.warmupSeconds`, defaults.warmupSeconds, 0, 60),
    recalibrate: r.number(o.recalibrate, `${key}.recalibrate`, defaults.recalibrate, 0.05, 1),
    refreshSeconds: r.number(o.refreshSeconds, `${key}.refreshSeconds`, defaults.refreshSeconds, 0.1, 3_600),
  };
}

/** `regions` at `key`, completed from `defaults`. */
export function parseRegions(r: Reader, value: unknown, key: string, defaults: RegionsConfig = REGIONS_DEFAULTS): RegionsConfig {
  const o = r.object(value, key, REGIONS_KEYS);
  return {
    enabled: r.boolean(o.enabled, `${key}.enabled`, defaults.enabled),
    fullFrameSeconds: r.number(o.fullFrameSeconds, `${key}.fullFrameSeconds`, defaults.fullFrameSeconds, 1, 86_400),
    maxRegions: r.number(o.maxRegions, `${key}.maxRegions`, defaults.maxRegions, 1, 16, true),
  };
}

/** Settings back in the form a config entry or an API request gives them. */
export function motionEntry(m: MotionConfig): Record<string, unknown> {
  return { ...m, masks: m.masks.map((p) => p.map((pt) => [...pt])) };
}
