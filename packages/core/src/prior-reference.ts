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
  /** Called after every step with (steps done, total steps), e.g. to print progress. */
  onStep?: (step: number, steps: number) => void;
}

/**
 * A TypeScript re-implementation of the AUTHORS' solver (github BeierZhu/GLA), kept for comparison
 * only: it does NOT converge. The optimisation variable is the log-prior beta = log q (initialised
 * uniform), the loss the Lagrangian
 *   L(beta, mu) = sum_{i in batch} CE(z_i/T - beta, y_i) + mu * (sum_k exp(beta_k) - 1),
 * and `steps` plain SGD steps are taken (descent in beta, ascent in mu, one learning rate
 * lr = 1e-5 * shots / 50; per-example losses are summed over the batch). After 1000 steps neither
 * the constraint nor the optimality condition holds (the published ImageNet q sums to 0.804).
 * The returned `prior` is exp(beta) normalised to sum 1 (`rawPriorSum` gives the sum before);
 * `objective` and `gradientNorm` are the exact GLA objective and its max-abs gradient at
 * b = log q, computed in Float64 by the same code as estimatePrior's, so the two compare directly.
 * @param logits N x C @param labels N
 */
export function estimatePriorReference(
  logits: Matrix,
  labels: Labels,
  options: EstimatePriorReferenceOptions = {},
): PriorEstimate & { rawPriorSum: number } {
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
  const logQ = new Float64Array(C).fill(-Math.log(C));
  let mu = 0;
  const beta = 1 / T;
  const v = new Float64Array(C);
  const grad = new Float64Array(C);
  for (let step = 0; step < steps; step++) {
    grad.fill(0);
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
      // d CE / d beta_k = 1[k = y] - p_k.
      const inv = 1 / s;
      for (let k = 0; k < C; k++) grad[k]! -= v[k]! * inv;
      grad[y[i]!]! += 1;
    }
    let sum = 0;
    for (let k = 0; k < C; k++) {
      const q = Math.exp(logQ[k]!);
      logQ[k]! -= lr * (grad[k]! + mu * q);
      sum += Math.exp(logQ[k]!);
    }
    mu += lr * (sum - 1);
    options.onStep?.(step + 1, steps);
  }
  const q = logQ.map(Math.exp);
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
  return {
    prior,
    logPrior,
    temperature: T,
    objective,
    gradientNorm,
    iterations: steps,
    converged: false,
    solver: 'sgd',
    passes: (steps * batchSize) / N,
    rawPriorSum: sum,
  };
}
