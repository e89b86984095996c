import { fail } from './errors';
import { checkDistribution, checkLogits, checkPositive, checkPositiveInteger, checkTemperature, type Matrix } from './matrix';
import type { PriorEstimate } from './prior';
import { rowMax } from './softmax';

/** Options of {@link estimatePriorEM}. */
export interface EstimatePriorEMOptions {
  /** T > 0 dividing the logits (default 1). */
  temperature?: number;
  /** The label distribution the posteriors softmax(z/T) are calibrated for (length C; default uniform). */
  trainPrior?: ArrayLike<number>;
  /** Stop when max_k |q_new - q_old| <= tolerance (default 1e-10). */
  tolerance?: number;
  /** Default 10000. */
  maxIterations?: number;
}

/**
 * Saerens, Latinne & Decaestecker (2002) EM for label shift, on UNLABELLED logits. Assumes
 * p_i = softmax(z_i / T) are calibrated posteriors under `trainPrior` pi_s and estimates the label
 * distribution q of the given examples:
 *   E-step  r_ik = p_ik q_k / pi_s,k, normalised over k;   M-step  q_k = mean_i r_ik.
 * Each step increases the likelihood prod_i sum_k p_ik q_k / pi_s,k; `objective` is its negative
 * mean log (nats, up to a constant), `gradientNorm` the last max-abs change of q (fixed-point
 * residual). Note: this estimates the label distribution of the data set, not the pre-training
 * prior of a zero-shot model (for that use estimatePrior, optionally with `targetMarginal`).
 * @param logits N x C (-Infinity = masked class)
 */
export function estimatePriorEM(logits: Matrix, options: EstimatePriorEMOptions = {}): PriorEstimate {
  checkLogits(logits);
  if (options === null || typeof options !== 'object') fail('invalid-option', 'estimatePriorEM: options must be an object');
  const { rows: N, cols: C, data } = logits;
  const T = checkTemperature(options.temperature ?? 1);
  const trainPrior =
    options.trainPrior === undefined ? new Float64Array(C).fill(1 / C) : checkDistribution(options.trainPrior, C, 'trainPrior', false);
  const tol = checkPositive(options.tolerance ?? 1e-10, 'tolerance');
  const maxIterations = checkPositiveInteger(options.maxIterations ?? 10000, 'maxIterations');
  // Posteriors divided by the training prior: P_ik = p_ik / pi_s,k (rows rescaled for stability).
  const P = new Float64Array(N * C);
  const beta = 1 / T;
  for (let i = 0; i < N; i++) {
    const o = i * C;
    const m = rowMax(data, o, C) * beta;
    let s = 0;
    for (let k = 0; k < C; k++) {
      const e = Math.exp(data[o + k]! * beta - m);
      P[o + k] = e;
      s += e;
    }
    for (let k = 0; k < C; k++) P[o + k] = P[o + k]! / s / trainPrior[k]!;
  }
  let q = Float64Array.from(trainPrior);
  let change = Number.POSITIVE_INFINITY;
  let iterations = 0;
  let objective = 0;
  const next = new Float64Array(C);
  while (iterations < maxIterations) {
    next.fill(0);
    objective = 0;
    for (let i = 0; i < N; i++) {
      const o = i * C;
      let s = 0;
      for (let k = 0; k < C; k++) s += P[o + k]! * q[k]!;
      objective -= Math.log(s);
      const r = 1 / s;
      for (let k = 0; k < C; k++) next[k]! += P[o + k]! * r;
    }
    objective /= N;
    change = 0;
    for (let k = 0; k < C; k++) {
      const v = (q[k]! * next[k]!) / N;
      change = Math.max(change, Math.abs(v - q[k]!));
      next[k] = v;
    }
    q = Float64Array.from(next);
    iterations++;
    if (change <= tol) break;
  }
  let sum = 0;
  for (const v of q) sum += v;
  const prior = q.map((v) => v / sum);
  return {
    prior,
    logPrior: prior.map(Math.log),
    temperature: T,
    objective,
    gradientNorm: change,
    iterations,
    converged: change <= tol,
    solver: 'em',
    passes: iterations,
  };
}
