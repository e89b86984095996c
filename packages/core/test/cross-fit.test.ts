import { describe, expect, it } from 'vitest';
import {
  applyHead,
  classScaledTolerance,
  combineLogits,
  createRng,
  crossFitLinearProbe,
  crossFitLinearProbeAsync,
  interpolateHeads,
  type LinearHead,
  type Matrix,
  selectWiseAlpha,
  selectWiseAlphaFromLogits,
  stratifiedFolds,
  takeRows,
} from '../src/index';

/** N x D Gaussian class clusters (C classes) and a zero-shot-like head. */
function problem(N = 150, D = 6, C = 3) {
  const rng = createRng(11);
  const means = Array.from({ length: C }, () => Array.from({ length: D }, () => rng.normal()));
  const data = new Float64Array(N * D);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % C;
    for (let d = 0; d < D; d++) data[i * D + d] = means[i % C]![d]! + 1.5 * rng.normal();
  }
  const zs: LinearHead = {
    weights: {
      data: Float64Array.from({ length: C * D }, () => rng.normal()),
      rows: C,
      cols: D,
    },
    bias: new Float64Array(C),
  };
  return { features: { data, rows: N, cols: D } as Matrix, labels, zs, C };
}

describe('crossFitLinearProbe', () => {
  const { features, labels, C } = problem();
  // the labelled set: every other row, in a shuffled order
  const rows = Int32Array.from(createRng(3).shuffle(Array.from({ length: 75 }, (_, r) => 2 * r)));
  const yL = Int32Array.from(rows, (i) => labels[i]!);
  const folds = stratifiedFolds(yL, C, 5, 1);
  const options = {
    classes: C,
    folds,
    foldCount: 5,
    l2Grid: [1e-3, 1e-1, 1e-2],
  };

  it('rows: the same result as on the takeRows copy of the labelled rows', () => {
    const copy = crossFitLinearProbe(takeRows(features, rows), yL, options);
    const byIndex = crossFitLinearProbe(features, yL, { ...options, rows });
    expect(byIndex.scores).toEqual(copy.scores);
    expect(byIndex.l2).toBe(copy.l2);
    expect(Array.from(byIndex.outOfFold.data)).toEqual(Array.from(copy.outOfFold.data));
    expect(copy.scores.map((s) => s.l2)).toEqual([1e-1, 1e-2, 1e-3]);
    expect(copy.scores[0]!.accuracy).toBeGreaterThan(0.5);
  });

  it('async form (no asynchronous backend registered: the synchronous kernels) gives the synchronous result', async () => {
    const sync = crossFitLinearProbe(features, yL, { ...options, rows });
    const async = await crossFitLinearProbeAsync(features, yL, {
      ...options,
      rows,
    });
    expect(async.scores).toEqual(sync.scores);
    expect(Array.from(async.outOfFold.data)).toEqual(Array.from(sync.outOfFold.data));
    expect(async.heads.map((h) => Array.from(h!.weights.data))).toEqual(sync.heads.map((h) => Array.from(h!.weights.data)));
  });

  it('validates rows, labels and folds with typed errors', async () => {
    expect(() =>
      crossFitLinearProbe(features, yL, {
        ...options,
        rows: [...rows.subarray(1), 150],
      }),
    ).toThrow(expect.objectContaining({ code: 'invalid-option' }));
    expect(() => crossFitLinearProbe(features, yL, options)).toThrow(expect.objectContaining({ code: 'length-mismatch' }));
    await expect(
      crossFitLinearProbeAsync(features, yL, {
        ...options,
        rows,
        folds: folds.subarray(1),
      }),
    ).rejects.toThrow(expect.objectContaining({ code: 'length-mismatch' }));
  });

  it('classScaledTolerance: unchanged up to 100 classes, times 100 / C above', () => {
    expect(classScaledTolerance(1e-4, 22)).toBe(1e-4);
    expect(classScaledTolerance(1e-4, 100)).toBe(1e-4);
    expect(classScaledTolerance(1e-4, 1000)).toBeCloseTo(1e-5, 18);
    expect(classScaledTolerance(1e-5, 4000)).toBeCloseTo(2.5e-7, 20);
  });
});

describe('WiSE-FT alpha from logits', () => {
  const { features, labels, zs, C } = problem(120, 5, 4);
  const folds = stratifiedFolds(labels, C, 4, 2);
  const cf = crossFitLinearProbe(features, labels, {
    classes: C,
    folds,
    foldCount: 4,
    l2Grid: [1e-2],
  });
  const alphaGrid = [0, 0.25, 0.5, 0.75, 1];

  it('logits of the interpolated head = (1 - alpha) zero-shot logits + alpha fine-tuned logits (1e-12)', () => {
    const ft = cf.heads[0]!;
    const z = applyHead(zs, features);
    const f = applyHead(ft, features);
    for (const alpha of [0, 0.3, 0.5, 1]) {
      const direct = applyHead(interpolateHeads(zs, ft, alpha), features);
      const combined = combineLogits([
        [1 - alpha, z],
        [alpha, f],
      ]);
      let diff = 0;
      for (let k = 0; k < direct.data.length; k++) diff = Math.max(diff, Math.abs(direct.data[k]! - combined.data[k]!));
      expect(diff).toBeLessThan(1e-12);
    }
  });

  it('selectWiseAlpha (fold heads) = selectWiseAlphaFromLogits on the out-of-fold logits, per-alpha scores to 1e-12', () => {
    const byHeads = selectWiseAlpha(features, labels, {
      folds,
      foldCount: 4,
      foldHeads: cf.heads,
      zeroShotHead: zs,
      alphaGrid,
    });
    const byLogits = selectWiseAlphaFromLogits(applyHead(zs, features), cf.outOfFold, labels, alphaGrid);
    expect(byLogits.alpha).toBe(byHeads.alpha);
    byHeads.scores.forEach((s, k) => {
      expect(byLogits.scores[k]!.alpha).toBe(s.alpha);
      expect(byLogits.scores[k]!.accuracy).toBe(s.accuracy);
      expect(Math.abs(byLogits.scores[k]!.nll - s.nll)).toBeLessThan(1e-12);
    });
    // the scores differ across alpha, so the choice is not vacuous
    expect(new Set(byHeads.scores.map((s) => s.nll)).size).toBe(alphaGrid.length);
  });

  it('validates shapes and alphas', () => {
    const z = applyHead(zs, features);
    expect(() => selectWiseAlphaFromLogits(z, takeRows(cf.outOfFold, [0, 1]), labels, alphaGrid)).toThrow(
      expect.objectContaining({ code: 'shape-mismatch' }),
    );
    expect(() => selectWiseAlphaFromLogits(z, cf.outOfFold, labels, [])).toThrow(expect.objectContaining({ code: 'empty-input' }));
    expect(() => selectWiseAlphaFromLogits(z, cf.outOfFold, labels, [1.5])).toThrow(expect.objectContaining({ code: 'invalid-option' }));
  });
});
