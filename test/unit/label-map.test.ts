import { describe, expect, it } from 'vitest';
import { cocoLabelMap, LabelMapError, parseLabelMap } from '../../src/tfserving/label-map.js';

describe('label maps (Object Detection API pbtxt)', () => {
  it('reads display_name, falls back to name, and names unknown ids', () => {
    const map = parseLabelMap(`
      # a comment
      item { id: 1 name: "/m/01g317" display_name: "person" }
      item {
        name: 'cat'
        id: 17
      }
      item: { id: 44, display_name: "bottle" keypoints { id: 0 label: "x" } }
    `);
    expect(map.label(1)).toBe('person');
    expect(map.label(17)).toBe('cat');
    expect(map.label(44)).toBe('bottle');
    expect(map.label(99)).toBe('class 99');
    expect(map.ids()).toEqual([1, 17, 44]);
  });

  it('ships COCO: 80 classes on ids 1–90 with gaps', () => {
    const coco = cocoLabelMap();
    expect(coco.size).toBe(80);
    expect(coco.label(1)).toBe('person');
    expect(coco.label(44)).toBe('bottle');
    expect(coco.label(90)).toBe('toothbrush');
    expect(coco.has(12)).toBe(false);
    expect(coco.ids()[79]).toBe(90);
  });

  it('names the file and line of what is wrong', () => {
    expect(() => parseLabelMap('item { id: 1 display_name: "a" }\nitem { id: 1 display_name: "b" }', 'x.pbtxt')).toThrow(/x.pbtxt: id 1 appears twice/);
    expect(() => parseLabelMap('item { display_name: "a" }', 'x.pbtxt')).toThrow(/has no id/);
    expect(() => parseLabelMap('itme { id: 1 }', 'x.pbtxt')).toThrow(/expected "item" on line 1/);
    expect(() => parseLabelMap('item { id: -3 }', 'x.pbtxt')).toThrow(LabelMapError);
    expect(() => parseLabelMap('item { id: 1 display_name: "open', 'x.pbtxt')).toThrow(/unterminated string/);
    expect(() => parseLabelMap('', 'x.pbtxt')).toThrow(/no items/);
  });
});
