// TF Serving's gRPC API over the served model: PredictionService Predict and
// GetModelMetadata, ModelService GetModelStatus, checked and answered as
// TF Serving checks and answers them, so the same client code talks to this
// server and to a real TF Serving.
import * as grpc from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { invalidArgument, InvalidRequestError, statusName, TfServingError } from '../tfserving/errors.js';
import { SIGNATURE_DEF_MAP_TYPE_URL, tfServingProtos } from '../tfserving/protos.js';
import { floatTensor } from '../tfserving/tensor.js';
import type { ModelSpec__Output } from '../tfserving/generated/tensorflow/serving/ModelSpec.js';
import type { PredictRequest__Output } from '../tfserving/generated/tensorflow/serving/PredictRequest.js';
import type { PredictResponse } from '../tfserving/generated/tensorflow/serving/PredictResponse.js';
import type { GetModelMetadataRequest__Output } from '../tfserving/generated/tensorflow/serving/GetModelMetadataRequest.js';
import type { GetModelMetadataResponse } from '../tfserving/generated/tensorflow/serving/GetModelMetadataResponse.js';
import type { GetModelStatusRequest__Output } from '../tfserving/generated/tensorflow/serving/GetModelStatusRequest.js';
import type { GetModelStatusResponse } from '../tfserving/generated/tensorflow/serving/GetModelStatusResponse.js';
import type { TensorProto } from '../tfserving/generated/tensorflow/TensorProto.js';
import { MAX_DETECTIONS, type DetectorOutput } from './centernet.js';
import { checkInputAliases, checkOutputFilter, MAX_REQUEST_BYTES, planImageInput } from './predict-request.js';
import type { ServableRef, ServingCore } from './serving-core.js';
import type { ModelFleet } from './model-fleet.js';
import { handleReloadConfig } from './reload-request.js';
import type { ReloadConfigRequest__Output } from '../tfserving/generated/tensorflow/serving/ReloadConfigRequest.js';
import type { TfApi, TfServingMetrics } from './tf-metrics.js';
import { refuseExampleMethod, refuseInference, type ExampleMethod } from './example-methods.js';
import type { ClassificationRequest__Output } from '../tfserving/generated/tensorflow/serving/ClassificationRequest.js';
import type { RegressionRequest__Output } from '../tfserving/generated/tensorflow/serving/RegressionRequest.js';
import type { MultiInferenceRequest__Output } from '../tfserving/generated/tensorflow/serving/MultiInferenceRequest.js';
import { DEFAULT_SIGNATURE, SIGNATURES, type OutputAlias } from './signatures.js';

/** TF Serving cuts error messages at 1024 characters. */
function truncate(details: string): string {
  return details.length > 1024 ? `${details.slice(0, 1024)}...TRUNCATED` : details;
}

function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof TfServingError) return { code: err.code, details: truncate(err.details) };
  return { code: Status.INTERNAL, details: truncate(err instanceof Error ? err.message : String(err)) };
}

function concat(outputs: readonly DetectorOutput[], pick: (o: DetectorOutput) => Float32Array): Float32Array {
  if (outputs.length === 1) return pick(outputs[0]);
  const size = pick(outputs[0]).length;
  const all = new Float32Array(outputs.length * size);
  outputs.forEach((o, i) => all.set(pick(o), i * size));
  return all;
}

/** The version a ModelSpec asks for, and its label, as the servable lookup takes them. */
function requestedVersion(spec: ModelSpec__Output): { version: number | undefined; label: string | undefined } {
  return {
    version: spec.version_choice === 'version' && spec.version ? Number(spec.version.value) : undefined,
    label: spec.version_choice === 'version_label' ? spec.version_label : undefined,
  };
}

export class GrpcService {
  private readonly server: grpc.Server;
  private boundPort = 0;

  /** `tensorContent`: answer with tensor_content instead of typed *_val fields. */
  constructor(private readonly core: ServingCore, private readonly tensorContent: boolean, private readonly metrics?: TfServingMetrics, fleet?: ModelFleet) {
    this.server = new grpc.Server({
      // TF Serving takes messages up to 2 GiB; a CPU server taking 64 full-HD
      // frames at most needs far less, and a smaller bound caps what one call can cost.
      'grpc.max_receive_message_length': MAX_REQUEST_BYTES + 1024 * 1024,
      'grpc.max_send_message_length': -1,
      // Calls beyond this per connection wait in HTTP/2 instead of piling up decoded here.
      'grpc.max_concurrent_streams': 256,
    });
    const protos = tfServingProtos();
    this.server.addService(protos.prediction.tensorflow.serving.PredictionService.service, {
      Predict: this.unary((req: PredictRequest__Output, signal) => this.predict(req, signal), 'Predict'),
      GetModelMetadata: this.unary((req: GetModelMetadataRequest__Output) => this.metadata(req)),
      // A detector has no classify or regress signature: these answer as TF Serving does for one (example-methods.ts).
      Classify: this.unary((req: ClassificationRequest__Output) => this.refuse('classify', req.model_spec), 'Classify'),
      Regress: this.unary((req: RegressionRequest__Output) => this.refuse('regress', req.model_spec), 'Regress'),
      MultiInference: this.unary((req: MultiInferenceRequest__Output) => {
        // TF Serving looks up the first task's model (an empty spec without tasks), then fails on that task.
        const first = req.tasks[0];
        this.acquire(first?.model_spec ?? { name: '', signature_name: '', version_choice: undefined }).release();
        return refuseInference({ signatureName: first?.model_spec?.signature_name ?? '', methodName: first?.method_name ?? '' });
      }),
    });
    this.server.addService(protos.model.tensorflow.serving.ModelService.service, {
      GetModelStatus: this.unary((req: GetModelStatusRequest__Output) => this.status(req)),
      HandleReloadConfigRequest: this.unary((req: ReloadConfigRequest__Output) => handleReloadConfig(fleet, req)),
    });
  }

  get port(): number {
    return this.boundPort;
  }

  /** Binds the port (0 picks a free one); calls are answered from then on. */
  async bind(port: number, host: string): Promise<number> {
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${hostPart}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    return this.boundPort;
  }

  /** Cuts every call and unbinds at once. */
  forceShutdown(): void {
    this.server.forceShutdown();
  }

  /** Stops taking calls, lets those in flight finish for up to graceMs, then cuts the rest. */
  close(graceMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** `api`: a call TF Serving counts in its metrics (Predict, Classify, Regress; not the status and metadata calls). */
  private unary<Req, Res>(handler: (request: Req, signal: AbortSignal) => Promise<Res> | Res, api?: TfApi): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const controller = new AbortController();
      const onCancel = (): void => controller.abort();
      call.on('cancelled', onCancel);
      const started = performance.now();
      const count = (code: Status): void => {
        if (!api || !this.metrics) return;
        const model = (call.request as { model_spec?: { name?: string } | null }).model_spec?.name ?? '';
        this.metrics.request(model, statusName(code), api, 'GRPC', (performance.now() - started) * 1000);
      };
      Promise.resolve()
        .then(() => handler(call.request, controller.signal))
        .then(
          (response) => {
            count(Status.OK);
            callback(null, response);
          },
          (err: unknown) => {
            const failure = toServiceError(err);
            count(failure.code ?? Status.UNKNOWN);
            callback(failure);
          },
        )
        .finally(() => call.off('cancelled', onCancel));
    };
  }

  /** Classify or Regress on a detector: the model looked up as for Predict, then the signature refused. */
  private refuse(method: ExampleMethod, spec: ModelSpec__Output | null): never {
    this.acquire(spec).release();
    return refuseExampleMethod(method, spec?.signature_name ?? '');
  }

  /** Looks model_spec up the way TF Serving's servable lookup does: a hold on the version, to release when done. */
  private acquire(spec: ModelSpec__Output | null): ServableRef {
    if (!spec) throw invalidArgument('Missing ModelSpec');
    const { version, label } = requestedVersion(spec);
    return this.core.acquire(spec.name, version, label);
  }

  private signatureFor(spec: ModelSpec__Output) {
    const name = spec.signature_name || DEFAULT_SIGNATURE;
    const signature = SIGNATURES[name];
    if (!signature) throw new InvalidRequestError(Status.FAILED_PRECONDITION, `Serving signature key "${name}" not found.`);
    return { name, ...signature };
  }

  private async predict(request: PredictRequest__Output, signal: AbortSignal): Promise<PredictResponse> {
    const servable = this.acquire(request.model_spec);
    try {
      const signature = this.signatureFor(request.model_spec as ModelSpec__Output);
      const plan = planImageInput(checkInputAliases(request.inputs), signature.kind);
      const wanted = checkOutputFilter(request.output_filter);
      const results = await servable.predict(plan, signal);
      const n = results.length;
      const tensors: Record<OutputAlias, () => TensorProto> = {
        detection_boxes: () => floatTensor([n, MAX_DETECTIONS, 4], concat(results, (o) => o.boxes), this.tensorContent),
        detection_scores: () => floatTensor([n, MAX_DETECTIONS], concat(results, (o) => o.scores), this.tensorContent),
        detection_classes: () => floatTensor([n, MAX_DETECTIONS], concat(results, (o) => o.classes), this.tensorContent),
        num_detections: () => floatTensor([n], Float32Array.from(results, (o) => o.num), this.tensorContent),
      };
      const outputs: Record<string, TensorProto> = {};
      for (const alias of wanted) outputs[alias] = tensors[alias]();
      // The version that answered: with no version asked, the newest AVAILABLE one at the time of the lookup.
      return { model_spec: { name: servable.name, version: { value: servable.version }, signature_name: signature.name }, outputs };
    } finally {
      servable.release();
    }
  }

  private metadata(request: GetModelMetadataRequest__Output): GetModelMetadataResponse {
    if (!request.model_spec) throw invalidArgument('Missing ModelSpec');
    if (request.metadata_field.length === 0) {
      throw invalidArgument('GetModelMetadataRequest must specify at least one metadata_field');
    }
    for (const field of request.metadata_field) {
      if (field !== 'signature_def') throw invalidArgument(`Metadata field ${field} is not supported`);
    }
    const servable = this.acquire(request.model_spec);
    servable.release();
    const signatureDefs = Object.fromEntries(Object.entries(SIGNATURES).map(([name, s]) => [name, s.def]));
    return {
      model_spec: { name: servable.name, version: { value: servable.version } },
      metadata: {
        signature_def: { type_url: SIGNATURE_DEF_MAP_TYPE_URL, value: tfServingProtos().encodeSignatureDefMap({ signature_def: signatureDefs }) },
      },
    };
  }

  private status(request: GetModelStatusRequest__Output): GetModelStatusResponse {
    const spec = request.model_spec;
    if (!spec) throw invalidArgument('Missing ModelSpec');
    const { version, label } = requestedVersion(spec);
    return { model_version_status: this.core.status(spec.name, version, label) };
  }
}
