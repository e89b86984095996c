import { type BackendChoice, checkBackendChoice, resolveKernel } from './kernels';
import { checkLogits, checkTemperature, type Matrix } from './matrix';

/**
 * Masked-class semantics shared by the softmax family: a `-Infinity` logit is a masked class with
 * probability exactly 0 (log-probability -Infinity). A row whose entries are all `-Infinity` has no
 * distribution; every function throws `GlaError('masked-row')` for it. NaN and +Infinity throw
 * `non-finite`. Stable for |logit| up to ~1e300: the row maximum is subtracted before `exp`.
 */

/** Row-wise options shared by the softmax family. */
export interface SoftmaxOptions {
  /** Divide logits by this temperature first (T > 0, default 1). */
  temperature?: number;
  /** Kernel backend for logSumExp ('auto' = fastest registered; 'reference' = TypeScript). */
  backend?: BackendChoice;
}

/** Row maximum over finite-or-masked entries (internal; rows are assumed validated). */
export function rowMax(data: ArrayLike<number>, offset: number, cols: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < cols; j++) {
    const v = data[offset + j]!;
    if (v > m) m = v;
  }
  return m;
}

/** log sum_j exp(scale * data[offset + j]) computed stably (internal). */
export function rowLogSumExp(data: ArrayLike<number>, offset: number, cols: number, scale = 1): number {
  const m = rowMax(data, offset, cols) * scale;
  let s = 0;
  for (let j = 0; j < cols; j++) s += Math.exp(data[offset + j]! * scale - m);
  return m + Math.log(s);
}

function inverseTemperature(options?: SoftmaxOptions): number {
  return 1 / checkTemperature(options?.temperature ?? 1);
}

/**
 * Row-wise log-sum-exp: `out[i] = log sum_j exp(logits[i, j] / T)`.
 * @param logits N x C
 * @returns Float64Array of length N
 */
export function logSumExp(logits: Matrix, options?: SoftmaxOptions): Float64Array {
  checkLogits(logits);
  const beta = inverseTemperature(options);
  const { data, rows, cols } = logits;
  const out = new Float64Array(rows);
  resolveKernel('rowLogSumExp', checkBackendChoice(options?.backend, 'logSumExp')).rowLogSumExp!(data, rows, cols, beta, out);
  return out;
}

/**
 * Row-wise softmax of `logits / T`: each output row is a probability vector (sums to 1, masked
 * classes get exactly 0).
 * @param logits N x C
 * @returns N x C Float64 matrix (new; input untouched)
 */
export function softmax(logits: Matrix, options?: SoftmaxOptions): Matrix {
  checkLogits(logits);
  const beta = inverseTemperature(options);
  const { data, rows, cols } = logits;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const m = rowMax(data, o, cols) * beta;
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(data[o + j]! * beta - m);
      out[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < cols; j++) out[o + j]! *= inv;
  }
  return { data: out, rows, cols };
}

/**
 * Row-wise log-softmax of `logits / T` (log-probabilities; masked classes give -Infinity).
 * @param logits N x C
 * @returns N x C Float64 matrix
 */
export function logSoftmax(logits: Matrix, options?: SoftmaxOptions): Matrix {
  checkLogits(logits);
  const beta = inverseTemperature(options);
  const { data, rows, cols } = logits;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const lse = rowLogSumExp(data, o, cols, beta);
    for (let j = 0; j < cols; j++) out[o + j] = data[o + j]! * beta - lse;
  }
  return { data: out, rows, cols };
}
