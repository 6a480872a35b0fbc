// The JSON of REST answers: predictions or outputs, status and metadata, in
// the shapes TF Serving prints them (see rest-api.ts for the sources).
import type { TensorInfo } from '../tfserving/generated/tensorflow/TensorInfo.js';
import type { DetectorOutput } from './centernet.js';
import { MAX_DETECTIONS } from './centernet.js';
import { OUTPUT_ALIASES, SIGNATURES } from './signatures.js';

// --- answers -----------------------------------------------------------------

/**
 * A float32 as TF Serving writes it: the shortest of six or nine significant
 * digits that reads back as the same float32, ".0" on whole numbers, and the
 * NaN/Infinity tokens its parser also accepts.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  const f = Math.fround(v);
  let s = String(Number(f.toPrecision(6)));
  if (Math.fround(Number(s)) !== f) s = String(Number(f.toPrecision(9)));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A dense float tensor as nested JSON lists (a scalar when the shape is empty). */
function tensorJson(values: Float32Array, shape: readonly number[]): string {
  let offset = 0;
  const walk = (dim: number): string => {
    if (dim === shape.length) return formatFloat32(values[offset++]);
    const parts = new Array<string>(shape[dim]);
    for (let i = 0; i < shape[dim]; i++) parts[i] = walk(dim + 1);
    return `[${parts.join(',')}]`;
  };
  return walk(0);
}

/** One image's outputs, per alias, in the shape the signature gives them without the batch dimension. */
function outputsOf(o: DetectorOutput): Record<(typeof OUTPUT_ALIASES)[number], string> {
  return {
    detection_boxes: tensorJson(o.boxes, [MAX_DETECTIONS, 4]),
    detection_classes: tensorJson(o.classes, [MAX_DETECTIONS]),
    detection_scores: tensorJson(o.scores, [MAX_DETECTIONS]),
    num_detections: formatFloat32(o.num),
  };
}

const SORTED_OUTPUTS = [...OUTPUT_ALIASES].sort();

/** Row format: one object per image with every output; columnar: one object of batched outputs. */
export function predictJson(results: readonly DetectorOutput[], format: 'row' | 'columnar'): string {
  const perImage = results.map(outputsOf);
  if (format === 'row') {
    const rows = perImage.map((o) => `{${SORTED_OUTPUTS.map((k) => `"${k}":${o[k]}`).join(',')}}`);
    return `{"predictions":[${rows.join(',')}]}`;
  }
  const columns = SORTED_OUTPUTS.map((k) => `"${k}":[${perImage.map((o) => o[k]).join(',')}]`);
  return `{"outputs":{${columns.join(',')}}}`;
}

/** TensorInfo as protobuf's JSON printer gives it (int64 sizes as strings, defaults printed). */
function tensorInfoJson(info: TensorInfo): object {
  return {
    dtype: info.dtype,
    tensor_shape: {
      dim: (info.tensor_shape?.dim ?? []).map((d) => ({ size: String(d.size), name: d.name ?? '' })),
      unknown_rank: info.tensor_shape?.unknown_rank ?? false,
    },
    name: info.name ?? '',
  };
}

export function metadataJson(modelName: string, version: number): object {
  const defs: Record<string, object> = {};
  for (const [name, { def }] of Object.entries(SIGNATURES)) {
    const map = (m: Record<string, TensorInfo> | undefined) => Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, tensorInfoJson(v)]));
    defs[name] = { inputs: map(def.inputs), outputs: map(def.outputs), method_name: def.method_name ?? '', defaults: {} };
  }
  return {
    model_spec: { name: modelName, signature_name: '', version: String(version) },
    metadata: { signature_def: { signature_def: defs } },
  };
}

