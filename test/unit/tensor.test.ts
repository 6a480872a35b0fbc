import { describe, expect, it } from 'vitest';
import { floatTensor, readNumericTensor, readStringTensor, stringTensor, uint8Tensor, TensorDecodeError } from '../../src/tfserving/tensor.js';
import type { TensorProto__Output } from '../../src/tfserving/generated/tensorflow/TensorProto.js';

/** A response tensor as grpc-js hands it over (every field defaulted). */
function output(partial: Partial<TensorProto__Output>): TensorProto__Output {
  return {
    dtype: 'DT_FLOAT', tensor_shape: { dim: [], unknown_rank: false }, version_number: 0, tensor_content: Buffer.alloc(0),
    float_val: [], double_val: [], int_val: [], string_val: [], scomplex_val: [], int64_val: [], bool_val: [],
    dcomplex_val: [], half_val: [], resource_handle_val: [], variant_val: [], uint32_val: [], uint64_val: [],
    float8_val: Buffer.alloc(0), ...partial,
  };
}
const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size, name: '' })), unknown_rank: false });

describe('tensors', () => {
  it('sends images as one tensor_content buffer without copying', () => {
    const pixels = new Uint8Array(2 * 3 * 4 * 3).map((_, i) => i);
    const t = uint8Tensor([2, 3, 4, 3], pixels);
    expect(t.dtype).toBe('DT_UINT8');
    expect(t.tensor_shape?.dim?.map((d) => d.size)).toEqual([2, 3, 4, 3]);
    expect((t.tensor_content as Buffer).buffer).toBe(pixels.buffer);
    expect(t.int_val).toBeUndefined();
    expect(() => uint8Tensor([1, 2, 2, 3], pixels)).toThrow(/needs 12 bytes, got 72/);
  });

  it('reads float outputs from float_val and from tensor_content alike', () => {
    const values = Float32Array.from([0.5, -1.25, 3, 1e-3]);
    const typed = readNumericTensor(output({ tensor_shape: shape(2, 2), float_val: Array.from(values) }));
    const raw = floatTensor([2, 2], values, true);
    // Offset the bytes by one so the reader must cope with unaligned content.
    const unaligned = Buffer.concat([Buffer.from([9]), raw.tensor_content as Buffer]).subarray(1);
    const packed = readNumericTensor(output({ tensor_shape: shape(2, 2), tensor_content: unaligned }));
    expect(Array.from(typed.values)).toEqual(Array.from(values));
    expect(Array.from(packed.values)).toEqual(Array.from(values));
    expect(packed.shape).toEqual([2, 2]);
  });

  it('repeats the last typed value when the list is shorter than the shape, as TensorFlow does', () => {
    const t = readNumericTensor(output({ tensor_shape: shape(3), float_val: [7] }));
    expect(Array.from(t.values)).toEqual([7, 7, 7]);
  });

  it('reads int64 and int32 outputs (some exporters return classes as integers)', () => {
    const i64 = readNumericTensor(output({ dtype: 'DT_INT64', tensor_shape: shape(2), int64_val: [44, 1] }));
    expect(Array.from(i64.values)).toEqual([44, 1]);
    const content = Buffer.alloc(16);
    content.writeBigInt64LE(3n, 0);
    content.writeBigInt64LE(90n, 8);
    expect(Array.from(readNumericTensor(output({ dtype: 'DT_INT64', tensor_shape: shape(2), tensor_content: content })).values)).toEqual([3, 90]);
    expect(Array.from(readNumericTensor(output({ dtype: 'DT_INT32', tensor_shape: shape(2), int_val: [5, 6] })).values)).toEqual([5, 6]);
  });

  it('refuses tensors whose size does not match their shape, naming them', () => {
    expect(() => readNumericTensor(output({ tensor_shape: shape(2), float_val: [1, 2, 3] }), 'detection_scores')).toThrow(/detection_scores.float_val has 3 values for 2 elements/);
    expect(() => readNumericTensor(output({ tensor_shape: shape(4), tensor_content: Buffer.alloc(12) }), 'boxes')).toThrow(TensorDecodeError);
    expect(() => readNumericTensor(output({ dtype: 'DT_STRING', tensor_shape: shape(1) }), 'x')).toThrow(/DT_STRING is not a numeric type/);
  });

  it('carries JPEG bytes in string tensors', () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    const t = stringTensor([1], [jpeg]);
    expect(t.dtype).toBe('DT_STRING');
    const back = readStringTensor(output({ dtype: 'DT_STRING', tensor_shape: shape(1), string_val: t.string_val as Buffer[] }));
    expect(back.values[0].equals(jpeg)).toBe(true);
  });
});
