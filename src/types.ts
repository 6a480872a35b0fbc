// The small shared types every stage meets in. Stages import these, not each other.

/** [ymin, xmin, ymax, xmax], normalized to 0–1 of the image, as TF Serving returns them. */
export type Box = [number, number, number, number];

export interface Detection {
  /** Label-map id (COCO: 1–90, with gaps). */
  classId: number;
  /** Display name from the label map, or `class N` when the map lacks the id. */
  label: string;
  score: number;
  box: Box;
}

/** One image for the model: packed RGB24 rows, or an encoded JPEG. */
export type ImageInput =
  | { kind: 'rgb'; width: number; height: number; data: Uint8Array }
  | { kind: 'jpeg'; data: Uint8Array };
