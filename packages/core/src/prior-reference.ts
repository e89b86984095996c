import { fail } from './errors';
import { checkLabels, checkLogits, checkPositive, checkPositiveInteger, checkTemperature, type Labels, type Matrix } from './matrix';
import type { PriorEstimate } from './prior';
import { accumulateExact, addLabelStatistics, emptyPriorStatistics } from './prior-solver';
import { createRng } from './random';
import { rowMax } from './softmax';

/** Options of {@link estimatePriorReference}. */
export interface EstimatePriorReferenceOptions {
  /** T > 0 dividing the logits (default 1). */
  temperature?: number;
  /** Number of SGD steps (default 1000, as in the reference). */
  steps?: number;
  /** Shots per class, for the learning-rate rule lr = 1e-5 * shots / 50 (default: N / C). */
  shots?: number;
  /** Learning rate (default 1e-5 * shots / 50). */
  learningRate?: number;
  /** Rows per step (default N: every step sees the whole labelled set). */
  batchSize?: number;
  /** Seed of the mini-batch sampling (default 0). */
  seed?: number;
}

/**
 * A faithful TypeScript re-implementation of the AUTHORS' solver (github BeierZhu/GLA), kept for
 * comparison only: it does NOT converge. The prior q is the optimisation variable itself
 * (initialised uniform), the loss is the Lagrangian
 *   L(q, mu) = mean_batch CE(z/T - log q, y) + mu * (sum_k q_k - 1),
 * and `steps` plain SGD steps are taken (descent in q, ascent in mu, same learning rate
 * lr = 1e-5 * shots / 50; q is clipped at 1e-12 to keep log q finite). After 1000 steps the
 * constraint and the optimality condition are far from satisfied (the published ImageNet q sums to
 * 0.804). The returned `prior` is q normalised to sum 1 (`rawPriorSum` gives the sum before);
 * `objective` and `gradientNorm` are the exact GLA objective and its max-abs gradient at b = log q,
 * computed in Float64 like estimatePrior's, so the two are directly comparable.
 * @param logits N x C @param labels N
 */
export function estimatePriorReference(logits: Matrix, labels: Labels, options: EstimatePriorReferenceOptions = {}): PriorEstimate & { rawPriorSum: number } {
  checkLogits(logits);
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorReference: options must be an object');
  const { rows: N, cols: C, data } = logits;
  const y = checkLabels(labels, N, C);
  const T = checkTemperature(options.temperature ?? 1);
  const steps = checkPositiveInteger(options.steps ?? 1000, 'steps');
  const shots = checkPositive(options.shots ?? N / C, 'shots');
  const lr = checkPositive(options.learningRate ?? (1e-5 * shots) / 50, 'learningRate');
  const batchSize = Math.min(N, checkPositiveInteger(options.batchSize ?? N, 'batchSize'));
  const rng = createRng(options.seed ?? 0);
  const order = Int32Array.from({ length: N }, (_, i) => i);
  let cursor = N;
  const q = new Float64Array(C).fill(1 / C);
  let mu = 0;
  const beta = 1 / T;
  const v = new Float64Array(C);
  const gradQ = new Float64Array(C);
  for (let step = 0; step < steps; step++) {
    gradQ.fill(0);
    const logQ = q.map(Math.log);
    for (let r = 0; r < batchSize; r++) {
      if (cursor >= N) {
        if (batchSize < N) rng.shuffle(order);
        cursor = 0;
      }
      const i = order[cursor++]!;
      const o = i * C;
      const m = rowMax(data, o, C) * beta;
      let s = 0;
      let vmax = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < C; k++) {
        const x = data[o + k]! * beta - m - logQ[k]!;
        v[k] = x;
        if (x > vmax) vmax = x;
      }
      for (let k = 0; k < C; k++) {
        const e = Math.exp(v[k]! - vmax);
        v[k] = e;
        s += e;
      }
      // d CE / d log q_k = 1[k = y] - p_k, and d log q_k / d q_k = 1 / q_k.
      const inv = 1 / s;
      for (let k = 0; k < C; k++) gradQ[k]! -= v[k]! * inv;
      gradQ[y[i]!]! += 1;
    }
    let sum = 0;
    for (let k = 0; k < C; k++) {
      const g = gradQ[k]! / batchSize / q[k]! + mu;
      q[k] = Math.max(1e-12, q[k]! - lr * g);
      sum += q[k]!;
    }
    mu += lr * (sum - 1);
  }
  let sum = 0;
  for (const x of q) sum += x;
  const prior = q.map((x) => x / sum);
  const logPrior = prior.map(Math.log);
  // Exact GLA objective and gradient at b = log q (gauge-invariant).
  const stats = emptyPriorStatistics(C);
  addLabelStatistics(stats, logits, y, T);
  accumulateExact(stats, logits, 0, N, logPrior, beta, 'gradient');
  let objective = stats.logSumExp / N - stats.labelLogitSum / N;
  let gradientNorm = 0;
  for (let k = 0; k < C; k++) {
    const pk = stats.labelCounts[k]! / N;
    objective += pk * logPrior[k]!;
    gradientNorm = Math.max(gradientNorm, Math.abs(pk - stats.mass[k]! / N));
  }
  return { prior, logPrior, temperature: T, objective, gradientNorm, iterations: steps, converged: false, solver: 'sgd', passes: (steps * batchSize) / N, rawPriorSum: sum };
}
