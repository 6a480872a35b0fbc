// The motion and regions settings: defaults, a camera's own over the
// config's, refusals naming the key, and the camera entry cameras.json keeps.
import { describe, expect, it } from 'vitest';
import { cameraEntry } from '../../src/config/camera.js';
import { MOTION_DEFAULTS, REGIONS_DEFAULTS } from '../../src/config/motion.js';
import { parseConfig } from '../../src/config/parse.js';
import { BOTTLE_CLIP } from '../helpers/media.js';

describe('motion and regions settings', () => {
  it('are on by default, and a camera takes the config\'s with its own keys over them', () => {
    const c = parseConfig({
      motion: { threshold: 30, refreshSeconds: 20 },
      regions: { maxRegions: 2 },
      cameras: [{ id: 'a', url: BOTTLE_CLIP }, { id: 'b', url: BOTTLE_CLIP, motion: { threshold: 12, masks: [[[0, 0], [0.2, 0], [0.2, 0.2]]] }, regions: { enabled: false } }],
    });
    expect(parseConfig({}).motion).toEqual(MOTION_DEFAULTS);
    expect(parseConfig({}).regions).toEqual(REGIONS_DEFAULTS);
    expect(c.cameras[0].motion).toEqual({ ...MOTION_DEFAULTS, threshold: 30, refreshSeconds: 20 });
    expect(c.cameras[0].regions).toEqual({ ...REGIONS_DEFAULTS, maxRegions: 2 });
    expect(c.cameras[1].motion).toEqual({ ...MOTION_DEFAULTS, threshold: 12, refreshSeconds: 20, masks: [[[0, 0], [0.2, 0], [0.2, 0.2]]] });
    expect(c.cameras[1].regions).toEqual({ ...REGIONS_DEFAULTS, maxRegions: 2, enabled: false });
    // What cameras.json keeps reads back as the same camera.
    const again = parseConfig({ cameras: [cameraEntry(c.cameras[1])] }).cameras[0];
    expect([again.motion, again.regions]).toEqual([c.cameras[1].motion, c.cameras[1].regions]);
  });

  it('refuses bad values, naming the key and the reason', () => {
    expect(() => parseConfig({ motion: { threshold: 0 } })).toThrow(/motion\.threshold/);
    expect(() => parseConfig({ motion: { sensitivity: 3 } })).toThrow(/sensitivity/);
    expect(() => parseConfig({ regions: { maxRegions: 2.5 } })).toThrow(/regions\.maxRegions/);
    expect(() => parseConfig({ cameras: [{ id: 'a', url: BOTTLE_CLIP, motion: { masks: [[[0, 0], [1, 1], [1, 0], [0, 1]]] } }] }))
      .toThrow(/cameras\[0\] \(id "a"\)\.motion\.masks\[0\]: crosses itself/);
    expect(() => parseConfig({ cameras: [{ id: 'a', url: BOTTLE_CLIP, regions: { fullFrameSeconds: -1 } }] })).toThrow(/regions\.fullFrameSeconds/);
  });
});
