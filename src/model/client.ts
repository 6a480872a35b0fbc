// What lookout's stages hold of the model server, whichever server it is
// (TF Serving, or lookout's embedded one) and whichever protocol reaches it
// (gRPC or REST). tfserving/'s TfServingClient and RestTfServingClient both
// have this shape; model/connection.ts picks one. The scheduler, the HTTP
// routes and `lookout detect` depend on this, never on a protocol.
import type { ImageInput } from '../types.js';
import type { CallOptions, DetectResult, ModelVersionInfo } from '../tfserving/client.js';
import type { DetectionSignature } from '../tfserving/signature.js';

export type { CallOptions, DetectResult, ModelVersionInfo };

export interface ModelClient {
  readonly modelName: string;
  readonly signatureName: string;
  /** Where calls go: gRPC targets, or the REST base URL. */
  readonly targets: readonly string[];
  /** Every version the server reports for the model. */
  modelStatus(options?: CallOptions): Promise<ModelVersionInfo[]>;
  /** Whether a version is AVAILABLE; false (not an error) when the server cannot say. */
  ready(options?: CallOptions): Promise<boolean>;
  /** Polls until a version is AVAILABLE; rejects with DEADLINE_EXCEEDED after timeoutMs. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** The serving signature, discovered once from the model's metadata and cached. */
  signature(options?: CallOptions): Promise<DetectionSignature>;
  forgetSignature(): void;
  /** Detections per image, in order, named from the label map, below minScore left out. */
  detect(images: readonly ImageInput[], options?: CallOptions): Promise<DetectResult>;
  /** Calls in flight end or fail with CANCELLED; later ones fail at once. Safe to call twice. */
  close(): void;
}
