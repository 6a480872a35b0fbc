// What a served detector takes and returns, learned from GetModelMetadata.
import { LookoutError } from '../util/errors.js';
import type { SignatureDef__Output } from './generated/tensorflow/SignatureDef.js';
import type { TensorInfo__Output } from './generated/tensorflow/TensorInfo.js';
import type { DataType__Output } from './generated/tensorflow/DataType.js';

export class SignatureError extends LookoutError {
  readonly code = 'SIGNATURE_UNSUPPORTED';
}

/**
 * How images go in:
 * - `uint8`: image_tensor, DT_UINT8 [batch, H, W, 3] raw RGB;
 * - `float`: float_image_tensor, DT_FLOAT [batch, H, W, 3] with values 0–255;
 * - `jpeg`: encoded_image_string_tensor, DT_STRING [batch] of encoded images.
 */
export type ImageEncoding = 'uint8' | 'float' | 'jpeg';

export interface DetectionSignature {
  signatureName: string;
  /** Version that answered the metadata call. */
  modelVersion: number;
  inputAlias: string;
  inputDtype: DataType__Output;
  encoding: ImageEncoding;
  /** The input's declared shape; -1 marks a free dimension. Empty when the rank is unknown. */
  inputShape: number[];
  /** Largest batch one call may carry: 1 for TF2 exports ([1, -1, -1, 3]), else unbounded. */
  maxBatch: number;
  /** Output aliases of the Object Detection API that this signature has. */
  outputs: {
    boxes: string;
    scores: string;
    classes: string;
    numDetections: string | undefined;
  };
  /** Every output alias, as the server lists them. */
  allOutputs: string[];
}

function dims(info: TensorInfo__Output): number[] {
  if (!info.tensor_shape || info.tensor_shape.unknown_rank) return [];
  return info.tensor_shape.dim.map((d) => Number(d.size));
}

function encodingOf(alias: string, info: TensorInfo__Output): ImageEncoding {
  const shape = dims(info);
  const imageShape = shape.length === 0 || (shape.length === 4 && (shape[3] === 3 || shape[3] === -1));
  if (info.dtype === 'DT_UINT8' && imageShape) return 'uint8';
  if (info.dtype === 'DT_FLOAT' && imageShape) return 'float';
  if (info.dtype === 'DT_STRING' && (shape.length <= 1)) return 'jpeg';
  throw new SignatureError(
    `input "${alias}" is ${info.dtype} [${shape.join(',')}]; lookout sends images as DT_UINT8 or DT_FLOAT [batch,H,W,3] or as DT_STRING [batch] JPEG`,
  );
}

/** Picks the detector's input and outputs out of a SignatureDef. */
export function detectionSignature(name: string, def: SignatureDef__Output, modelVersion: number): DetectionSignature {
  const inputs = Object.entries(def.inputs);
  if (inputs.length !== 1) {
    throw new SignatureError(`signature "${name}" has ${inputs.length} inputs (${inputs.map(([k]) => k).join(', ') || 'none'}); a detector has exactly one image input`);
  }
  const [inputAlias, inputInfo] = inputs[0];
  const encoding = encodingOf(inputAlias, inputInfo);
  const inputShape = dims(inputInfo);
  const outputNames = Object.keys(def.outputs);
  const need = (alias: string): string => {
    if (!(alias in def.outputs)) {
      throw new SignatureError(`signature "${name}" has no "${alias}" output (it has: ${outputNames.join(', ') || 'none'})`);
    }
    return alias;
  };
  return {
    signatureName: name,
    modelVersion,
    inputAlias,
    inputDtype: inputInfo.dtype,
    encoding,
    inputShape,
    maxBatch: inputShape.length > 0 && inputShape[0] > 0 ? inputShape[0] : Number.POSITIVE_INFINITY,
    outputs: {
      boxes: need('detection_boxes'),
      scores: need('detection_scores'),
      classes: need('detection_classes'),
      numDetections: 'num_detections' in def.outputs ? 'num_detections' : undefined,
    },
    allOutputs: outputNames,
  };
}
