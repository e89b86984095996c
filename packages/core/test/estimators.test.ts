import { describe, expect, it } from 'vitest';
import { estimatePrior, estimatePriorEigen, estimatePriorEM } from '../src/index';
import { estimatePriorReference } from '../src/reference';
import { gaussianProblem, kl, normalizeLog } from './helpers';

describe('Saerens EM', () => {
  it('recovers a known label shift on synthetic data', () => {
    // Calibrated posteriors under a uniform training prior; the test set is drawn with prior q_t.
    const C = 6;
    const base = gaussianProblem({ n: 60000, classes: C, dim: 4, spread: 1.2, seed: 2, priorScale: 0 });
    const shift = Float64Array.from(normalizeLog([1.2, 0.4, 0, -0.3, -0.8, 0.6]), Math.exp);
    // Subsample rows so that label k is kept with probability proportional to shift_k.
    const maxShift = Math.max(...shift);
    const keep: number[] = [];
    for (let i = 0; i < base.logits.rows; i++) {
      const y = base.labels[i]!;
      if ((i * 7919) % 1000 < (1000 * shift[y]!) / maxShift) keep.push(i);
    }
    const data = new Float64Array(keep.length * C);
    const empirical = new Float64Array(C);
    keep.forEach((i, r) => {
      data.set(base.logits.data.subarray(i * C, (i + 1) * C), r * C);
      empirical[base.labels[i]!]! += 1 / keep.length;
    });
    const r = estimatePriorEM({ data, rows: keep.length, cols: C });
    expect(r.converged).toBe(true);
    expect(r.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(kl(empirical, r.prior)).toBeLessThan(2e-3);
    // Without adaptation the mean posterior is further from the truth.
    const mean = new Float64Array(C);
    for (let i = 0; i < keep.length; i++) {
      const row = data.subarray(i * C, (i + 1) * C);
      const p = Float64Array.from(normalizeLog(row), Math.exp);
      for (let c = 0; c < C; c++) mean[c]! += p[c]! / keep.length;
    }
    expect(kl(empirical, r.prior)).toBeLessThan(kl(empirical, mean) / 3);
  });
});

describe('eigenvector estimator', () => {
  const p = gaussianProblem({ n: 8000, classes: 10, dim: 5, spread: 1.1, seed: 4 });

  it('returns a positive distribution summing to 1, with labels and with pseudo-labels', () => {
    for (const labels of [p.labels, undefined]) {
      const r = estimatePriorEigen(p.logits, labels);
      expect(r.converged).toBe(true);
      expect(r.prior.every((q) => q > 0)).toBe(true);
      expect(r.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('finishes slowly mixing chains by a direct solve that agrees with long power iteration', () => {
    const sharp = { ...p.logits, data: p.logits.data.map((v) => 4 * v) };
    const long = estimatePriorEigen(sharp, p.labels, { maxIterations: 200000 });
    const short = estimatePriorEigen(sharp, p.labels, { maxIterations: 5 });
    expect(short.solver).toBe('power-iteration+direct');
    expect(short.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let k = 0; k < 10; k++) expect(Math.abs(short.prior[k]! - long.prior[k]!)).toBeLessThan(1e-8);
  });

  it('with labels it approximates the true prior of a Bayes zero-shot model', () => {
    const r = estimatePriorEigen(p.logits, p.labels);
    expect(kl(Float64Array.from(p.logPrior, Math.exp), r.prior)).toBeLessThan(0.02);
  });
});

describe('reference SGD solver (authors-style, for comparison)', () => {
  it('ends at a worse objective with a larger gradient than estimatePrior, q not on the simplex', () => {
    const p = gaussianProblem({ n: 2000, classes: 20, dim: 5, spread: 1, seed: 9 });
    const ours = estimatePrior(p.logits, p.labels);
    const ref = estimatePriorReference(p.logits, p.labels, { steps: 200 });
    expect(ref.converged).toBe(false);
    expect(ref.objective).toBeGreaterThan(ours.objective);
    expect(ref.gradientNorm).toBeGreaterThan(1e3 * ours.gradientNorm);
    expect(Math.abs(ref.rawPriorSum - 1)).toBeGreaterThan(1e-6);
  });
});
