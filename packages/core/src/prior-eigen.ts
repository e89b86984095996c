import { fail } from './errors';
import { checkLabels, checkLogits, checkPositive, checkPositiveInteger, checkTemperature, type Labels, type Matrix } from './matrix';
import type { PriorEstimate } from './prior';
import { rowMax } from './softmax';

/** Options of {@link estimatePriorEigen}. */
export interface EstimatePriorEigenOptions {
  /** T > 0 dividing the logits (default 1). */
  temperature?: number;
  /** Stop when the L1 change of q between power iterations <= tolerance (default 1e-12). */
  tolerance?: number;
  /** Default 100000. */
  maxIterations?: number;
}

/**
 * Eigenvector estimator of the GLA journal version. With p_i = softmax(z_i / T) and (pseudo-)labels
 * y_i, the soft confusion matrix A (C x C) is A_jk = mean over {i : y_i = j} of p_ik (row-stochastic).
 * If the zero-shot model is p(k | x) proportional to p(x | k) q_k, then q^T A = q^T: q is the
 * stationary distribution (principal left eigenvector, eigenvalue 1) of A. Computed by power
 * iteration q <- A^T q (positive, sums to 1). `gradientNorm` and `objective` report the final L1
 * change ||A^T q - q||_1.
 *
 * - With `labels`: a class without examples throws `empty-class`.
 * - Without labels: pseudo-labels y_i = argmax_k z_ik; a class never predicted gets a uniform row.
 * @param logits N x C @param labels optional N labels
 */
export function estimatePriorEigen(logits: Matrix, labels?: Labels, options: EstimatePriorEigenOptions = {}): PriorEstimate {
  checkLogits(logits);
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorEigen: options must be an object');
  const { rows: N, cols: C, data } = logits;
  const T = checkTemperature(options.temperature ?? 1);
  const tol = checkPositive(options.tolerance ?? 1e-12, 'tolerance');
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 100000, 'maxIterations');
  const y = labels === undefined ? undefined : checkLabels(labels, N, C);
  const A = new Float64Array(C * C);
  const count = new Float64Array(C);
  const beta = 1 / T;
  const p = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    const o = i * C;
    const m = rowMax(data, o, C);
    let s = 0;
    let arg = 0;
    for (let k = 0; k < C; k++) {
      const v = data[o + k]!;
      if (v === m && data[o + arg]! !== m) arg = k;
      const e = Math.exp((v - m) * beta);
      p[k] = e;
      s += e;
    }
    const j = y ? y[i]! : arg;
    count[j]!++;
    for (let k = 0; k < C; k++) A[j * C + k]! += p[k]! / s;
  }
  for (let j = 0; j < C; j++) {
    if (count[j] === 0) {
      if (y) fail('empty-class', `estimatePriorEigen: class ${j} has no labelled example`);
      for (let k = 0; k < C; k++) A[j * C + k] = 1 / C;
    } else {
      for (let k = 0; k < C; k++) A[j * C + k] = A[j * C + k]! / count[j]!;
    }
  }
  let q = new Float64Array(C).fill(1 / C);
  let change = Number.POSITIVE_INFINITY;
  let iterations = 0;
  while (iterations < maxIterations && change > tol) {
    const next = new Float64Array(C);
    for (let j = 0; j < C; j++) {
      const qj = q[j]!;
      if (qj === 0) continue;
      const row = j * C;
      for (let k = 0; k < C; k++) next[k]! += qj * A[row + k]!;
    }
    let sum = 0;
    for (const v of next) sum += v;
    change = 0;
    for (let k = 0; k < C; k++) {
      next[k] = next[k]! / sum;
      change += Math.abs(next[k]! - q[k]!);
    }
    q = next;
    iterations++;
  }
  return {
    prior: q,
    logPrior: q.map(Math.log),
    temperature: T,
    objective: change,
    gradientNorm: change,
    iterations,
    converged: change <= tol,
    solver: 'power-iteration',
    passes: 1,
  };
}
