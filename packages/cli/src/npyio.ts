import type { Matrix } from '@gla/core';
import {
  assertFiniteValues,
  encodeNpy,
  integerLabels,
  isDatasetError,
  type NdArray,
  type NdArrayInput,
  readNpy,
  realValues,
} from '@gla/datasets';
import { writeAtomic } from './atomic';
import { CliError } from './errors';

/**
 * The CLI's .npy input: a thin layer over @gla/datasets (one reader for the libraries and the
 * command line). The header is checked against the file size before anything is allocated;
 * every error becomes a {@link CliError} whose message names the file once.
 */

/** Converts a @gla/datasets error to a CliError ('io' for missing/unreadable files, else 'data'; both exit 1). */
export function cliErrorFrom(error: unknown, path: string): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const named = message.includes(path) ? message : `${path}: ${message}`;
  if (isDatasetError(error, 'not-found')) return new CliError('io', `cannot read ${path}: no such file`);
  if (isDatasetError(error, 'io')) return new CliError('io', `cannot read ${named}`);
  return new CliError('data', named);
}

/** Reads a .npy file (any dtype); errors name the file. */
export async function readNpyFile(path: string): Promise<NdArray> {
  try {
    return await readNpy(path);
  } catch (error) {
    throw cliErrorFrom(error, path);
  }
}

function withFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw cliErrorFrom(error, path);
  }
}

/**
 * Reads a 2-D real array (any real dtype, exactly) as a Matrix; a 1-D array becomes 1 x n.
 * Complex data, NaN and +Infinity are data errors naming the file and `[row, column]`;
 * -Infinity is kept (a masked class in logits).
 */
export async function readMatrix(path: string, name = 'array'): Promise<Matrix> {
  const array = await readNpyFile(path);
  if (array.shape.length !== 1 && array.shape.length !== 2)
    throw new CliError('data', `${path}: ${name} must be 2-D (rows x columns), got shape [${array.shape.join(', ')}]`);
  const data = withFile(path, () => realValues(array, { file: path, what: name }));
  const rows = array.shape.length === 2 ? array.shape[0]! : 1;
  const cols = array.shape.length === 2 ? array.shape[1]! : array.shape[0]!;
  withFile(path, () => assertFiniteValues(data, [rows, cols], { file: path, what: name, allowNegativeInfinity: true }));
  return { data, rows, cols };
}

/** Reads a 1-D real vector (or 1 x n / n x 1) exactly; complex, NaN and infinite entries are data errors naming the index. */
export async function readVector(path: string, name = 'vector'): Promise<Float64Array> {
  const array = await readNpyFile(path);
  if (array.shape.length !== 1 && !(array.shape.length === 2 && (array.shape[0] === 1 || array.shape[1] === 1))) {
    throw new CliError('data', `${path}: ${name} must be 1-D, got shape [${array.shape.join(', ')}]`);
  }
  const values = withFile(path, () => realValues(array, { file: path, what: name }));
  const out = values instanceof Float64Array ? values : Float64Array.from(values);
  withFile(path, () => assertFiniteValues(out, [out.length], { file: path, what: name }));
  return out;
}

/**
 * Reads integer labels exactly (any integer dtype, or integral floats) as Int32Array. Values
 * outside [0, numClasses) (or outside int32 when `numClasses` is not given), such as int64
 * labels >= 2^31, are data errors naming the file and `labels[i]`.
 */
export async function readLabels(path: string, numClasses?: number): Promise<Int32Array> {
  const array = await readNpyFile(path);
  return withFile(path, () => integerLabels(array, { file: path, ...(numClasses !== undefined ? { numClasses } : {}) }));
}

/** Encodes a Matrix as float32 or float64 .npy bytes. */
export function matrixNpy(m: Matrix, dtype: 'float32' | 'float64' = m.data instanceof Float32Array ? 'float32' : 'float64'): Uint8Array {
  const data =
    dtype === 'float32'
      ? m.data instanceof Float32Array
        ? m.data
        : Float32Array.from(m.data)
      : m.data instanceof Float64Array
        ? m.data
        : Float64Array.from(m.data);
  return encodeNpy({ dtype, shape: [m.rows, m.cols], data });
}

/** Encodes a vector as float32 or float64 .npy bytes. */
export function vectorNpy(v: ArrayLike<number>, dtype: 'float32' | 'float64' = 'float64'): Uint8Array {
  const input: NdArrayInput = { dtype, shape: [v.length], data: dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v) };
  return encodeNpy(input);
}

/** Writes a Matrix as float32 or float64 .npy (atomic). */
export async function writeMatrix(path: string, m: Matrix, dtype?: 'float32' | 'float64'): Promise<void> {
  await writeAtomic(path, matrixNpy(m, dtype));
}

export async function writeVector(path: string, v: ArrayLike<number>, dtype: 'float32' | 'float64' = 'float64'): Promise<void> {
  await writeAtomic(path, vectorNpy(v, dtype));
}

export async function writeLabels(path: string, labels: ArrayLike<number>): Promise<void> {
  await writeAtomic(
    path,
    encodeNpy({ dtype: 'int64', shape: [labels.length], data: BigInt64Array.from(Array.from(labels, (v) => BigInt(v))) }),
  );
}
