import { DatasetError } from './errors';

/** Element types understood by the .npy, .npz, safetensors and IDX readers. */
export type Dtype =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'complex64'
  | 'complex128';

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/**
 * An n-dimensional array, row-major (C order): the last axis varies fastest.
 * `data` holds `product(shape)` elements, with these in-memory types:
 * bool → Uint8Array (0/1); float16 and bfloat16 → Float32Array (decoded);
 * int64/uint64 → BigInt64Array/BigUint64Array; complex64/complex128 → Float32Array/Float64Array
 * with interleaved (real, imaginary) pairs, so 2 · product(shape) numbers.
 */
export interface NdArray {
  dtype: Dtype;
  shape: number[];
  data: TypedArray;
}

/** Bytes per element in a file. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  complex64: 8,
  complex128: 16,
};

/** Numbers stored in `data` per element (2 for complex types). */
export function valuesPerElement(dtype: Dtype): number {
  return dtype === 'complex64' || dtype === 'complex128' ? 2 : 1;
}

/** Product of a shape's dimensions, validated: every dimension a non-negative safe integer. */
export function shapeSize(shape: readonly number[], file?: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new DatasetError('header-mismatch', `invalid dimension ${d} in shape [${shape.join(', ')}]`, { file });
    }
    n *= d;
    if (!Number.isSafeInteger(n)) throw new DatasetError('header-mismatch', `shape [${shape.join(', ')}] is too large`, { file });
  }
  return n;
}

/**
 * Refuses to stream items that hold no data (a trailing dimension of 0, e.g. shape
 * [4294967295, 0]): such a header costs nothing to write but would make a batch loop spin
 * through billions of empty batches. Throws 'header-mismatch' naming the shape.
 */
export function assertStreamableItems(shape: readonly number[], file?: string): void {
  if (shape.length > 1 && shape[0]! > 0 && shapeSize(shape.slice(1), file) === 0) {
    throw new DatasetError('header-mismatch', `shape [${shape.join(', ')}] has ${shape[0]} items of zero elements: nothing to stream`, {
      file,
    });
  }
}

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function allocate(dtype: Dtype, count: number): TypedArray {
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return new Uint8Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'uint16':
      return new Uint16Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'uint32':
      return new Uint32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint64':
      return new BigUint64Array(count);
    case 'float16':
    case 'bfloat16':
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'complex64':
      return new Float32Array(2 * count);
    case 'complex128':
      return new Float64Array(2 * count);
  }
}

/** Size in bytes of one stored scalar (half of a complex element). */
function scalarSize(dtype: Dtype): number {
  return DTYPE_SIZE[dtype] / valuesPerElement(dtype);
}

let halfTable: Float32Array | undefined;

/** All 65536 binary16 values as float32, built on first use (256 KiB). */
function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/** 16-bit words of `bytes` in native order (a view when aligned and already native, else a copy). */
function words16(bytes: Uint8Array, count: number, littleEndian: boolean): Uint16Array {
  if (littleEndian === NATIVE_LITTLE && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Uint16Array(count);
  const target = new Uint8Array(out.buffer);
  target.set(bytes.subarray(0, 2 * count));
  if (littleEndian !== NATIVE_LITTLE) swapBytes(target, 2);
  return out;
}

/**
 * Decodes `count` elements of `dtype` from `bytes` (at least count · DTYPE_SIZE bytes) in
 * the given byte order into a typed array (see {@link NdArray} for the types). With
 * `owned: true` the caller hands over `bytes`: when it is suitably aligned the result is a
 * view of the same memory (byte-swapped in place if needed) instead of a copy.
 */
export function decodeElements(bytes: Uint8Array, dtype: Dtype, count: number, littleEndian: boolean, owned = false): TypedArray {
  const byteLength = count * DTYPE_SIZE[dtype];
  if (bytes.byteLength < byteLength) throw new DatasetError('truncated', `need ${byteLength} bytes, have ${bytes.byteLength}`);
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const words = words16(bytes, count, littleEndian);
    const out = new Float32Array(count);
    if (dtype === 'float16') halfWordsToFloat(words, out, halfToFloatTable());
    else bfloatWordsToFloat(words, new Uint32Array(out.buffer));
    return out;
  }
  const size = scalarSize(dtype);
  if (owned && bytes.byteOffset % size === 0) {
    const target = bytes.subarray(0, byteLength);
    if (size > 1 && littleEndian !== NATIVE_LITTLE) swapBytes(target, size);
    return viewAs(dtype, target.buffer, target.byteOffset, count);
  }
  const out = allocate(dtype, count);
  const target = new Uint8Array(out.buffer, out.byteOffset, byteLength);
  target.set(bytes.subarray(0, byteLength));
  if (size > 1 && littleEndian !== NATIVE_LITTLE) swapBytes(target, size);
  return out;
}

function halfWordsToFloat(words: Uint16Array, out: Float32Array, table: Float32Array): void {
  const n = words.length;
  for (let i = 0; i < n; i++) out[i] = table[words[i]!]!;
}

function bfloatWordsToFloat(words: Uint16Array, out: Uint32Array): void {
  const n = words.length;
  for (let i = 0; i < n; i++) out[i] = words[i]! << 16;
}

function viewAs(dtype: Dtype, buffer: ArrayBufferLike, offset: number, count: number): TypedArray {
  const values = count * valuesPerElement(dtype);
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return new Uint8Array(buffer, offset, values);
    case 'int8':
      return new Int8Array(buffer, offset, values);
    case 'int16':
      return new Int16Array(buffer, offset, values);
    case 'uint16':
      return new Uint16Array(buffer, offset, values);
    case 'int32':
      return new Int32Array(buffer, offset, values);
    case 'uint32':
      return new Uint32Array(buffer, offset, values);
    case 'int64':
      return new BigInt64Array(buffer, offset, values);
    case 'uint64':
      return new BigUint64Array(buffer, offset, values);
    case 'float32':
    case 'complex64':
      return new Float32Array(buffer, offset, values);
    default:
      return new Float64Array(buffer, offset, values);
  }
}

/** Encodes elements (the in-memory array of `dtype`) to bytes in the given byte order. */
export function encodeElements(data: TypedArray | ArrayLike<number>, dtype: Dtype, littleEndian = true): Uint8Array {
  const values = data.length;
  const count = values / valuesPerElement(dtype);
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Uint8Array(2 * count);
    const view = new DataView(out.buffer);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < count; i++) {
      const v = Number(data[i]);
      let bits: number;
      if (dtype === 'float16') bits = floatToHalf(v);
      else {
        f32[0] = v;
        const x = u32[0]!;
        // round to nearest even on the dropped 16 bits; keep NaN a NaN
        bits = Number.isNaN(v) ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
      }
      view.setUint16(2 * i, bits, littleEndian);
    }
    return out;
  }
  const typed = toTypedArray(data, dtype);
  const bytes = new Uint8Array(typed.byteLength);
  bytes.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength));
  const size = scalarSize(dtype);
  if (size > 1 && littleEndian !== NATIVE_LITTLE) swapBytes(bytes, size);
  return bytes;
}

/** Converts an array-like to the in-memory typed array of `dtype` (copies unless already right). */
export function toTypedArray(data: TypedArray | ArrayLike<number>, dtype: Dtype): TypedArray {
  const expected = allocate(dtype, 0).constructor as { new (n: number): TypedArray };
  if (data instanceof expected) return data as TypedArray;
  const values = data.length;
  const out = new expected(values);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < values; i++) out[i] = BigInt(data[i] as number | bigint);
  } else {
    for (let i = 0; i < values; i++) (out as Float64Array)[i] = Number(data[i]);
  }
  return out;
}

function swapBytes(b: Uint8Array, size: number): void {
  const n = b.length - (b.length % size);
  if (size > 1 && b.byteOffset % 4 === 0 && n % 4 === 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset, n / 4);
    if (size === 2) swap16in32(w);
    else if (size === 4) swap32(w);
    else if (size === 8) swap64(w);
    else swapGeneric(b, n, size);
    return;
  }
  swapGeneric(b, n, size);
}

function swap16in32(w: Uint32Array): void {
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    w[i] = ((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff);
  }
}

function swap32(w: Uint32Array): void {
  for (let i = 0; i < w.length; i++) {
    const x = w[i]!;
    w[i] = (x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

function swap64(w: Uint32Array): void {
  for (let i = 0; i + 1 < w.length; i += 2) {
    const a = w[i]!;
    const b = w[i + 1]!;
    w[i] = (b << 24) | ((b & 0xff00) << 8) | ((b >>> 8) & 0xff00) | (b >>> 24);
    w[i + 1] = (a << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24);
  }
}

function swapGeneric(b: Uint8Array, n: number, size: number): void {
  for (let i = 0; i < n; i += size) {
    for (let a = i, c = i + size - 1; a < c; a++, c--) {
      const t = b[a]!;
      b[a] = b[c]!;
      b[c] = t;
    }
  }
}

/** IEEE 754 binary16 bits → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** number → IEEE 754 binary16 bits, rounding to nearest even (as numpy does). */
export function floatToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  let a = Math.abs(value);
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  // Round the float64 to float32 first would double-round; work from the float64 directly.
  if (a >= 65520) return sign | 0x7c00; // rounds to infinity
  if (a < 2 ** -14) {
    // subnormal: units of 2^-24, round half to even
    const units = a / 2 ** -24;
    let r = Math.floor(units);
    const rest = units - r;
    if (rest > 0.5 || (rest === 0.5 && (r & 1) === 1)) r++;
    return sign | r; // r may be 0x400, which is the smallest normal: correct encoding
  }
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent--;
  if (2 ** (exponent + 1) <= a) exponent++;
  a = a / 2 ** exponent - 1; // in [0, 1)
  const units = a * 1024;
  let r = Math.floor(units);
  const rest = units - r;
  if (rest > 0.5 || (rest === 0.5 && (r & 1) === 1)) r++;
  if (r === 1024) {
    r = 0;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | r;
}

/** True for the complex dtypes (whose `data` interleaves real and imaginary parts). */
export function isComplexDtype(dtype: Dtype): boolean {
  return dtype === 'complex64' || dtype === 'complex128';
}

/** The flat index `k` of a C-order array of `shape` as `[i, j, ...]` (the file's own terms). */
export function formatIndex(shape: readonly number[], k: number): string {
  if (shape.length <= 1) return `[${k}]`;
  const index: number[] = [];
  let rest = k;
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a]!;
    index.unshift(d > 0 ? rest % d : 0);
    rest = d > 0 ? Math.floor(rest / d) : 0;
  }
  return `[${index.join(', ')}]`;
}

/**
 * The values of a real array as Float32Array (float16/bfloat16/float32: no copy) or
 * Float64Array (every other real dtype), exactly: complex data is 'unsupported-dtype', and
 * int64/uint64 values beyond ±2^53 (not representable as a float64) are 'unsupported-dtype'
 * naming the index. `what` names the array in messages (e.g. 'prior').
 */
export function realValues(array: NdArray, options: { file?: string; what?: string } = {}): Float32Array | Float64Array {
  const { file, what = 'array' } = options;
  if (isComplexDtype(array.dtype)) {
    throw new DatasetError('unsupported-dtype', `${what} must be real, got ${array.dtype} (complex values cannot be used as reals)`, {
      file,
    });
  }
  const d = array.data;
  if (d instanceof Float32Array || d instanceof Float64Array) return d;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    const out = new Float64Array(d.length);
    const limit = BigInt(Number.MAX_SAFE_INTEGER);
    for (let k = 0; k < d.length; k++) {
      const v = d[k]!;
      if (v > limit || v < -limit) {
        throw new DatasetError(
          'unsupported-dtype',
          `${what}${formatIndex(array.shape, k)} = ${v} (${array.dtype}) is beyond 2^53 and has no exact float64 value`,
          { file },
        );
      }
      out[k] = Number(v);
    }
    return out;
  }
  return Float64Array.from(d as ArrayLike<number>);
}

/**
 * Class labels as Int32Array, exactly: integer dtypes (any width) or integral floats; every
 * value must lie in [0, numClasses) (numClasses defaults to 2^31, the int32 range). Values
 * outside it (e.g. int64/uint64 >= 2^31, negatives, non-integral or NaN floats) are
 * 'label-out-of-range' naming the file and the index, e.g. `labels[17] = 4294967296`; complex
 * and bool labels are 'unsupported-dtype'; labels must be 1-D ('shape-mismatch').
 */
export function integerLabels(array: NdArray, options: { file?: string; numClasses?: number; what?: string } = {}): Int32Array {
  const { file, what = 'labels' } = options;
  const limit = options.numClasses ?? 2 ** 31;
  if (array.shape.length !== 1)
    throw new DatasetError('shape-mismatch', `${what} must be 1-D, got shape [${array.shape.join(', ')}]`, { file });
  if (isComplexDtype(array.dtype) || array.dtype === 'bool')
    throw new DatasetError('unsupported-dtype', `${what} must be integers, got ${array.dtype}`, { file });
  const d = array.data as ArrayLike<number | bigint>;
  const out = new Int32Array(d.length);
  const range = options.numClasses === undefined ? 'the int32 range [0, 2^31)' : `[0, ${limit}) (${limit} classes)`;
  for (let k = 0; k < d.length; k++) {
    const raw = d[k]!;
    const v = typeof raw === 'bigint' ? (raw >= 0n && raw < BigInt(limit) ? Number(raw) : Number.NaN) : raw;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new DatasetError('label-out-of-range', `${what}[${k}] = ${String(raw)} (${array.dtype}) is not an integer in ${range}`, {
        file,
      });
    }
    out[k] = v;
  }
  return out;
}

/**
 * Throws 'invalid-argument' naming the file and index of the first NaN (and, unless
 * `allowNegativeInfinity`, of any infinite value; -Infinity marks masked classes in logits).
 */
export function assertFiniteValues(
  data: ArrayLike<number>,
  shape: readonly number[],
  options: { file?: string; what?: string; allowNegativeInfinity?: boolean } = {},
): void {
  const { file, what = 'array', allowNegativeInfinity = false } = options;
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    if (v - v !== 0 && !(allowNegativeInfinity && v === Number.NEGATIVE_INFINITY)) {
      throw new DatasetError(
        'invalid-argument',
        `${what}${formatIndex(shape, k)} is ${v}${allowNegativeInfinity ? '' : ' (values must be finite)'}`,
        {
          file,
        },
      );
    }
  }
}
