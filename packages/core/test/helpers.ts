import { createRng, type Matrix } from '../src/index';

/** KL(p || q) in nats. */
export function kl(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < p.length; k++) if (p[k]! > 0) s += p[k]! * Math.log(p[k]! / q[k]!);
  return s;
}

/** log-softmax of a vector. */
export function normalizeLog(v: ArrayLike<number>): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < v.length; k++) m = Math.max(m, v[k]!);
  let s = 0;
  for (let k = 0; k < v.length; k++) s += Math.exp(v[k]! - m);
  const out = new Float64Array(v.length);
  for (let k = 0; k < v.length; k++) out[k] = v[k]! - m - Math.log(s);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]! - b[k]!));
  return m;
}

/**
 * Logits of a Bayes-optimal "zero-shot model" with prior q*: x | y ~ N(mu_y, I_d),
 * z_ic = log p(x_i | c) + log q*_c (up to a per-row constant). Labels are balanced (i mod C).
 */
export function gaussianProblem(options: { n: number; classes: number; dim: number; spread: number; seed: number; priorScale?: number }): {
  logits: Matrix;
  labels: Int32Array;
  logPrior: Float64Array;
} {
  const { n, classes: C, dim, spread, seed } = options;
  const rng = createRng(seed);
  const mu = new Float64Array(C * dim);
  for (let i = 0; i < mu.length; i++) mu[i] = spread * rng.normal();
  const raw = new Float64Array(C);
  for (let c = 0; c < C; c++) raw[c] = (options.priorScale ?? 0.7) * rng.normal();
  const logPrior = normalizeLog(raw);
  const data = new Float64Array(n * C);
  const labels = new Int32Array(n);
  const x = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const y = i % C;
    labels[i] = y;
    for (let d = 0; d < dim; d++) x[d] = mu[y * dim + d]! + rng.normal();
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const diff = x[d]! - mu[c * dim + d]!;
        s += diff * diff;
      }
      data[i * C + c] = -0.5 * s + logPrior[c]!;
    }
  }
  return { logits: { data, rows: n, cols: C }, labels, logPrior };
}

/** Random logits with per-class offsets, labels drawn from the rows' own softmax. */
export function randomProblem(seed: number, n: number, C: number, scale = 2): { logits: Matrix; labels: Int32Array } {
  const rng = createRng(seed);
  const data = new Float64Array(n * C);
  const labels = new Int32Array(n);
  const offsets = Array.from({ length: C }, () => rng.normal());
  for (let i = 0; i < n; i++) {
    labels[i] = i % C;
    for (let c = 0; c < C; c++) data[i * C + c] = scale * rng.normal() + offsets[c]! + (c === labels[i] ? 2 : 0);
  }
  return { logits: { data, rows: n, cols: C }, labels };
}

/** Mean of softmax(z/T - logPrior) over rows, in plain Float64. */
export function meanDebiasedSoftmax(logits: Matrix, logPrior: ArrayLike<number>, T = 1): Float64Array {
  const { data, rows, cols } = logits;
  const mean = new Float64Array(cols);
  const v = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) {
      v[c] = data[i * cols + c]! / T - logPrior[c]!;
      m = Math.max(m, v[c]!);
    }
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(v[c]! - m);
    for (let c = 0; c < cols; c++) mean[c]! += Math.exp(v[c]! - m) / s / rows;
  }
  return mean;
}

export function histogram(labels: Int32Array, C: number): Float64Array {
  const h = new Float64Array(C);
  for (const y of labels) h[y]! += 1 / labels.length;
  return h;
}
