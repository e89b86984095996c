import { fail } from './errors';
import { resolveKernel } from './kernels';

/** Typed array holding matrix entries. */
export type MatrixData = Float32Array | Float64Array;

/**
 * A dense row-major matrix: entry (i, j) is `data[i * cols + j]`. Logit matrices are N x C
 * (examples x classes), feature matrices N x D, head weights C x D.
 */
export interface Matrix {
  readonly data: MatrixData;
  readonly rows: number;
  readonly cols: number;
}

/** Labels: one integer class index in [0, C) per row. */
export type Labels = Int32Array | ArrayLike<number>;

/**
 * Validating constructor for a {@link Matrix}. The data array is used as is (not copied).
 * @param data row-major entries, length `rows * cols`
 * @throws GlaError `invalid-dtype` unless Float32Array/Float64Array, `shape-mismatch` for a bad
 *   shape or length.
 */
export function matrix(data: MatrixData, rows: number, cols: number): Matrix {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    fail('invalid-dtype', `matrix: data must be a Float32Array or Float64Array`);
  }
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    fail('shape-mismatch', `matrix: rows and cols must be non-negative integers, got ${rows} x ${cols}`);
  }
  if (data.length !== rows * cols) {
    fail('shape-mismatch', `matrix: data has length ${data.length}, expected ${rows} x ${cols} = ${rows * cols}`);
  }
  return { data, rows, cols };
}

/** Validates that `m` is a well-formed matrix; `name` is used in messages. */
export function checkMatrix(m: Matrix, name: string): Matrix {
  if (m === null || typeof m !== 'object') fail('invalid-option', `${name}: expected a matrix { data, rows, cols }`);
  const { data, rows, cols } = m;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    fail('invalid-dtype', `${name}: data must be a Float32Array or Float64Array`);
  }
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    fail('shape-mismatch', `${name}: rows and cols must be non-negative integers, got ${rows} x ${cols}`);
  }
  if (data.length !== rows * cols) {
    fail('shape-mismatch', `${name}: data has length ${data.length}, expected ${rows} x ${cols} = ${rows * cols}`);
  }
  return m;
}

/** Throws `empty-input` when `m` has no rows or no columns. */
export function checkNonEmpty(m: Matrix, name: string): void {
  if (m.rows === 0 || m.cols === 0) fail('empty-input', `${name}: matrix is empty (${m.rows} x ${m.cols})`);
}

/**
 * Checks finiteness. With `allowMasked`, `-Infinity` entries are allowed (masked classes) but each
 * row must keep at least one finite entry (`masked-row` otherwise).
 */
export function checkFinite(m: Matrix, name: string, allowMasked: boolean): void {
  const { data, rows, cols } = m;
  // Rows holding only finite entries are skipped by the fastest `firstNonFiniteRow` kernel; the
  // others are checked entry by entry (masked -Infinity, or the error naming the entry).
  const scan =
    data instanceof Float32Array || data instanceof Float64Array ? resolveKernel('firstNonFiniteRow').firstNonFiniteRow : undefined;
  for (let i = scan && cols > 0 ? scan(data, 0, rows, cols) : 0; i < rows; i = scan && cols > 0 ? scan(data, i + 1, rows, cols) : i + 1) {
    const o = i * cols;
    let finite = 0;
    for (let j = 0; j < cols; j++) {
      const v = data[o + j]!;
      if (Number.isFinite(v)) finite++;
      else if (!(allowMasked && v === Number.NEGATIVE_INFINITY)) {
        fail('non-finite', `${name}: entry (${i}, ${j}) is ${v}; entries must be finite${allowMasked ? ' or -Infinity (masked)' : ''}`);
      }
    }
    if (finite === 0 && cols > 0) {
      fail('masked-row', `${name}: row ${i} has no finite entry (all classes masked with -Infinity)`);
    }
  }
}

/**
 * Validates labels against `n` rows and `classes` classes and returns them as an Int32Array
 * (the input itself when it already is one).
 */
export function checkLabels(labels: Labels, n: number, classes: number, name = 'labels'): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number') {
    fail('invalid-option', `${name}: expected an Int32Array or array of integers`);
  }
  if (labels.length !== n) fail('length-mismatch', `${name}: has length ${labels.length}, expected ${n} (one per row)`);
  const out = labels instanceof Int32Array ? labels : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (typeof y !== 'number' || !Number.isInteger(y)) fail('label-not-integer', `${name}[${i}] = ${String(y)} is not an integer`);
    if (y < 0 || y >= classes) fail('label-out-of-range', `${name}[${i}] = ${y} is outside [0, ${classes})`);
    if (out !== labels) out[i] = y;
  }
  return out;
}

/** Validates a vector of length `length` with finite entries. */
export function checkVector(v: ArrayLike<number>, length: number, name: string): void {
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') fail('invalid-option', `${name}: expected a numeric array`);
  if (v.length !== length) fail('length-mismatch', `${name}: has length ${v.length}, expected ${length}`);
  for (let i = 0; i < length; i++) {
    const x = v[i]!;
    if (typeof x !== 'number' || !Number.isFinite(x)) fail('non-finite', `${name}[${i}] = ${String(x)} is not finite`);
  }
}

/** Validates a probability vector (non-negative, finite, sums to 1 within 1e-6) of length `length`. */
export function checkDistribution(v: ArrayLike<number>, length: number, name: string, allowZero = true): Float64Array {
  checkVector(v, length, name);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const x = v[i]!;
    if (x < 0 || (!allowZero && x === 0)) fail('invalid-option', `${name}[${i}] = ${x} must be ${allowZero ? 'non-negative' : 'positive'}`);
    sum += x;
  }
  if (Math.abs(sum - 1) > 1e-6) fail('invalid-option', `${name}: entries sum to ${sum}, expected 1`);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = v[i]! / sum;
  return out;
}

/** Validates a positive finite temperature. */
export function checkTemperature(t: number, name = 'temperature'): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) {
    fail('invalid-temperature', `${name} must be a finite number > 0, got ${String(t)}`);
  }
  return t;
}

/** Validates an optional positive integer option. */
export function checkPositiveInteger(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    fail('invalid-option', `${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Validates an optional non-negative finite number option. */
export function checkNonNegative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    fail('invalid-option', `${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

/** Validates an optional positive finite number option. */
export function checkPositive(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    fail('invalid-option', `${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

/** Validates a logits matrix: well-formed, non-empty, finite or -Infinity (masked) entries. */
export function checkLogits(m: Matrix, name = 'logits', allowMasked = true): Matrix {
  checkMatrix(m, name);
  checkNonEmpty(m, name);
  checkFinite(m, name, allowMasked);
  return m;
}
