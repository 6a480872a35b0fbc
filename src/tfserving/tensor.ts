// TensorProto encoding and decoding. Images go out as raw bytes in
// tensor_content (one field, one copy) rather than one varint per pixel;
// answers are read from either tensor_content or the typed *_val fields.
import { LookoutError } from '../util/errors.js';
import type { TensorProto } from './generated/tensorflow/TensorProto.js';
import type { TensorProto__Output } from './generated/tensorflow/TensorProto.js';
import type { DataType__Output } from './generated/tensorflow/DataType.js';

export class TensorDecodeError extends LookoutError {
  readonly code = 'TENSOR_DECODE';
}

function shapeProto(shape: readonly number[]): TensorProto['tensor_shape'] {
  return { dim: shape.map((size) => ({ size })) };
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function shapeOf(tensor: TensorProto__Output): number[] {
  return (tensor.tensor_shape?.dim ?? []).map((d) => Number(d.size));
}

function bytesView(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A DT_UINT8 tensor of raw bytes, e.g. [N, H, W, 3] RGB images. */
export function uint8Tensor(shape: readonly number[], data: Uint8Array): TensorProto {
  if (data.byteLength !== elementCount(shape)) {
    throw new RangeError(`uint8 tensor of shape [${shape.join(',')}] needs ${elementCount(shape)} bytes, got ${data.byteLength}`);
  }
  return { dtype: 'DT_UINT8', tensor_shape: shapeProto(shape), tensor_content: bytesView(data) };
}

/** A DT_STRING tensor, e.g. [N] JPEG images for encoded_image_string_tensor. */
export function stringTensor(shape: readonly number[], values: readonly Uint8Array[]): TensorProto {
  if (values.length !== elementCount(shape)) {
    throw new RangeError(`string tensor of shape [${shape.join(',')}] needs ${elementCount(shape)} values, got ${values.length}`);
  }
  return { dtype: 'DT_STRING', tensor_shape: shapeProto(shape), string_val: values.map(bytesView) };
}

/**
 * A DT_FLOAT tensor. `content` chooses tensor_content (raw little-endian
 * floats) over float_val, as TF Serving's
 * --enable_serialization_as_tensor_content does.
 */
export function floatTensor(shape: readonly number[], values: Float32Array, content: boolean): TensorProto {
  if (values.length !== elementCount(shape)) {
    throw new RangeError(`float tensor of shape [${shape.join(',')}] needs ${elementCount(shape)} values, got ${values.length}`);
  }
  if (content) {
    return { dtype: 'DT_FLOAT', tensor_shape: shapeProto(shape), tensor_content: bytesView(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) };
  }
  return { dtype: 'DT_FLOAT', tensor_shape: shapeProto(shape), float_val: Array.from(values) };
}

export interface NumericTensor {
  dtype: DataType__Output;
  shape: number[];
  values: Float64Array | Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;
}

type ArrayCtor = { new (buffer: ArrayBuffer): NumericTensor['values']; BYTES_PER_ELEMENT: number };

const contentTypes: Partial<Record<DataType__Output, ArrayCtor>> = {
  DT_FLOAT: Float32Array,
  DT_DOUBLE: Float64Array,
  DT_INT32: Int32Array,
  DT_UINT8: Uint8Array,
  DT_INT8: Int8Array,
  DT_INT16: Int16Array,
  DT_UINT16: Uint16Array,
  DT_UINT32: Uint32Array,
};

/**
 * Fills `count` elements from a typed *_val list. TensorFlow lets a list be
 * shorter than the shape, repeating its last value (a scalar fill).
 */
function fillFrom(values: ArrayLike<number>, count: number, out: NumericTensor['values'], what: string): void {
  if (values.length > count) throw new TensorDecodeError(`${what} has ${values.length} values for ${count} elements`);
  if (values.length === 0 && count > 0) throw new TensorDecodeError(`${what} is empty for ${count} elements`);
  for (let i = 0; i < count; i++) out[i] = values[Math.min(i, values.length - 1)];
}

/** Reads a numeric tensor from tensor_content or its typed field. */
export function readNumericTensor(tensor: TensorProto__Output, name = 'tensor'): NumericTensor {
  const shape = shapeOf(tensor);
  const count = elementCount(shape);
  const dtype = tensor.dtype;
  const content = tensor.tensor_content;

  if (dtype === 'DT_INT64' || dtype === 'DT_UINT64') {
    // 64-bit integers come back as float64 numbers; exact below 2^53, which covers ids and counts.
    const out = new Float64Array(count);
    if (content.length > 0) {
      if (content.length !== count * 8) throw new TensorDecodeError(`${name}: tensor_content has ${content.length} bytes for ${count} int64 elements`);
      for (let i = 0; i < count; i++) {
        out[i] = Number(dtype === 'DT_INT64' ? content.readBigInt64LE(i * 8) : content.readBigUInt64LE(i * 8));
      }
    } else {
      fillFrom(dtype === 'DT_INT64' ? tensor.int64_val : tensor.uint64_val, count, out, `${name}.${dtype === 'DT_INT64' ? 'int64_val' : 'uint64_val'}`);
    }
    return { dtype, shape, values: out };
  }

  const Ctor = contentTypes[dtype];
  if (!Ctor) throw new TensorDecodeError(`${name}: dtype ${dtype} is not a numeric type lookout reads`);
  if (content.length > 0) {
    if (content.length !== count * Ctor.BYTES_PER_ELEMENT) {
      throw new TensorDecodeError(`${name}: tensor_content has ${content.length} bytes for ${count} ${dtype} elements`);
    }
    // Copy into a fresh, aligned buffer: the message's bytes may start at any offset.
    const aligned = new Uint8Array(content.length);
    aligned.set(content);
    return { dtype, shape, values: new Ctor(aligned.buffer) };
  }
  const out = new Ctor(new ArrayBuffer(count * Ctor.BYTES_PER_ELEMENT));
  const field =
    dtype === 'DT_FLOAT' ? 'float_val' :
    dtype === 'DT_DOUBLE' ? 'double_val' :
    dtype === 'DT_UINT32' ? 'uint32_val' : 'int_val';
  fillFrom(tensor[field], count, out, `${name}.${field}`);
  return { dtype, shape, values: out };
}

/** Reads a DT_STRING tensor's byte strings. */
export function readStringTensor(tensor: TensorProto__Output, name = 'tensor'): { shape: number[]; values: Buffer[] } {
  if (tensor.dtype !== 'DT_STRING') throw new TensorDecodeError(`${name}: expected DT_STRING, got ${tensor.dtype}`);
  const shape = shapeOf(tensor);
  if (tensor.string_val.length !== elementCount(shape)) {
    throw new TensorDecodeError(`${name}: ${tensor.string_val.length} strings for shape [${shape.join(',')}]`);
  }
  return { shape, values: tensor.string_val };
}
