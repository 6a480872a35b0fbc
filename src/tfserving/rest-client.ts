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
import { onAbort } from '../util/abortable.js';
import {
  detectInBatches,
  readyFromStatus,
  rgbBatch,
  SignatureCache,
  waitForAvailable,
  type CallOptions,
  type ClientOptions,
  type DetectResult,
  type ModelVersionInfo,
} from './client-common.js';
import { decodeDetections } from './detections.js';
import { errorForStatus, InvalidRequestError, TfServingError } from './errors.js';
import { toJpeg } from './image-codec.js';
import { cocoLabelMap, type LabelMap } from './label-map.js';
import { codeForHttpStatus, detectorOutputs, isObject, nestedRgb, parseJson, signatureDef, versionsFromStatus, type Json } from './rest-codec.js';
import { detectionSignature, SignatureError, type DetectionSignature } from './signature.js';

export interface RestTfServingClientOptions extends ClientOptions {
  /** "http://host:port" (or https, with a path prefix if a gateway needs one). */
  baseUrl: string;
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
  private readonly signatures = new SignatureCache(() => this.discover());

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
    const timer = setTimeout(end('deadline'), deadlineMs);
    const stopClose = onAbort(this.closer.signal, end('closed'));
    const stopCaller = onAbort(options.signal, end('caller'));
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
      stopClose();
      stopCaller();
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
    return versionsFromStatus(await this.call('GetModelStatus', this.modelPath, undefined, options));
  }

  ready(options?: CallOptions): Promise<boolean> {
    return readyFromStatus(this, options);
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return waitForAvailable(this, timeoutMs, signal);
  }


  /** The serving signature from the metadata endpoint, learned once; one caller's abort only stops its own wait. */
  async signature(options?: CallOptions): Promise<DetectionSignature> {
    return this.signatures.get(options?.signal);
  }

  forgetSignature(): void {
    this.signatures.forget();
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

  detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult> {
    return detectInBatches(images, options, (o) => this.signature(o), (batch, signature, o) => this.detectBatch(batch, signature, o));
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
      this.signatures.forgetIfStale(err);
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
    return (await rgbBatch(images)).map(nestedRgb);
  }

  /** Aborts calls in flight (CANCELLED); later calls fail at once. Safe to call twice. */
  close(): void {
    this.closer.abort();
  }
}
