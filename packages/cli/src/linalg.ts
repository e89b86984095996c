import type { Matrix } from '@gla/core';

/** Rows `indices` of `m`, as a new Float64 matrix. */
export function rows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  for (let r = 0; r < indices.length; r++) {
    const o = indices[r]! * m.cols;
    for (let j = 0; j < m.cols; j++) out[r * m.cols + j] = m.data[o + j]!;
  }
  return { data: out, rows: indices.length, cols: m.cols };
}

export function pick(v: ArrayLike<number>, indices: ArrayLike<number>): Int32Array {
  const out = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) out[r] = v[indices[r]!]!;
  return out;
}

/** X (N x D) times W^T (W: C x D) plus bias (C): N x C logits. */
export function linearLogits(x: Matrix, w: Matrix, bias?: ArrayLike<number>): Matrix {
  const N = x.rows;
  const C = w.rows;
  const D = x.cols;
  const out = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    const xo = i * D;
    for (let c = 0; c < C; c++) {
      const wo = c * D;
      let s = bias ? bias[c]! : 0;
      for (let j = 0; j < D; j++) s += x.data[xo + j]! * w.data[wo + j]!;
      out[i * C + c] = s;
    }
  }
  return { data: out, rows: N, cols: C };
}

/** sum_k weights[k] * m_k + offset (broadcast over rows); all N x C. */
export function combine(terms: ReadonlyArray<readonly [number, Matrix]>, offset?: ArrayLike<number>): Matrix {
  const first = terms[0]![1];
  const out = new Float64Array(first.rows * first.cols);
  for (const [w, m] of terms) for (let k = 0; k < out.length; k++) out[k]! += w * m.data[k]!;
  if (offset) {
    const C = first.cols;
    for (let i = 0; i < first.rows; i++) for (let c = 0; c < C; c++) out[i * C + c]! += offset[c]!;
  }
  return { data: out, rows: first.rows, cols: first.cols };
}

/** (1 - alpha) * A + alpha * B for heads/weights of equal shape. */
export function interpolate(a: ArrayLike<number>, b: ArrayLike<number>, alpha: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let k = 0; k < out.length; k++) out[k] = (1 - alpha) * a[k]! + alpha * b[k]!;
  return out;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** Median (mean of the middle two for an even count); NaN for an empty list. */
export function median(values: readonly number[]): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}
