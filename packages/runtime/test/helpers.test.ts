import { describe, expect, it } from 'vitest';
import { resolveOutputNames, validateFeeds } from '../src/adapter/index';
import { maxAbsDifference } from '../src/conformance/index';
import { createTensor, formatShape, RuntimeError, type TensorInfo, tensorSize } from '../src/index';

function codeOf(action: () => unknown): string {
  try {
    action();
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(RuntimeError);
    return (e as RuntimeError).code;
  }
}

function messageOf(action: () => unknown): string {
  try {
    action();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('tensor helpers', () => {
  it('tensorSize multiplies dims and rejects bad dims', () => {
    expect(tensorSize([])).toBe(1);
    expect(tensorSize([2, 3, 4])).toBe(24);
    expect(tensorSize([5, 0])).toBe(0);
    expect(codeOf(() => tensorSize([2, -1]))).toBe('shape-mismatch');
    expect(codeOf(() => tensorSize([1.5]))).toBe('shape-mismatch');
  });

  it('createTensor checks the storage type and the length', () => {
    const t = createTensor('float32', new Float32Array(6), [2, 3]);
    expect(t.dims).toEqual([2, 3]);
    expect(codeOf(() => createTensor('float32', new Float32Array(5), [2, 3]))).toBe('shape-mismatch');
    expect(messageOf(() => createTensor('float32', new Float32Array(5), [2, 3], 'pixels'))).toMatch(
      /pixels: dims \[2, 3\] hold 6 elements but data has 5/,
    );
    expect(codeOf(() => createTensor('int64', new Int32Array(2) as unknown as BigInt64Array, [2]))).toBe('dtype-mismatch');
    expect(codeOf(() => createTensor('bool', new Uint8Array([1, 0]), [2]))).toBe('ok');
    expect(codeOf(() => createTensor('string', ['a', 'b'], [2]))).toBe('ok');
    expect(codeOf(() => createTensor('complex' as 'float32', new Float32Array(1), [1]))).toBe('unsupported-dtype');
  });

  it('maxAbsDifference handles bigints, NaN and length mismatch', () => {
    expect(maxAbsDifference([1, 2, 3], [1, 2.5, 3])).toBe(0.5);
    expect(maxAbsDifference(BigInt64Array.from([1n, 5n]), [1, 2])).toBe(3);
    expect(maxAbsDifference([Number.NaN], [Number.NaN])).toBe(0);
    expect(maxAbsDifference([Number.NaN], [1])).toBe(Number.POSITIVE_INFINITY);
    expect(maxAbsDifference([1], [1, 2])).toBe(Number.POSITIVE_INFINITY);
  });

  it('formatShape shows symbolic and unknown dims', () => {
    expect(formatShape(['batch_size', 3, null])).toBe('[batch_size, 3, ?]');
  });
});

describe('validateFeeds', () => {
  const inputs: TensorInfo[] = [
    { name: 'input_ids', dtype: 'int64', shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', dtype: 'int64', shape: ['batch_size', 'sequence_length'] },
    { name: 'pixel_values', dtype: 'float32', shape: ['batch_size', 3, 2, 2] },
  ];
  const ids = (b: number, s: number) => ({ dtype: 'int64' as const, dims: [b, s], data: new BigInt64Array(b * s) });
  const pixels = (b: number, c = 3) => ({ dtype: 'float32' as const, dims: [b, c, 2, 2], data: new Float32Array(b * c * 4) });

  it('accepts feeds that match, with any value of symbolic dims', () => {
    expect(codeOf(() => validateFeeds({ input_ids: ids(2, 7), attention_mask: ids(2, 7), pixel_values: pixels(2) }, inputs))).toBe('ok');
  });

  it('names unknown, missing, mistyped and misshapen inputs', () => {
    const good = { input_ids: ids(1, 4), attention_mask: ids(1, 4), pixel_values: pixels(1) };
    expect(codeOf(() => validateFeeds({ ...good, token_type_ids: ids(1, 4) }, inputs))).toBe('unknown-input');
    expect(messageOf(() => validateFeeds({ ...good, token_type_ids: ids(1, 4) }, inputs))).toMatch(/'token_type_ids'.*'input_ids'/);
    const { attention_mask: _, ...missing } = good;
    expect(codeOf(() => validateFeeds(missing, inputs))).toBe('missing-input');
    expect(messageOf(() => validateFeeds(missing, inputs))).toMatch(
      /missing input 'attention_mask' \(int64 \[batch_size, sequence_length\]\)/,
    );
    const int32Ids = { dtype: 'int32' as const, dims: [1, 4], data: new Int32Array(4) };
    expect(codeOf(() => validateFeeds({ ...good, input_ids: int32Ids }, inputs))).toBe('dtype-mismatch');
    expect(messageOf(() => validateFeeds({ ...good, input_ids: int32Ids }, inputs))).toMatch(/'input_ids' expects int64 .* got int32/);
    expect(codeOf(() => validateFeeds({ ...good, pixel_values: pixels(1, 4) }, inputs))).toBe('shape-mismatch');
    expect(messageOf(() => validateFeeds({ ...good, pixel_values: pixels(1, 4) }, inputs))).toMatch(
      /'pixel_values' expects \[batch_size, 3, 2, 2\], got \[1, 4, 2, 2\] \(axis 1 must be 3\)/,
    );
    const rank1 = { dtype: 'int64' as const, dims: [4], data: new BigInt64Array(4) };
    expect(messageOf(() => validateFeeds({ ...good, input_ids: rank1 }, inputs))).toMatch(/expects rank 2 .* got rank 1 \[4\]/);
    expect(codeOf(() => validateFeeds({ ...good, attention_mask: ids(1, 5) }, inputs))).toBe('shape-mismatch');
    expect(messageOf(() => validateFeeds({ ...good, attention_mask: ids(1, 5) }, inputs))).toMatch(/sequence_length is 5 here but 4/);
    const short = { dtype: 'int64' as const, dims: [1, 4], data: new BigInt64Array(3) };
    expect(codeOf(() => validateFeeds({ ...good, input_ids: short }, inputs))).toBe('shape-mismatch');
    const lying = { dtype: 'int64' as const, dims: [1, 4], data: new Float64Array(4) as unknown as BigInt64Array };
    expect(codeOf(() => validateFeeds({ ...good, input_ids: lying }, inputs))).toBe('dtype-mismatch');
  });

  it('resolveOutputNames returns all outputs by default and rejects unknown names', () => {
    const outputs: TensorInfo[] = [
      { name: 'a', dtype: 'float32', shape: [1] },
      { name: 'b', dtype: 'float32', shape: [1] },
    ];
    expect(resolveOutputNames(undefined, outputs)).toEqual(['a', 'b']);
    expect(resolveOutputNames(['b', 'b'], outputs)).toEqual(['b']);
    expect(codeOf(() => resolveOutputNames(['c'], outputs))).toBe('unknown-output');
  });
});
