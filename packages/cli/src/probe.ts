import { type LinearHead, type Matrix, trainCenteredLinearProbe } from '@gla/core';

/** A linear head: logits = x W^T + b (W: C x D). */
export type Head = LinearHead;

/** Core's centred multinomial logistic regression (trainCenteredLinearProbe), warm-started from `init`. */
export function fitProbe(
  x: Matrix,
  y: Int32Array,
  C: number,
  l2: number,
  init?: Head,
  options: { tolerance?: number; maxIterations?: number } = {},
): Head {
  return trainCenteredLinearProbe(x, y, { classes: C, l2, ...(init ? { init } : {}), ...options });
}

/** Core's probe objective: mean cross-entropy + l2/2 ||W||^2 (bias not penalised), for the speed benchmark. */
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
