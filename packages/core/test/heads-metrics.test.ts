import { describe, expect, it } from 'vitest';
import {
  accuracy,
  applyHead,
  argmaxRows,
  balancedAccuracy,
  confusionMatrix,
  cosineLogits,
  debias,
  expectedCalibrationError,
  glaLogits,
  groupAccuracy,
  interpolateHeads,
  l2Normalize,
  logitAdjust,
  matrix,
  negativeLogLikelihood,
  outputEnsemble,
  perClassAccuracy,
  reliabilityBins,
  zeroShotHead,
} from '../src/index';

const z = matrix(Float64Array.from([2, 1, 0, 0, 3, 1, 1, 1, 4, 5, 0, 0]), 4, 3);
const y = Int32Array.from([0, 1, 1, 2]);

describe('debias and ensembles', () => {
  it('debias = z/T - log q; glaLogits = f/Tf + z/Tz - log q - log pi_s + log pi_t', () => {
    const logq = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const d = debias(z, logq, { temperature: 2 });
    expect(d.data[1]).toBeCloseTo(0.5 - Math.log(0.3), 14);
    const f = matrix(Float64Array.from(z.data.map((v) => v * 2)), 4, 3);
    const g = glaLogits({
      finetuned: f,
      zeroShot: z,
      logPrior: logq,
      finetunedTemperature: 4,
      zeroShotTemperature: 2,
      trainPrior: [0.6, 0.2, 0.2],
      targetPrior: [0.2, 0.4, 0.4],
    });
    expect(g.data[4]).toBeCloseTo((3 * 2) / 4 + 3 / 2 - Math.log(0.3) - Math.log(0.2) + Math.log(0.4), 13);
    expect(logitAdjust(z, [Math.log(0.5), 0, 0], 2).data[0]).toBeCloseTo(2 - 2 * Math.log(0.5), 14);
    expect(Array.from(outputEnsemble(z, f, { weights: [1, 0.5] }).data)).toEqual(Array.from(z.data.map((v) => 2 * v)));
  });
});

describe('heads', () => {
  it('zero-shot head = scale * renormalised mean of normalised templates (template-major); cosine logits match', () => {
    // 2 templates x 2 classes x 2 dims.
    const text = matrix(Float64Array.from([1, 0, 0, 2, 3, 3, 0, 1]), 4, 2);
    const head = zeroShotHead(text, { classes: 2, scale: 10 });
    const s = Math.SQRT1_2;
    const c0 = [1 + s, s];
    const n0 = Math.hypot(c0[0]!, c0[1]!);
    expect(head.weights.data[0]).toBeCloseTo((10 * c0[0]!) / n0, 12);
    expect(Array.from(head.weights.data.slice(2))).toEqual([0, 10]);
    const features = matrix(Float64Array.from([3, 4, -1, 0]), 2, 2);
    const viaHead = applyHead(head, l2Normalize(features));
    const cos = cosineLogits(features, matrix(Float64Array.from(head.weights.data), 2, 2), 10);
    for (let i = 0; i < 4; i++) expect(viaHead.data[i]).toBeCloseTo(cos.data[i]!, 12);
    const mid = interpolateHeads(head, { weights: matrix(new Float64Array(4), 2, 2), bias: Float64Array.from([2, 4]) }, 0.25);
    expect(mid.weights.data[3]).toBeCloseTo(7.5, 12);
    expect(Array.from(mid.bias)).toEqual([0.5, 1]);
  });
});

describe('metrics', () => {
  it('accuracy family on a hand-checked example', () => {
    expect(Array.from(argmaxRows(z))).toEqual([0, 1, 2, 0]);
    expect(accuracy(z, y)).toBe(0.5);
    expect(Array.from(perClassAccuracy(z, y))).toEqual([1, 0.5, 0]);
    expect(balancedAccuracy(z, y)).toBeCloseTo(0.5, 15);
    expect(Array.from(confusionMatrix(z, y).data)).toEqual([1, 0, 0, 0, 1, 1, 1, 0, 0]);
    const g = groupAccuracy(z, y, [3, 2, 1]);
    expect([g.head, g.medium, g.tail]).toEqual([1, 0.5, 0]);
    expect(Array.from(g.groups.tail)).toEqual([2]);
  });

  it('NLL, ECE and reliability bins', () => {
    const two = matrix(Float64Array.from([Math.log(3), 0, 0, Math.log(3)]), 2, 2);
    expect(negativeLogLikelihood(two, [0, 0])).toBeCloseTo((-Math.log(0.75) - Math.log(0.25)) / 2, 14);
    // Both rows have confidence 0.75, one right: |0.5 - 0.75| = 0.25.
    expect(expectedCalibrationError(two, [0, 0])).toBeCloseTo(0.25, 14);
    const bins = reliabilityBins(two, [0, 0]);
    expect(bins).toHaveLength(15);
    const used = bins.filter((b) => b.count > 0);
    expect(used).toHaveLength(1);
    expect(used[0]!.lower).toBeLessThan(0.75);
    expect(used[0]!.upper).toBeGreaterThanOrEqual(0.75);
  });
});
