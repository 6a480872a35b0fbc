// TF Serving's REST JSON as RestTfServingClient writes and reads it: frames as
// nested [H][W][3] lists, predict answers (row or columnar) as the tensors the
// gRPC answer would carry, status and metadata answers as their protos, and
// HTTP statuses as canonical codes. Facts relied on are listed in rest-client.ts.
import { status as Status } from '@grpc/grpc-js';
import type { ModelVersionInfo } from './client-common.js';
import { errorForStatus, statusName } from './errors.js';
import type { RgbImage } from './image-codec.js';
import { SignatureError, type DetectionSignature } from './signature.js';
import { TensorDecodeError } from './tensor.js';
import { DataType, type DataType__Output } from './generated/tensorflow/DataType.js';
import { _tensorflow_serving_ModelVersionStatus_State as States } from './generated/tensorflow/serving/ModelVersionStatus.js';
import type { SignatureDef__Output } from './generated/tensorflow/SignatureDef.js';
import type { TensorInfo__Output } from './generated/tensorflow/TensorInfo.js';
import type { TensorProto__Output } from './generated/tensorflow/TensorProto.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The canonical code for an HTTP status: the inverse of TF Serving's http_server.cc mapping. */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400: return Status.INVALID_ARGUMENT;
    case 401: return Status.UNAUTHENTICATED;
    case 403: return Status.PERMISSION_DENIED;
    case 404: return Status.NOT_FOUND;
    case 408: return Status.DEADLINE_EXCEEDED;
    case 409: return Status.ABORTED;
    // A body over the server's limit will not fit later either: not "busy".
    case 413: return Status.INVALID_ARGUMENT;
    case 429: return Status.RESOURCE_EXHAUSTED;
    case 499: return Status.CANCELLED;
    case 501: return Status.UNIMPLEMENTED;
    // 502: a gateway (KServe's ingress, a load balancer) with no server behind it.
    case 502:
    case 503: return Status.UNAVAILABLE;
    case 504: return Status.DEADLINE_EXCEEDED;
    default: return status >= 500 ? Status.INTERNAL : Status.UNKNOWN;
  }
}

/** JSON.parse, also taking the NaN and Infinity tokens TF Serving writes for non-finite floats (read as null). */
export function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    const patched = text.replace(/([[,:]\s*)-?(?:NaN|Infinity)(?=\s*[,\]}])/g, '$1null');
    if (patched === text) throw err;
    return JSON.parse(patched) as Json;
  }
}

const [OPEN, CLOSE, COMMA, ZERO] = [0x5b, 0x5d, 0x2c, 0x30];

/**
 * One RGB frame as the nested [H][W][3] lists a uint8 or float image input
 * takes in row format, written as bytes (about 4 per pixel byte) rather than
 * through strings: a 640×360 frame is some 3 MB of JSON.
 */
export function nestedRgb(img: RgbImage): Buffer {
  const { width, height, data } = img;
  const out = Buffer.allocUnsafe(2 + height * (3 + width * 14));
  let o = 0;
  const digits = (v: number): void => {
    if (v >= 100) out[o++] = ZERO + Math.floor(v / 100);
    if (v >= 10) out[o++] = ZERO + (Math.floor(v / 10) % 10);
    out[o++] = ZERO + (v % 10);
  };
  out[o++] = OPEN;
  for (let y = 0, i = 0; y < height; y++) {
    if (y > 0) out[o++] = COMMA;
    out[o++] = OPEN;
    for (let x = 0; x < width; x++, i += 3) {
      if (x > 0) out[o++] = COMMA;
      out[o++] = OPEN;
      digits(data[i]);
      out[o++] = COMMA;
      digits(data[i + 1]);
      out[o++] = COMMA;
      digits(data[i + 2]);
      out[o++] = CLOSE;
    }
    out[o++] = CLOSE;
  }
  out[o++] = CLOSE;
  return out.subarray(0, o);
}

/** A dense numeric tensor from nested lists: shape from the first path down, every list checked against it. */
function denseTensor(value: Json, name: string): TensorProto__Output {
  const shape: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
  let offset = 0;
  const walk = (v: Json, dim: number): void => {
    if (dim === shape.length) {
      if (typeof v === 'number') values[offset++] = v;
      else if (v === null) values[offset++] = NaN;
      else throw new TensorDecodeError(`output "${name}" holds ${JSON.stringify(v).slice(0, 64)} where a number belongs`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new TensorDecodeError(`output "${name}" is not a dense tensor of shape [${shape.join(',')}]`);
    }
    for (const item of v) walk(item, dim + 1);
  };
  walk(value, 0);
  return {
    dtype: 'DT_FLOAT',
    tensor_shape: { dim: shape.map((size) => ({ size, name: '' })), unknown_rank: false },
    version_number: 0,
    tensor_content: Buffer.from(values.buffer),
    float_val: [], double_val: [], int_val: [], string_val: [], scomplex_val: [], int64_val: [], bool_val: [],
    dcomplex_val: [], half_val: [], resource_handle_val: [], variant_val: [], uint32_val: [], uint64_val: [],
    float8_val: Buffer.alloc(0),
  };
}

/** The detector's outputs of a predict answer, row ("predictions") or columnar ("outputs"), as batched tensors. */
export function detectorOutputs(answer: Json, signature: DetectionSignature, batch: number): Record<string, TensorProto__Output> {
  const wanted = [signature.outputs.boxes, signature.outputs.scores, signature.outputs.classes, signature.outputs.numDetections];
  const columns: Record<string, Json> = {};
  if (isObject(answer) && Array.isArray(answer.predictions)) {
    const rows = answer.predictions;
    if (rows.length !== batch) throw new TensorDecodeError(`the answer has ${rows.length} predictions for ${batch} images`);
    if (!rows.every(isObject)) throw new TensorDecodeError('the answer\'s predictions are not named outputs; a detector has detection_boxes, detection_scores and detection_classes');
    for (const alias of wanted) if (alias && alias in rows[0]) columns[alias] = rows.map((r) => r[alias]);
  } else if (isObject(answer) && isObject(answer.outputs)) {
    for (const alias of wanted) if (alias && alias in answer.outputs) columns[alias] = answer.outputs[alias];
  } else {
    throw new TensorDecodeError('the answer has neither "predictions" nor "outputs"');
  }
  return Object.fromEntries(Object.entries(columns).map(([alias, value]) => [alias, denseTensor(value, alias)]));
}

function tensorInfo(value: Json | undefined, where: string): TensorInfo__Output {
  if (!isObject(value)) throw new SignatureError(`metadata: ${where} is not a TensorInfo object`);
  const dtype = typeof value.dtype === 'string' && value.dtype in DataType ? (value.dtype as DataType__Output) : 'DT_INVALID';
  const shape = isObject(value.tensor_shape) ? value.tensor_shape : undefined;
  const dims = shape && Array.isArray(shape.dim) ? shape.dim : [];
  return {
    name: typeof value.name === 'string' ? value.name : '',
    dtype,
    // Protobuf's JSON printer writes int64 sizes as strings and may leave out a 0 size.
    tensor_shape: {
      dim: dims.map((d) => ({ size: isObject(d) && d.size !== undefined ? Number(d.size) : 0, name: isObject(d) && typeof d.name === 'string' ? d.name : '' })),
      unknown_rank: shape ? shape.unknown_rank === true : true,
    },
  };
}

export function signatureDef(value: JsonObject, name: string): SignatureDef__Output {
  const map = (m: Json | undefined, what: string): Record<string, TensorInfo__Output> =>
    Object.fromEntries(Object.entries(isObject(m) ? m : {}).map(([k, v]) => [k, tensorInfo(v, `signature "${name}" ${what} "${k}"`)]));
  return {
    inputs: map(value.inputs, 'input'),
    outputs: map(value.outputs, 'output'),
    method_name: typeof value.method_name === 'string' ? value.method_name : '',
    defaults: {},
  };
}

/** A status answer's versions (TF Serving's model status; KServe's {"ready"} reads as version 0). */
export function versionsFromStatus(answer: Json): ModelVersionInfo[] {
  if (isObject(answer) && typeof answer.ready === 'boolean' && !('model_version_status' in answer)) {
    return [{ version: 0, state: answer.ready ? 'AVAILABLE' : 'LOADING' }];
  }
  const list = isObject(answer) ? answer.model_version_status : undefined;
  if (!Array.isArray(list)) throw errorForStatus(Status.INTERNAL, 'the status answer has no model_version_status list', 'GetModelStatus');
  return list.filter(isObject).map((s) => {
    const state = typeof s.state === 'string' && s.state in States ? States[s.state as keyof typeof States] : 'UNKNOWN';
    const status = isObject(s.status) ? s.status : undefined;
    const code = status?.error_code === undefined ? 'OK' : typeof status.error_code === 'number' ? statusName(status.error_code) : String(status.error_code);
    return {
      version: Number(s.version ?? 0),
      state,
      ...(code !== 'OK' ? { error: { code, message: typeof status?.error_message === 'string' ? status.error_message : '' } } : {}),
    };
  });
}
