import { RuntimeError } from './errors';
import type { Tensor, TensorDataByDType, TensorDType } from './types';

/** Every dtype name, in declaration order. */
export const TENSOR_DTYPES: readonly TensorDType[] = [
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'int32',
  'int64',
  'bool',
  'string',
];

const TYPED_ARRAY_OF: Record<Exclude<TensorDType, 'string'>, { name: string; ctor: { new (n: number): unknown } }> = {
  float32: { name: 'Float32Array', ctor: Float32Array },
  float64: { name: 'Float64Array', ctor: Float64Array },
  float16: { name: 'Uint16Array', ctor: Uint16Array },
  int8: { name: 'Int8Array', ctor: Int8Array },
  uint8: { name: 'Uint8Array', ctor: Uint8Array },
  int16: { name: 'Int16Array', ctor: Int16Array },
  int32: { name: 'Int32Array', ctor: Int32Array },
  int64: { name: 'BigInt64Array', ctor: BigInt64Array },
  bool: { name: 'Uint8Array', ctor: Uint8Array },
};

/** Whether `value` is one of the dtype names. */
export function isTensorDType(value: unknown): value is TensorDType {
  return typeof value === 'string' && (TENSOR_DTYPES as readonly string[]).includes(value);
}

/** Shape as text, e.g. `[batch_size, 3, 224, 224]` (`?` for unknown dims). */
export function formatShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Number of elements of a tensor with these dims (1 for a scalar `[]`).
 * Throws `RuntimeError('shape-mismatch')` when a dim is not a non-negative integer.
 */
export function tensorSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RuntimeError('shape-mismatch', `dims ${formatShape(dims)} must be non-negative integers`);
    }
    n *= d;
  }
  return n;
}

/** Whether `data` is the storage type of `dtype` (e.g. BigInt64Array for int64, Uint8Array for bool). */
export function dataMatchesDType(dtype: TensorDType, data: unknown): boolean {
  if (dtype === 'string') return Array.isArray(data) && data.every((s) => typeof s === 'string');
  const expected = TYPED_ARRAY_OF[dtype];
  return data instanceof (expected.ctor as unknown as typeof Uint8Array);
}

function describeData(data: unknown): string {
  if (Array.isArray(data)) return 'a plain array';
  if (data !== null && typeof data === 'object') return `a ${(data as object).constructor?.name ?? 'object'}`;
  return typeof data;
}

/**
 * A tensor after checking that `data` is the storage type of `dtype` (`'unsupported-dtype'` for an
 * unknown dtype, `'dtype-mismatch'` for the wrong typed array) and that `data.length` equals the
 * product of `dims` (`'shape-mismatch'`). The data is not copied.
 *
 * @example createTensor('float32', new Float32Array(6), [2, 3])
 */
export function createTensor<D extends TensorDType>(
  dtype: D,
  data: TensorDataByDType[D],
  dims: readonly number[],
  name = 'tensor',
): Tensor<D> {
  if (!isTensorDType(dtype)) throw new RuntimeError('unsupported-dtype', `${name}: unknown dtype '${String(dtype)}'`);
  if (!dataMatchesDType(dtype, data)) {
    const expected = dtype === 'string' ? 'an array of strings' : `a ${TYPED_ARRAY_OF[dtype as Exclude<TensorDType, 'string'>].name}`;
    throw new RuntimeError('dtype-mismatch', `${name}: dtype ${dtype} needs ${expected}, got ${describeData(data)}`);
  }
  const size = tensorSize(dims);
  if (data.length !== size) {
    throw new RuntimeError('shape-mismatch', `${name}: dims ${formatShape(dims)} hold ${size} elements but data has ${data.length}`);
  }
  return { dtype, data, dims: [...dims] };
}

/** An empty typed array (or string array) of `dtype` with `length` elements. */
export function allocateTensorData<D extends TensorDType>(dtype: D, length: number): TensorDataByDType[D] {
  if (dtype === 'string') return new Array<string>(length).fill('') as TensorDataByDType[D];
  const ctor = TYPED_ARRAY_OF[dtype as Exclude<TensorDType, 'string'>].ctor;
  return new ctor(length) as TensorDataByDType[D];
}

/** A deep copy of a tensor (new storage). */
export function cloneTensor<D extends TensorDType>(tensor: Tensor<D>): Tensor<D> {
  const data = (Array.isArray(tensor.data) ? [...tensor.data] : (tensor.data as Uint8Array).slice()) as TensorDataByDType[D];
  return { dtype: tensor.dtype, dims: [...tensor.dims], data };
}
