// Checks a PredictRequest the way TF Serving does, and turns its image tensor
// into frames. Every refusal carries the status code and wording TF Serving uses.
//
// Checking is split from decoding: the cheap checks run first, the server
// reserves queue room for the batch, and only then are images decoded.
import { invalidArgument } from '../tfserving/errors.js';
import { decodeImage, MAX_DECODE_PIXELS } from '../tfserving/image-codec.js';
import { elementCount, shapeOf } from '../tfserving/tensor.js';
import type { TensorProto__Output } from '../tfserving/generated/tensorflow/TensorProto.js';
import type { RgbFrame } from './detector.js';
import { INPUT_ALIAS, OUTPUT_ALIASES, type InputKind, type OutputAlias } from './signatures.js';

/** Largest side accepted, so one request cannot make a worker allocate gigabytes. */
export const MAX_IMAGE_SIDE = 8192;
export const MAX_BATCH = 64;
/** Largest decoded request: also the gRPC receive limit, so raw frames and expanded int_val meet the same bound. */
export const MAX_REQUEST_BYTES = 256 * 1024 * 1024;


export function checkInputAliases(inputs: Record<string, TensorProto__Output>): TensorProto__Output {
  const sent = Object.keys(inputs);
  if (sent.length === 1 && sent[0] === INPUT_ALIAS) return inputs[INPUT_ALIAS];
  if (sent.length === 0) {
    throw invalidArgument(`Signature input alias: ${INPUT_ALIAS} not found in request and no default value provided. Inputs expected to be in the set {${INPUT_ALIAS}}.`);
  }
  const extra = sent.filter((k) => k !== INPUT_ALIAS);
  const missing = INPUT_ALIAS in inputs ? [] : [INPUT_ALIAS];
  throw invalidArgument(
    `input size does not match signature: ${sent.length}!=1 len({${sent.join(',')}}) != len({${INPUT_ALIAS}}). Sent extra: {${extra.join(',')}}. Missing but required: {${missing.join(',')}}.`,
  );
}

export function checkOutputFilter(filter: readonly string[]): OutputAlias[] {
  if (filter.length === 0) return [...OUTPUT_ALIASES];
  const seen = new Set<string>();
  for (const alias of filter) {
    if (!(OUTPUT_ALIASES as readonly string[]).includes(alias)) {
      throw invalidArgument(`output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${OUTPUT_ALIASES.join(',')}}.`);
    }
    if (seen.has(alias)) throw invalidArgument(`duplicate output tensor alias: ${alias}`);
    seen.add(alias);
  }
  return filter as OutputAlias[];
}

function checkBatch(n: number): void {
  if (n < 1) throw invalidArgument(`${INPUT_ALIAS}: the batch dimension is ${n}; send at least one image`);
  if (n > MAX_BATCH) throw invalidArgument(`${INPUT_ALIAS}: a batch of ${n} images exceeds this server's limit of ${MAX_BATCH}`);
}

/** A checked image input: how many frames it holds, and how to get them. */
export interface ImageInputPlan {
  count: number;
  decode(): Promise<RgbFrame[]>;
}

/** DT_UINT8 [N, H, W, 3], from tensor_content or int_val. */
function uint8Input(tensor: TensorProto__Output): ImageInputPlan {
  if (tensor.dtype !== 'DT_UINT8') {
    throw invalidArgument(`Expects arg[0] to be uint8 but ${tensor.dtype.replace(/^DT_/, '').toLowerCase()} is provided (input ${INPUT_ALIAS})`);
  }
  const shape = shapeOf(tensor);
  if (shape.length !== 4 || shape[3] !== 3) {
    throw invalidArgument(`${INPUT_ALIAS} must have shape [batch, height, width, 3]; got [${shape.join(',')}]`);
  }
  const [n, height, width] = shape;
  checkBatch(n);
  if (height < 1 || width < 1 || height > MAX_IMAGE_SIDE || width > MAX_IMAGE_SIDE) {
    throw invalidArgument(`${INPUT_ALIAS}: image size ${width}x${height} is outside 1..${MAX_IMAGE_SIDE} per side`);
  }
  const count = elementCount(shape);
  if (count > MAX_REQUEST_BYTES) {
    throw invalidArgument(`${INPUT_ALIAS}: shape [${shape.join(',')}] is ${count} bytes; this server takes at most ${MAX_REQUEST_BYTES} per request`);
  }
  const content = tensor.tensor_content;
  const values = tensor.int_val;
  if (content.length > 0 && content.length !== count) {
    throw invalidArgument(`tensor parsing error: ${INPUT_ALIAS} (tensor_content has ${content.length} bytes; shape [${shape.join(',')}] needs ${count})`);
  }
  if (content.length === 0 && (values.length === 0 || values.length > count)) {
    throw invalidArgument(`tensor parsing error: ${INPUT_ALIAS} (int_val has ${values.length} values; shape [${shape.join(',')}] needs ${count})`);
  }
  return {
    count: n,
    decode: async () => {
      let bytes: Uint8Array = content;
      if (content.length === 0) {
        // One int32 per pixel byte, as naive clients send; a shorter list
        // repeats its last value, as TensorFlow's tensor parsing does.
        bytes = new Uint8Array(count);
        bytes.set(values);
        bytes.fill(values[values.length - 1], values.length);
      }
      const frameBytes = height * width * 3;
      return Array.from({ length: n }, (_, i) => ({ width, height, pixels: bytes.subarray(i * frameBytes, (i + 1) * frameBytes) }));
    },
  };
}

/** DT_STRING [N] of encoded images, decoded with sharp (off the event loop). */
function encodedInput(tensor: TensorProto__Output): ImageInputPlan {
  if (tensor.dtype !== 'DT_STRING') {
    throw invalidArgument(`Expects arg[0] to be string but ${tensor.dtype.replace(/^DT_/, '').toLowerCase()} is provided (input ${INPUT_ALIAS})`);
  }
  const shape = shapeOf(tensor);
  if (shape.length !== 1) throw invalidArgument(`${INPUT_ALIAS} must have shape [batch]; got [${shape.join(',')}]`);
  checkBatch(shape[0]);
  if (tensor.string_val.length !== shape[0]) {
    throw invalidArgument(`tensor parsing error: ${INPUT_ALIAS} (${tensor.string_val.length} strings for shape [${shape[0]}])`);
  }
  // Bound the whole batch, not only each image: N images of the largest size would not fit.
  const perImage = Math.floor(Math.min(MAX_DECODE_PIXELS, MAX_REQUEST_BYTES / 3 / shape[0]));
  return {
    count: shape[0],
    decode: () =>
      Promise.all(
        tensor.string_val.map(async (encoded, i) => {
          try {
            const image = await decodeImage(encoded, perImage);
            return { width: image.width, height: image.height, pixels: image.data };
          } catch (err) {
            throw invalidArgument(`${INPUT_ALIAS}[${i}]: cannot decode image: ${(err as Error).message}`);
          }
        }),
      ),
  };
}

export function planImageInput(tensor: TensorProto__Output, kind: InputKind): ImageInputPlan {
  return kind === 'uint8' ? uint8Input(tensor) : encodedInput(tensor);
}
