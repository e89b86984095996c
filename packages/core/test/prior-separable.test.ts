import { describe, expect, it } from 'vitest';
import { createRng, estimatePrior, matrix } from '../src/index';

/** Nearly separable logits (zero-shot accuracy ~100 %): groups of ten confusable classes, a large margin. */
function separable(N: number, C: number, margin: number, seed: number) {
  const rng = createRng(seed);
  const raw = Float64Array.from({ length: C }, () => 0.7 * rng.normal());
  const data = new Float32Array(N * C);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const y = rng.int(C);
    labels[i] = y;
    for (let c = 0; c < C; c++)
      data[i * C + c] = rng.normal() + raw[c]! + (c === y ? margin : 0) + (Math.floor(c / 10) === Math.floor(y / 10) ? 4 : 0);
  }
  return { logits: matrix(data, N, C), labels };
}

describe('default solver on nearly separable logits', () => {
  it("'auto' hands sparse Newton over to L-BFGS when it stops converging superlinearly, and agrees with plain L-BFGS", () => {
    const { logits, labels } = separable(4000, 200, 12, 5);
    const sparse = estimatePrior(logits, labels, { solver: 'sparse-newton', backend: 'reference' });
    const auto = estimatePrior(logits, labels, { backend: 'reference' });
    const lbfgs = estimatePrior(logits, labels, { solver: 'lbfgs', backend: 'reference' });
    expect(auto.converged).toBe(true);
    expect(auto.gradientNorm).toBeLessThanOrEqual(1e-9);
    expect(auto.solver).toBe('sparse-newton+lbfgs');
    // Plain sparse Newton needs many more passes here; the guarded default stays within ~2x of L-BFGS.
    expect(sparse.passes).toBeGreaterThan(2 * auto.passes);
    expect(auto.passes).toBeLessThanOrEqual(2 * lbfgs.passes + 4);
    expect(Math.abs(auto.objective - lbfgs.objective)).toBeLessThan(2e-9);
    for (let k = 0; k < 200; k++) expect(Math.abs(auto.logPrior[k]! - lbfgs.logPrior[k]!)).toBeLessThan(1e-3);
  });
  it('ordinary logits keep the few-pass sparse Newton path', () => {
    const { logits, labels } = separable(4000, 200, 2, 6);
    const auto = estimatePrior(logits, labels, { backend: 'reference' });
    expect(auto.solver).toBe('sparse-newton');
    expect(auto.passes).toBeLessThanOrEqual(8);
    expect(auto.gradientNorm).toBeLessThanOrEqual(1e-9);
  });
});
