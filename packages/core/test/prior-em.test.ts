import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng, estimatePriorEM, type Matrix } from '../src/index';
import { emReference } from './em-reference';
import { maxAbsDiff, randomProblem } from './helpers';

// Saerens EM on the kernel layer, with and without SQUAREM, against the historical scalar
// implementation (test/em-reference.ts: plain EM steps over p_ik / pi_s,k in linear space).

/** Logits with per-class offsets of spread `bias` (a skewed q), rows of signal `scale`. */
function skewed(seed: number, N: number, C: number, scale: number, bias: number): Matrix {
  const rng = createRng(seed);
  const offsets = Array.from({ length: C }, () => bias * rng.normal());
  const data = new Float64Array(N * C);
  for (let i = 0; i < N; i++) {
    const y = rng.int(C);
    for (let k = 0; k < C; k++) data[i * C + k] = scale * rng.normal() + offsets[k]! + (k === y ? scale : 0);
  }
  return { data, rows: N, cols: C };
}

describe('estimatePriorEM: SQUAREM and plain EM reach the reference fixed point', () => {
  it('at tolerance 1e-13, both equal the scalar reference to 1e-10 and SQUAREM takes fewer passes', () => {
    const logits = skewed(3, 600, 40, 1.5, 1.2);
    const tolerance = 1e-13;
    const ref = emReference(logits, { tolerance, maxIterations: 200000 });
    const plain = estimatePriorEM(logits, { tolerance, acceleration: 'none', maxIterations: 200000 });
    const fast = estimatePriorEM(logits, { tolerance, maxIterations: 200000 });
    expect(plain.converged && fast.converged).toBe(true);
    expect(plain.solver).toBe('em');
    expect(fast.solver).toBe('em+squarem');
    // Plain EM on the kernels is the reference iteration: same steps, same count.
    expect(Math.abs(plain.iterations - ref.iterations)).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(plain.prior, ref.prior)).toBeLessThan(1e-12);
    expect(maxAbsDiff(fast.prior, ref.prior)).toBeLessThan(1e-10);
    expect(Math.abs(fast.objective - ref.objective)).toBeLessThan(1e-12 * Math.abs(ref.objective) + 1e-13);
    expect(fast.gradientNorm).toBeLessThanOrEqual(tolerance);
    expect(fast.passes).toBe(fast.iterations);
    expect(fast.iterations * 3).toBeLessThan(plain.iterations);
  });

  it('property: random sizes, temperatures and training priors give the reference q (SQUAREM, 1e-12 tolerance)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10000 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 17 }),
        fc.double({ min: 0.3, max: 3, noNaN: true }),
        (seed, N, C, T) => {
          const logits = skewed(seed, N, C, 2, 0.8);
          const rng = createRng(seed + 1);
          const raw = Array.from({ length: C }, () => 0.2 + rng.next());
          const total = raw.reduce((a, b) => a + b, 0);
          const trainPrior = raw.map((v) => v / total);
          const options = { temperature: T, trainPrior, tolerance: 1e-12, maxIterations: 400000 };
          const ref = emReference(logits, options);
          const got = estimatePriorEM(logits, options);
          // Both stop within 1e-12 of their fixed point; slow contraction (rate r) leaves up to
          // ~1e-12 / (1 - r) between the two stopping points.
          expect(got.converged).toBe(true);
          expect(maxAbsDiff(got.prior, ref.prior)).toBeLessThan(2e-7);
          expect(got.prior.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 13);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('near-chance logits (signal 1e-4): the prior stays the mean posterior, found in a few passes', () => {
    const { logits } = randomProblem(7, 2000, 50, 1e-4);
    const ref = emReference(logits, { tolerance: 1e-14 });
    const got = estimatePriorEM(logits, { tolerance: 1e-14 });
    expect(got.converged).toBe(true);
    expect(maxAbsDiff(got.prior, ref.prior)).toBeLessThan(1e-13);
    expect(got.iterations).toBeLessThan(20);
  });

  it('masked entries keep q_k = 0 for a class masked in every row; partly masked classes are estimated', () => {
    const base = skewed(11, 500, 9, 1.5, 0.7);
    const data = Float64Array.from(base.data);
    for (let i = 0; i < base.rows; i++) {
      data[i * 9 + 4] = Number.NEGATIVE_INFINITY; // class 4 never possible
      if (i % 3 === 0) data[i * 9 + 7] = Number.NEGATIVE_INFINITY; // class 7 masked in a third of the rows
    }
    const logits = { data, rows: base.rows, cols: 9 };
    const ref = emReference(logits, { tolerance: 1e-13, maxIterations: 100000 });
    for (const acceleration of ['none', 'squarem'] as const) {
      const got = estimatePriorEM(logits, { tolerance: 1e-13, acceleration, maxIterations: 100000 });
      expect(got.converged).toBe(true);
      expect(got.prior[4]).toBe(0);
      expect(got.logPrior[4]).toBe(Number.NEGATIVE_INFINITY);
      expect(got.prior[7]).toBeGreaterThan(0);
      expect(maxAbsDiff(got.prior, ref.prior)).toBeLessThan(1e-10);
    }
  });

  it('a training prior of 1e-300 for one class (weights below the kernel floor): the exact log-space pass gives the reference', () => {
    // At q = pi_s the first step gives theta_2 = log(mean p_2 / 1e-300) ~ +690, so the other classes'
    // kernel weights are ~1e-300, below the 1e-270 floor. In the rows where class 2's logit is -700
    // (E_i2 ~ 1e-304) the true s_i is ~1e-300 and a floored kernel pass would make it ~1e-270:
    // those steps must run the exact pass.
    const rng = createRng(5);
    const N = 300;
    const C = 3;
    const data = Float64Array.from({ length: N * C }, () => rng.normal());
    for (let i = 0; i < N; i += 2) data[i * C + 2] = -700;
    const logits = { data, rows: N, cols: C };
    const trainPrior = [0.5, 0.5, 1e-300];
    const ref = emReference(logits, { trainPrior, tolerance: 1e-13, maxIterations: 100000 });
    expect(ref.prior[2]).toBeGreaterThan(0.4);
    for (const acceleration of ['none', 'squarem'] as const) {
      const got = estimatePriorEM(logits, { trainPrior, tolerance: 1e-13, acceleration, maxIterations: 100000 });
      expect(got.converged).toBe(true);
      expect(Number.isFinite(got.objective)).toBe(true);
      expect(maxAbsDiff(got.prior, ref.prior)).toBeLessThan(1e-11);
    }
  });

  it('maxIterations caps the EM-map evaluations and reports not converged', () => {
    const logits = skewed(3, 600, 40, 1.5, 1.2);
    for (const acceleration of ['none', 'squarem'] as const) {
      const got = estimatePriorEM(logits, { tolerance: 1e-14, acceleration, maxIterations: 5 });
      expect(got.iterations).toBe(5);
      expect(got.converged).toBe(false);
      expect(got.gradientNorm).toBeGreaterThan(1e-14);
    }
    expect(() => estimatePriorEM(logits, { acceleration: 'fast' as never })).toThrow(/acceleration/);
  });
});
