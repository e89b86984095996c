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
  /** Power iterations before falling back to a direct solve (default 5000). */
  maxIterations?: number;
}

/**
 * Eigenvector estimator of the GLA journal version. With p_i = softmax(z_i / T) and (pseudo-)labels
 * y_i, the soft confusion matrix A (C x C) is A_jk = mean over {i : y_i = j} of p_ik (row-stochastic).
 * If the zero-shot model is p(k | x) proportional to p(x | k) q_k, then q^T A = q^T: q is the
 * stationary distribution (principal left eigenvector, eigenvalue 1) of A. Computed by power
 * iteration q <- A^T q (positive, sums to 1); when that mixes too slowly (maxIterations reached,
 * e.g. A close to the identity) it is finished by a direct solve of q^T (A - I) = 0, sum q = 1
 * (Gaussian elimination, O(C^3)) and confirmed by three more power steps. `gradientNorm` and `objective` report the final L1
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
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 5000, 'maxIterations');
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
  let q: Float64Array = new Float64Array(C).fill(1 / C);
  let change = Number.POSITIVE_INFINITY;
  let iterations = 0;
  let solver = 'power-iteration';
  const powerStep = (): void => {
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
  };
  while (iterations < maxIterations && change > tol) powerStep();
  if (change > tol) {
    // Slow mixing (|lambda_2| close to 1, e.g. a very accurate zero-shot model): solve
    // q^T (A - I) = 0, sum q = 1 directly, then confirm with power steps.
    const direct = stationaryDistribution(A, C);
    if (direct) {
      q = direct;
      solver = 'power-iteration+direct';
      for (let extra = 0; extra < 3; extra++) powerStep();
    }
  }
  return {
    prior: q,
    logPrior: q.map(Math.log),
    temperature: T,
    objective: change,
    gradientNorm: change,
    iterations,
    converged: change <= tol,
    solver,
    passes: 1,
  };
}

/** Solves q^T (A - I) = 0 with sum(q) = 1 by Gaussian elimination with partial pivoting (internal). */
function stationaryDistribution(A: Float64Array, C: number): Float64Array | undefined {
  // Rows of M are the equations: M[k][j] = A[j][k] - [j = k], the last equation replaced by sum q = 1.
  const M = new Float64Array(C * (C + 1));
  const W = C + 1;
  for (let k = 0; k < C; k++) {
    for (let j = 0; j < C; j++) M[k * W + j] = k === C - 1 ? 1 : A[j * C + k]! - (j === k ? 1 : 0);
    M[k * W + C] = k === C - 1 ? 1 : 0;
  }
  for (let col = 0; col < C; col++) {
    let piv = col;
    for (let r = col + 1; r < C; r++) if (Math.abs(M[r * W + col]!) > Math.abs(M[piv * W + col]!)) piv = r;
    if (M[piv * W + col] === 0) return undefined;
    if (piv !== col) {
      for (let j = col; j < W; j++) {
        const t = M[col * W + j]!;
        M[col * W + j] = M[piv * W + j]!;
        M[piv * W + j] = t;
      }
    }
    const d = M[col * W + col]!;
    for (let r = col + 1; r < C; r++) {
      const f = M[r * W + col]! / d;
      if (f === 0) continue;
      for (let j = col; j < W; j++) M[r * W + j]! -= f * M[col * W + j]!;
    }
  }
  const q = new Float64Array(C);
  for (let r = C - 1; r >= 0; r--) {
    let s = M[r * W + C]!;
    for (let j = r + 1; j < C; j++) s -= M[r * W + j]! * q[j]!;
    q[r] = Math.max(0, s / M[r * W + r]!);
  }
  let sum = 0;
  for (const v of q) sum += v;
  if (!(sum > 0)) return undefined;
  for (let k = 0; k < C; k++) q[k] = q[k]! / sum;
  return q;
}
