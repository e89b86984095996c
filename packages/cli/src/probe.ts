import { type Matrix, trainLinearProbe } from '@gla/core';

/** A linear head: logits = x W^T + b (W: C x D). */
export interface Head {
  weights: Matrix;
  bias: Float64Array;
}

/**
 * Multinomial logistic regression on frozen features (core's trainLinearProbe): minimises
 * mean cross-entropy + l2/2 ||W||^2, warm-started from `init` when given.
 */
export function fitProbe(
  x: Matrix,
  y: Int32Array,
  C: number,
  l2: number,
  init?: Head,
  options: { tolerance?: number; maxIterations?: number; center?: boolean } = {},
): Head {
  // Centre the features (mean of these training rows) for conditioning; the head is mapped back to
  // the raw features exactly: W (x - mu) + b = W x + (b - W mu). The objective is unchanged.
  const D = x.cols;
  const mu = new Float64Array(D);
  const center = options.center ?? true;
  let xc = x;
  if (center) {
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < D; j++) mu[j]! += x.data[i * D + j]! / x.rows;
    const data = new Float64Array(x.rows * D);
    for (let i = 0; i < x.rows; i++) for (let j = 0; j < D; j++) data[i * D + j] = x.data[i * D + j]! - mu[j]!;
    xc = { data, rows: x.rows, cols: D };
  }
  const shiftBias = (w: Matrix, b: ArrayLike<number>, sign: number) => {
    const out = Float64Array.from(b);
    for (let c = 0; c < w.rows; c++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += w.data[c * D + j]! * mu[j]!;
      out[c]! += sign * s;
    }
    return out;
  };
  const probe = trainLinearProbe(xc, y, {
    classes: C,
    l2,
    maxIterations: options.maxIterations ?? 300,
    tolerance: options.tolerance ?? 1e-5,
    ...(init ? { init: { weights: init.weights, bias: center ? shiftBias(init.weights, init.bias, +1) : init.bias } } : {}),
  });
  const weights = probe.head.weights;
  return { weights, bias: center ? shiftBias(weights, probe.head.bias, -1) : Float64Array.from(probe.head.bias) };
}

/** Core's probe objective: mean cross-entropy + l2/2 ||W||^2 (bias not penalised). */
export function probeObjective(x: Matrix, y: Int32Array, head: Head, l2: number): number {
  const C = head.weights.rows;
  const D = x.cols;
  let total = 0;
  const z = new Float64Array(C);
  for (let i = 0; i < x.rows; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      let s = head.bias[c]!;
      for (let j = 0; j < D; j++) s += x.data[i * D + j]! * head.weights.data[c * D + j]!;
      z[c] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[c]! - max);
    total += Math.log(sum) + max - z[y[i]!]!;
  }
  let norm = 0;
  for (const w of head.weights.data) norm += w * w;
  return total / x.rows + 0.5 * l2 * norm;
}
