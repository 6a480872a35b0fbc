// The TF Serving client over REST: the same surface as TfServingClient, for a
// model server reached as http(s)://host:port (TF Serving's --rest_api_port,
// or a KServe v1 endpoint). Facts relied on, from TF Serving's api_rest.md and
// util/json_tensor.cc: GET /v1/models/NAME[/versions/N|/labels/L] answers
// {"model_version_status": [...]} and …/metadata answers {"model_spec",
// "metadata": {"signature_def": {"signature_def": {...}}}}; POST …:predict takes
// {"signature_name", "instances": [...]} and answers {"predictions": [...]},
// one object per image when there are several outputs; a DT_STRING value
// carries bytes as {"b64": "…"}; errors are {"error": "…"} with the HTTP
// status of the canonical code (400, 404, 429, 501, 503, 504, …).
import { status as Status } from '@grpc/grpc-js';
import type { ImageInput } from '../types.js';
import { ImageBatchError, type CallOptions, type DetectResult, type ModelVersionInfo } from './client.js';
import { decodeDetections } from './detections.js';
import { errorForStatus, InvalidRequestError, ModelNotFoundError, statusName, TfServingError } from './errors.js';
import { toJpeg, toRgb, type RgbImage } from './image-codec.js';
import { cocoLabelMap, type LabelMap } from './label-map.js';
import { detectInParts, readyFromStatus, waitForAvailable, type ClientOptions } from './client-common.js';
import { detectionSignature, SignatureError, type DetectionSignature } from './signature.js';
import { TensorDecodeError } from './tensor.js';
import { DataType, type DataType__Output } from './generated/tensorflow/DataType.js';
import { _tensorflow_serving_ModelVersionStatus_State as States } from './generated/tensorflow/serving/ModelVersionStatus.js';
import type { SignatureDef__Output } from './generated/tensorflow/SignatureDef.js';
import type { TensorInfo__Output } from './generated/tensorflow/TensorInfo.js';
import type { TensorProto__Output } from './generated/tensorflow/TensorProto.js';

export interface RestTfServingClientOptions extends ClientOptions {
  /** "http://host:port" (or https, with a path prefix if a gateway needs one). */
  baseUrl: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

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
function parseJson(text: string): Json {
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
function nestedRgb(img: RgbImage): Buffer {
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
function detectorOutputs(answer: Json, signature: DetectionSignature, batch: number): Record<string, TensorProto__Output> {
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

function signatureDef(value: JsonObject, name: string): SignatureDef__Output {
  const map = (m: Json | undefined, what: string): Record<string, TensorInfo__Output> =>
    Object.fromEntries(Object.entries(isObject(m) ? m : {}).map(([k, v]) => [k, tensorInfo(v, `signature "${name}" ${what} "${k}"`)]));
  return {
    inputs: map(value.inputs, 'input'),
    outputs: map(value.outputs, 'output'),
    method_name: typeof value.method_name === 'string' ? value.method_name : '',
    defaults: {},
  };
}

export class RestTfServingClient {
  readonly baseUrl: string;
  readonly targets: readonly string[];
  readonly modelName: string;
  readonly signatureName: string;
  private readonly deadlineMs: number;
  private readonly minScore: number;
  private readonly labelMap: LabelMap;
  private readonly jpegQuality: number;
  private readonly maxReceiveBytes: number;
  private readonly modelPath: string;
  /** Aborts every call in flight when the client closes. */
  private readonly closer = new AbortController();
  private signaturePromise: Promise<DetectionSignature> | undefined;

  constructor(options: RestTfServingClientOptions) {
    if (!options.modelName) throw new TypeError('RestTfServingClient: modelName is required');
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`RestTfServingClient: baseUrl must be an http:// or https:// URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`RestTfServingClient: baseUrl must be an http:// or https:// URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (options.version !== undefined && options.versionLabel !== undefined) {
      throw new TypeError('RestTfServingClient: give version or versionLabel, not both');
    }
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.targets = [this.baseUrl];
    this.modelName = options.modelName;
    this.signatureName = options.signatureName || 'serving_default';
    this.deadlineMs = options.deadlineMs ?? 10_000;
    this.minScore = options.minScore ?? 0;
    this.labelMap = options.labelMap ?? cocoLabelMap();
    this.jpegQuality = options.jpegQuality ?? 90;
    this.maxReceiveBytes = options.maxReceiveBytes ?? 64 * 1024 * 1024;
    this.modelPath = `/v1/models/${encodeURIComponent(options.modelName)}${
      options.version !== undefined ? `/versions/${options.version}` : options.versionLabel !== undefined ? `/labels/${encodeURIComponent(options.versionLabel)}` : ''
    }`;
  }

  /**
   * One HTTP call with the client's deadline; every failure becomes the typed
   * error of its canonical code, so callers (the scheduler's breaker) treat
   * REST and gRPC alike: refused or reset connections are UNAVAILABLE.
   */
  private async call(rpc: string, path: string, body: Buffer | undefined, options: CallOptions = {}): Promise<Json> {
    if (this.closer.signal.aborted) throw errorForStatus(Status.CANCELLED, 'client is closed', rpc);
    if (options.signal?.aborted) throw errorForStatus(Status.CANCELLED, 'aborted before the call', rpc);
    const deadlineMs = options.deadlineMs ?? this.deadlineMs;
    // One controller per call, its listeners removed when the call ends: the
    // client's own close signal lives as long as the client.
    const controller = new AbortController();
    let ended: 'closed' | 'caller' | 'deadline' | undefined;
    const end = (why: 'closed' | 'caller' | 'deadline') => (): void => {
      ended ??= why;
      controller.abort();
    };
    const onClose = end('closed');
    const onCaller = end('caller');
    const timer = setTimeout(end('deadline'), deadlineMs);
    this.closer.signal.addEventListener('abort', onClose, { once: true });
    options.signal?.addEventListener('abort', onCaller, { once: true });
    const failure = (err: unknown): TfServingError => {
      if (ended === 'closed') return errorForStatus(Status.CANCELLED, 'client is closed', rpc);
      if (ended === 'caller') return errorForStatus(Status.CANCELLED, 'aborted by the caller', rpc);
      if (ended === 'deadline') return errorForStatus(Status.DEADLINE_EXCEEDED, `no answer within ${deadlineMs} ms`, rpc);
      if (err instanceof TfServingError) return err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause ? `${cause.code ?? 'error'}: ${cause.message ?? ''}` : err instanceof Error ? err.message : String(err);
      return errorForStatus(Status.UNAVAILABLE, `${this.baseUrl}: ${why}`, rpc);
    };
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined ? {} : { body, headers: { 'Content-Type': 'application/json' } }),
        signal: controller.signal,
      });
      const text = await this.readCapped(res, rpc);
      if (res.ok) {
        try {
          return parseJson(text);
        } catch {
          throw errorForStatus(Status.INTERNAL, `the answer is not JSON: ${text.slice(0, 200)}`, rpc);
        }
      }
      let details = text.slice(0, 1024) || `HTTP ${res.status} ${res.statusText}`;
      try {
        const parsed = parseJson(text);
        if (isObject(parsed) && typeof parsed.error === 'string') details = parsed.error;
      } catch {
        // Not TF Serving's JSON error (a proxy's page): keep the text.
      }
      throw errorForStatus(codeForHttpStatus(res.status), details, rpc);
    } catch (err) {
      throw failure(err);
    } finally {
      clearTimeout(timer);
      this.closer.signal.removeEventListener('abort', onClose);
      options.signal?.removeEventListener('abort', onCaller);
    }
  }

  /** Reads an answer's body, refusing one over maxReceiveBytes as gRPC's receive limit does. */
  private async readCapped(res: Response, rpc: string): Promise<string> {
    const tooBig = (size: string): TfServingError =>
      errorForStatus(Status.RESOURCE_EXHAUSTED, `answer of ${size} bytes exceeds the client's limit of ${this.maxReceiveBytes}`, rpc);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.maxReceiveBytes) {
      await res.body?.cancel();
      throw tooBig(String(declared));
    }
    if (!res.body) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > this.maxReceiveBytes) throw tooBig(`more than ${size}`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  /** Every version the server reports (TF Serving's model status; KServe's {"ready"} reads as version 0). */
  async modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]> {
    const answer = await this.call('GetModelStatus', this.modelPath, undefined, options);
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

  ready(options?: CallOptions): Promise<boolean> {
    return readyFromStatus(this, options);
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForAvailable(this, timeoutMs, signal);
  }


  /** The serving signature from the metadata endpoint, learned once; one caller's abort only stops its own wait. */
  async signature(options?: CallOptions): Promise<DetectionSignature> {
    if (!this.signaturePromise) {
      const pending = this.discover();
      this.signaturePromise = pending;
      pending.catch(() => {
        if (this.signaturePromise === pending) this.signaturePromise = undefined;
      });
    }
    const signal = options?.signal;
    if (!signal) return this.signaturePromise;
    if (signal.aborted) throw errorForStatus(Status.CANCELLED, 'aborted before the call', 'GetModelMetadata');
    return new Promise<DetectionSignature>((resolve, reject) => {
      const onAbort = (): void => reject(errorForStatus(Status.CANCELLED, 'aborted while waiting', 'GetModelMetadata'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.signaturePromise!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  forgetSignature(): void {
    this.signaturePromise = undefined;
  }

  private async discover(): Promise<DetectionSignature> {
    const answer = await this.call('GetModelMetadata', `${this.modelPath}/metadata`, undefined);
    const metadata = isObject(answer) && isObject(answer.metadata) ? answer.metadata : undefined;
    const map = metadata && isObject(metadata.signature_def) ? metadata.signature_def.signature_def : undefined;
    if (!isObject(map)) throw new SignatureError('the metadata answer has no metadata.signature_def.signature_def map');
    const def = map[this.signatureName];
    if (!isObject(def)) {
      throw new InvalidRequestError(
        Status.FAILED_PRECONDITION,
        `Serving signature key "${this.signatureName}" not found. The model has: ${Object.keys(map).join(', ') || 'none'}`,
        'GetModelMetadata',
      );
    }
    const spec = isObject(answer) && isObject(answer.model_spec) ? answer.model_spec : {};
    return detectionSignature(this.signatureName, signatureDef(def, this.signatureName), Number(spec.version ?? 0) || 0);
  }

  async detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult> {
    if (images.length === 0) return { detections: [], modelVersion: 0, target: '' };
    const signature = await this.signature(options);
    if (images.length > signature.maxBatch) {
      return detectInParts(images, signature.maxBatch, (part, signal) => this.detectBatch(part, signature, { ...options, signal }), options?.signal);
    }
    return this.detectBatch(images, signature, options);
  }

  private async detectBatch(images: readonly ImageInput[], signature: DetectionSignature, options?: CallOptions): Promise<DetectResult> {
    const parts: Buffer[] = [Buffer.from(`{"signature_name":${JSON.stringify(signature.signatureName)},"instances":[`)];
    (await this.instances(images, signature)).forEach((instance, i) => parts.push(...(i > 0 ? [Buffer.from(',')] : []), instance));
    parts.push(Buffer.from(']}'));
    const body = Buffer.concat(parts);
    let answer: Json;
    try {
      answer = await this.call('Predict', `${this.modelPath}:predict`, body, options);
    } catch (err) {
      // A new model version may have a different signature: rediscover next time.
      if (err instanceof ModelNotFoundError || err instanceof InvalidRequestError) this.forgetSignature();
      throw err;
    }
    const outputs = detectorOutputs(answer, signature, images.length);
    const detections = decodeDetections(outputs, signature, images.length, { minScore: this.minScore, labelMap: this.labelMap });
    // REST answers carry no model_spec: the version is the one the metadata named.
    return { detections, modelVersion: signature.modelVersion, target: this.baseUrl };
  }

  /** JPEG as {"b64"} for a DT_STRING input; nested [H][W][3] lists for uint8 and float inputs. */
  private async instances(images: readonly ImageInput[], signature: DetectionSignature): Promise<Buffer[]> {
    if (signature.encoding === 'jpeg') {
      const jpegs = await Promise.all(images.map((img) => toJpeg(img, this.jpegQuality)));
      return jpegs.map((j) => Buffer.from(`{"b64":"${Buffer.from(j.buffer, j.byteOffset, j.byteLength).toString('base64')}"}`));
    }
    const rgb = await Promise.all(images.map(toRgb));
    const { width, height } = rgb[0];
    for (const img of rgb) {
      if (img.width !== width || img.height !== height) {
        throw new ImageBatchError(`a batch must hold images of one size: got ${width}x${height} and ${img.width}x${img.height}`);
      }
      if (img.data.byteLength !== width * height * 3) {
        throw new ImageBatchError(`an RGB image of ${width}x${height} needs ${width * height * 3} bytes, got ${img.data.byteLength}`);
      }
    }
    return rgb.map(nestedRgb);
  }

  /** Aborts calls in flight (CANCELLED); later calls fail at once. Safe to call twice. */
  close(): void {
    this.closer.abort();
  }
}
