import { describe, expect, it } from 'vitest';
import { accuracy, applyHead, createRng, matrix, selectL2, trainLinearProbe, zeroShotHead } from '../src/index';

function blobs(seed: number, n: number, C: number, D: number) {
  const rng = createRng(seed);
  const centers = Array.from({ length: C * D }, () => rng.normal());
  const data = new Float64Array(n * D);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % C;
    for (let d = 0; d < D; d++) data[i * D + d] = centers[labels[i]! * D + d]! + 1.2 * rng.normal();
  }
  return { features: matrix(data, n, D), labels };
}

/** Plain full-batch gradient descent with a fixed small step on the same objective (reference). */
function gradientDescent(
  X: Float64Array,
  N: number,
  D: number,
  y: Int32Array,
  C: number,
  l2: number,
  weights: Float64Array,
  steps: number,
) {
  const W = new Float64Array(C * D);
  const b = new Float64Array(C);
  let f = 0;
  for (let step = 0; step <= steps; step++) {
    const gW = new Float64Array(C * D);
    const gb = new Float64Array(C);
    f = 0;
    for (let i = 0; i < N; i++) {
      const z = Array.from({ length: C }, (_, c) => {
        let s = b[c]!;
        for (let d = 0; d < D; d++) s += W[c * D + d]! * X[i * D + d]!;
        return s;
      });
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      const w = weights[y[i]!]! / N;
      f += w * (m + Math.log(s) - z[y[i]!]!);
      for (let c = 0; c < C; c++) {
        const r = w * (e[c]! / s - (c === y[i] ? 1 : 0));
        gb[c]! += r;
        for (let d = 0; d < D; d++) gW[c * D + d]! += r * X[i * D + d]!;
      }
    }
    for (let j = 0; j < C * D; j++) f += 0.5 * l2 * W[j]! * W[j]!;
    if (step === steps) break;
    for (let j = 0; j < C * D; j++) W[j]! -= 0.5 * (gW[j]! + l2 * W[j]!);
    for (let c = 0; c < C; c++) b[c]! -= 0.5 * gb[c]!;
  }
  return f;
}

describe('trainLinearProbe', () => {
  it('reaches the same optimum as plain gradient descent (objective within 1e-8)', () => {
    for (const [seed, weighted] of [
      [1, false],
      [2, true],
    ] as const) {
      const C = 3;
      const D = 4;
      const { features, labels } = blobs(seed, 60, C, D);
      const classWeights = weighted ? Float64Array.from([1, 2, 0.5]) : new Float64Array(C).fill(1);
      const probe = trainLinearProbe(features, labels, { l2: 0.1, tolerance: 1e-10, classWeights });
      expect(probe.converged).toBe(true);
      const reference = gradientDescent(features.data as Float64Array, 60, D, labels, C, 0.1, classWeights, 3000);
      expect(Math.abs(probe.objective - reference)).toBeLessThan(1e-8);
    }
  });

  it('is deterministic, learns separable-ish data, honours init, and bias is unregularised', () => {
    const { features, labels } = blobs(3, 300, 5, 8);
    const a = trainLinearProbe(features, labels, { l2: 1e-2 });
    const b = trainLinearProbe(features, labels, { l2: 1e-2 });
    expect(Array.from(a.head.weights.data)).toEqual(Array.from(b.head.weights.data));
    expect(accuracy(a.logits(features), labels)).toBeGreaterThan(0.8);
    // Starting at the optimum: converged immediately.
    const warm = trainLinearProbe(features, labels, { l2: 1e-2, init: a.head });
    expect(warm.iterations).toBeLessThanOrEqual(2);
    // Huge l2: weights ~ 0, the bias alone fits the (balanced) label distribution.
    const flat = trainLinearProbe(features, labels, { l2: 1e6 });
    expect(Math.max(...flat.head.weights.data.map(Math.abs))).toBeLessThan(1e-4);
    const head = zeroShotHead(matrix(Float64Array.from(a.head.weights.data), 5, 8));
    expect(applyHead(head, features).cols).toBe(5);
  });

  it('selectL2 is deterministic and prefers a sensible penalty', () => {
    const { features, labels } = blobs(4, 150, 3, 6);
    const s = selectL2(features, labels, { candidates: [1e-3, 1e-1, 100], folds: 3, seed: 2 });
    expect(s.scores).toHaveLength(3);
    expect(s.l2).not.toBe(100);
    expect(selectL2(features, labels, { candidates: [1e-3, 1e-1, 100], folds: 3, seed: 2 })).toEqual(s);
  });

  it('selectL2 warm starts along the l2 path give the cold-start scores (to the solver tolerance)', () => {
    const { features, labels } = blobs(5, 120, 4, 6);
    const candidates = [1e-4, 1e-2, 1e-3, 1];
    const warm = selectL2(features, labels, { candidates, folds: 3, seed: 4, tolerance: 1e-8 });
    expect(warm.scores.map((x) => x.l2)).toEqual(candidates);
    for (const c of candidates) {
      const cold = selectL2(features, labels, { candidates: [c], folds: 3, seed: 4, tolerance: 1e-8 }).scores[0]!;
      const w = warm.scores.find((x) => x.l2 === c)!;
      expect(w.accuracy).toBe(cold.accuracy);
      expect(Math.abs(w.crossEntropy - cold.crossEntropy)).toBeLessThan(1e-6);
    }
  });
});
