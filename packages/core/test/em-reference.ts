import type { Matrix } from '../src/index';

/**
 * The historical scalar Saerens EM (before the kernel layer and SQUAREM), kept verbatim as an
 * independent reference for the tests and the measurement script: plain EM steps over a Float64
 * N x C matrix P_ik = p_ik / pi_s,k, stopping when max_k |q_new - q_old| <= tolerance.
 * Inputs are assumed valid (finite or -Infinity logits, positive trainPrior).
 */
export function emReference(
  logits: Matrix,
  options: { temperature?: number; trainPrior?: ArrayLike<number>; tolerance?: number; maxIterations?: number } = {},
): { prior: Float64Array; iterations: number; change: number; objective: number } {
  const { rows: N, cols: C, data } = logits;
  const beta = 1 / (options.temperature ?? 1);
  const trainPrior = options.trainPrior === undefined ? new Float64Array(C).fill(1 / C) : Float64Array.from(options.trainPrior);
  const tol = options.tolerance ?? 1e-10;
  const maxIterations = options.maxIterations ?? 10000;
  const P = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    const o = i * C;
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) m = Math.max(m, data[o + k]!);
    m *= beta;
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
  return { prior: q.map((v) => v / sum), iterations, change, objective };
}
