// TF Serving's REST API in front of the embedded model server, so clients of
// TF Serving's (or KServe's v1) HTTP/JSON protocol work against it as they do
// against `tensorflow_model_server --rest_api_port`.
//
// Facts relied on (tensorflow/serving: g3doc/api_rest.md, model_servers/
// http_rest_api_util.cc, http_rest_api_handler.cc, http_server.cc,
// util/json_tensor.cc, servables/tensorflow/testdata/*_metadata.json):
// - routes: POST /v1/models/NAME[/versions/N|/labels/L]:(classify|regress|predict),
//   GET /v1/models/NAME[/versions/N|/labels/L][/metadata]; the path match is
//   case-insensitive, the verb compare is not; anything else is
//   "Malformed request: METHOD PATH" (INVALID_ARGUMENT);
// - predict bodies: optional string "signature_name", and "instances" (row
//   format, answered with "predictions") or "inputs" (columnar, answered with
//   "outputs"), never both; a binary DT_STRING value is {"b64": "…"};
// - status is GetModelStatusResponse printed by protobuf's JSON printer with
//   primitive fields always printed (int64 version as a string, enum names);
//   metadata is {"model_spec": …, "metadata": {"signature_def": <SignatureDefMap>}}
//   printed with proto field names, so the map sits under signature_def twice;
// - errors are {"error": "message"}; HTTP status from the canonical code:
//   INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE 400, NOT_FOUND 404,
//   RESOURCE_EXHAUSTED 429, UNIMPLEMENTED 501, UNAVAILABLE 503,
//   DEADLINE_EXCEEDED 504, CANCELLED 499, others 500;
// - --rest_api_timeout_in_ms defaults to 30000 and bounds each call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, ServerError, statusName, TfServingError } from '../tfserving/errors.js';
import { MAX_REQUEST_BYTES, planImageInput, type ImageInputPlan } from './predict-request.js';
import { metadataJson, predictJson } from './rest-answers.js';
import { parsePredictBody, readSignatureName } from './rest-body.js';
import { httpStatusForCode, route, type Route } from './rest-routes.js';
import type { ServableRef, ServingCore } from './serving-core.js';
import type { TfServingMetrics } from './tf-metrics.js';
import { refuseExampleMethod } from './example-methods.js';

import { DEFAULT_SIGNATURE, SIGNATURES } from './signatures.js';

/** TF Serving's --rest_api_timeout_in_ms default. */
export const REST_TIMEOUT_MS = 30_000;
/** Largest body taken: the gRPC receive limit, so both front-ends take the same request sizes. */
export const MAX_BODY_BYTES = MAX_REQUEST_BYTES + 1024 * 1024;

export interface RestApiOptions {
  /** Each call's deadline, as TF Serving's --rest_api_timeout_in_ms. Default 30 000. */
  timeoutMs?: number;
  /** TF Serving's own metrics: every /v1 request counted (tf-metrics.ts). */
  metrics?: TfServingMetrics;
  /** Where they are served, as --monitoring_config_file's prometheus_config.path; absent: not served. */
  monitoringPath?: string;
  /** Largest request body; bigger ones get 413. Default MAX_BODY_BYTES. */
  maxBodyBytes?: number;
}

class BodyTooLargeError extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(`request body of ${declared} bytes exceeds this server's limit of ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(new BodyTooLargeError(`request body exceeds this server's limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client that hangs up mid-body ends the wait too.
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

/** Predict bodies read or parsed at once (each up to maxBodyBytes). */
export const MAX_BODIES = 8;

export class RestApi {
  private bodies = 0;
  /** Predict requests refused because MAX_BODIES were being read. */
  bodiesRefused = 0;
  private readonly server: http.Server;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly metrics: TfServingMetrics | undefined;
  private readonly monitoringPath: string | undefined;
  private boundPort = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly core: ServingCore, options: RestApiOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? REST_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.metrics = options.metrics;
    this.monitoringPath = options.monitoringPath;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.reply(res, 500, { error: err instanceof Error ? err.message : String(err) }));
    });
  }

  get port(): number {
    return this.boundPort;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve(this.boundPort);
      });
    });
  }

  private reply(res: http.ServerResponse, status: number, body: object | string, close = false): void {
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      // While closing, keep-alive connections end with their answer instead of holding close() up.
      ...(close || this.closing ? { Connection: 'close' } : {}),
    });
    res.end(text);
  }

  private fail(res: http.ServerResponse, err: unknown): void {
    if (err instanceof BodyTooLargeError) {
      // The rest of the body is not read: say so and close rather than drain it.
      this.reply(res, 413, { error: err.message }, true);
      return;
    }
    const code = err instanceof TfServingError ? err.code : Status.INTERNAL;
    const details = err instanceof TfServingError ? err.details : err instanceof Error ? err.message : String(err);
    this.reply(res, httpStatusForCode(code), { error: details });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    // TF Serving answers its Prometheus path exactly, before its /v1 dispatcher.
    if (this.metrics && this.monitoringPath !== undefined && path === this.monitoringPath) {
      req.resume();
      this.replyText(res, this.metrics.exposition());
      return;
    }
    const started = performance.now();
    /** How the request is counted: every /v1 request, a malformed one too (its model as the path names it, maybe empty). */
    let counted: { model: string; api: string } | undefined;
    let status = 'OK';
    try {
      if (!/^\/v1\//i.test(path)) {
        // TF Serving only dispatches /v1/… to its REST handler.
        req.resume();
        this.reply(res, 404, { error: `Not found: ${method} ${path}` });
        return;
      }
      const verb = /:([^/:]*)$/.exec(path)?.[1];
      counted = { model: /^\/v1\/models\/([^/:]*)/i.exec(path)?.[1] ?? '', api: method === 'POST' && verb !== undefined ? verb : '' };
      const r = route(method, path);
      counted = { model: r.model, api: r.kind === 'predict' || r.kind === 'unimplemented' ? r.verb : '' };
      if (r.kind === 'status') {
        req.resume();
        const statuses = this.core.status(r.model, r.version, r.label);
        this.reply(res, 200, { model_version_status: statuses.map((s) => ({ version: String(s.version), state: s.state, status: s.status })) });
        return;
      }
      if (r.kind === 'metadata') {
        req.resume();
        const servable = this.core.acquire(r.model, r.version, r.label);
        servable.release();
        this.reply(res, 200, metadataJson(servable.name, servable.version));
        return;
      }
      // Bodies being read or parsed are held whole in memory, before the
      // model's queue can bound them: at most MAX_BODIES at once, the rest
      // answered as TF Serving answers a full queue (and counted).
      if (this.bodies >= MAX_BODIES) {
        req.resume();
        this.bodiesRefused++;
        throw new ServerError(Status.RESOURCE_EXHAUSTED, `too many predict requests being read (${MAX_BODIES}); try again`);
      }
      this.bodies++;
      try {
        const body = await readBody(req, this.maxBodyBytes);
        if (r.kind === 'unimplemented') {
          // :classify and :regress need a signature a detector does not have: refused as gRPC refuses them
          // (example-methods.ts), for the signature the body names, once its JSON is read, as TF Serving reads it first.
          const signatureName = readSignatureName(body);
          this.core.acquire(r.model, r.version, r.label).release();
          refuseExampleMethod(r.verb.toLowerCase() === 'regress' ? 'regress' : 'classify', signatureName);
        }
        await this.predict(r, body, res);
      } finally {
        this.bodies--;
      }
    } catch (err) {
      status = err instanceof TfServingError ? statusName(err.code) : err instanceof BodyTooLargeError ? 'INVALID_ARGUMENT' : 'INTERNAL';
      this.fail(res, err);
    } finally {
      // Every /v1 request is counted, status and metadata GETs too (their API label is empty), as TF Serving counts them.
      if (counted) this.metrics?.request(counted.model, status, counted.api, 'REST', (performance.now() - started) * 1000);
    }
  }

  private replyText(res: http.ServerResponse, text: string): void {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** In TF Serving's order: JSON syntax, signature_name, servable, signature, tensors, then the model. */
  private async predict(r: Route, body: Buffer, res: http.ServerResponse): Promise<void> {
    // The hold on the version the lookup found, from the lookup until the answer is sent.
    let servable: ServableRef | undefined;
    try {
      const request = parsePredictBody(body, (signatureName) => {
        servable = this.core.acquire(r.model, r.version, r.label);
        const name = signatureName || DEFAULT_SIGNATURE;
        const signature = SIGNATURES[name];
        if (!signature) throw invalidArgument(`Serving signature name: "${name}" not found in signature def`);
        return signature.kind === 'uint8' ? 'DT_UINT8' : 'DT_STRING';
      });
      if (!servable) throw new Error('the predict body was read without a servable lookup');
      const kind = request.tensor.dtype === 'DT_UINT8' ? 'uint8' : 'jpeg';
      const plan = planImageInput(request.tensor, kind);
      await this.run(servable, plan, request.format, res);
    } finally {
      servable?.release();
    }
  }

  /**
   * The client hanging up or the deadline passing cancels the call: a frame
   * still queued leaves the queue; one already on a worker runs to its end, but
   * the caller is answered at the deadline, as TF Serving's session-run timeout answers it.
   */
  private async run(servable: ServableRef, plan: ImageInputPlan, format: 'row' | 'columnar', res: http.ServerResponse): Promise<void> {
    const controller = new AbortController();
    let expire!: (err: Error) => void;
    const expired = new Promise<never>((_, reject) => {
      expire = reject;
    });
    expired.catch(() => undefined);
    const timer = setTimeout(() => {
      expire(new TfServingError(Status.DEADLINE_EXCEEDED, 'Deadline Exceeded'));
      controller.abort();
    }, this.timeoutMs);
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', onClose);
    try {
      const work = servable.predict(plan, controller.signal);
      work.catch(() => undefined);
      const results = await Promise.race([work, expired]);
      this.reply(res, 200, predictJson(results, format));
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  }

  /**
   * Stops taking connections, lets calls in flight finish for up to graceMs,
   * then cuts the rest. Safe to call twice.
   */
  close(graceMs = 5_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // Keep-alive connections with no request in flight need not wait.
      this.server.closeIdleConnections();
    });
    return this.closing;
  }
}
