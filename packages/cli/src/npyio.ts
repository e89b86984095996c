import { readFile } from 'node:fs/promises';
import type { Matrix } from '@gla/core';
import { decodeNpy, encodeNpy, type NdArray } from '@gla/datasets';
import { writeAtomic } from './atomic';
import { CliError } from './errors';

/** Reads a .npy file; errors name the file. */
export async function readNpyFile(path: string): Promise<NdArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError(
      'io',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
  try {
    return decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  } catch (error) {
    throw new CliError('data', `${path}: ${(error as Error).message}`);
  }
}

function toFloat(array: NdArray, path: string): Float32Array | Float64Array {
  const d = array.data;
  if (d instanceof Float64Array || d instanceof Float32Array) return d;
  if (d instanceof BigInt64Array || d instanceof BigUint64Array) return Float64Array.from(d, (v) => Number(v));
  if (array.dtype.startsWith('complex')) throw new CliError('data', `${path}: complex arrays are not supported`);
  return Float64Array.from(d as ArrayLike<number>);
}

/** Reads a 2-D float array (any real dtype) as a Matrix. A 1-D array becomes 1 x n. */
export async function readMatrix(path: string, name = 'array'): Promise<Matrix> {
  const array = await readNpyFile(path);
  const data = toFloat(array, path);
  if (array.shape.length === 2) return { data, rows: array.shape[0]!, cols: array.shape[1]! };
  if (array.shape.length === 1) return { data, rows: 1, cols: array.shape[0]! };
  throw new CliError('data', `${path}: ${name} must be 2-D (rows x columns), got shape [${array.shape.join(', ')}]`);
}

/** Reads a 1-D float vector. */
export async function readVector(path: string, name = 'vector'): Promise<Float64Array> {
  const array = await readNpyFile(path);
  if (array.shape.length !== 1 && !(array.shape.length === 2 && (array.shape[0] === 1 || array.shape[1] === 1))) {
    throw new CliError('data', `${path}: ${name} must be 1-D, got shape [${array.shape.join(', ')}]`);
  }
  return Float64Array.from(toFloat(array, path));
}

/** Reads integer labels (any integer or integral float dtype). */
export async function readLabels(path: string): Promise<Int32Array> {
  const array = await readNpyFile(path);
  if (array.shape.length !== 1) throw new CliError('data', `${path}: labels must be 1-D, got shape [${array.shape.join(', ')}]`);
  const out = new Int32Array(array.shape[0]!);
  const d = array.data as ArrayLike<number | bigint>;
  for (let i = 0; i < out.length; i++) {
    const v = Number(d[i]);
    if (!Number.isInteger(v) || v < 0)
      throw new CliError('data', `${path}: label ${i} is ${String(d[i])}, expected a non-negative integer`);
    out[i] = v;
  }
  return out;
}

/** Writes a Matrix as float32 or float64 .npy (atomic). */
export async function writeMatrix(
  path: string,
  m: Matrix,
  dtype: 'float32' | 'float64' = m.data instanceof Float32Array ? 'float32' : 'float64',
): Promise<void> {
  const data =
    dtype === 'float32'
      ? m.data instanceof Float32Array
        ? m.data
        : Float32Array.from(m.data)
      : m.data instanceof Float64Array
        ? m.data
        : Float64Array.from(m.data);
  await writeAtomic(path, encodeNpy({ dtype, shape: [m.rows, m.cols], data }));
}

export async function writeVector(path: string, v: ArrayLike<number>, dtype: 'float32' | 'float64' = 'float64'): Promise<void> {
  const data = dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v);
  await writeAtomic(path, encodeNpy({ dtype, shape: [v.length], data }));
}

export async function writeLabels(path: string, labels: ArrayLike<number>): Promise<void> {
  await writeAtomic(
    path,
    encodeNpy({ dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(Array.from(labels, (v) => BigInt(v))) }),
  );
}
