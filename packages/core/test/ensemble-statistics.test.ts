import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  calibrateTemperature,
  calibrateTemperatureWithOffset,
  classGroups,
  combineLogits,
  createRng,
  ENSEMBLE_SIGNIFICANCE_Z,
  fitEnsembleWeights,
  foldRows,
  negativeLogLikelihood,
  pairedDifference,
  pairedZStatistic,
  rowNegativeLogLikelihood,
  selectEnsembleWeights,
  stratifiedFolds,
  studentTCdf,
  studentTQuantile,
  takeLabels,
  takeRows,
  trainCenteredLinearProbe,
  trainLinearProbe,
} from '../src/index';

const N = 400;
const C = 4;
const y = Int32Array.from({ length: N }, (_, i) => i % C);
/** N x C logits with true-class margin `margin` plus unit Gaussian noise. */
function noisy(margin: number, rng: ReturnType<typeof createRng>, labels = y) {
  const n = labels.length;
  return {
    data: Float64Array.from({ length: n * C }, (_, k) => (labels[Math.floor(k / C)] === k % C ? margin : 0) + rng.normal()),
    rows: n,
    cols: C,
  };
}

describe('Student t and paired differences (goldens from scipy.stats)', () => {
  it('studentTQuantile(0.975, df) matches scipy.stats.t.ppf to 1e-10', () => {
    const golden: [number, number][] = [
      [1, 12.706204736174694],
      [2, 4.302652729749462],
      [4, 2.7764451051977934],
      [10, 2.228138851986274],
      [30, 2.0422724563012378],
    ];
    for (const [df, t] of golden) expect(Math.abs(studentTQuantile(0.975, df) - t)).toBeLessThan(1e-10 * t);
    expect(studentTCdf(1.3, 3)).toBeCloseTo(0.8577662456360515, 12);
    expect(studentTCdf(-0.7, 7.5)).toBeCloseTo(0.2525278109369252, 12);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451051977934, 10);
    expect(() => studentTQuantile(1, 3)).toThrowError(expect.objectContaining({ code: 'invalid-option' }) as unknown as Error);
  });

  it('pairedDifference: mean, sd, 95 % t interval and wins', () => {
    const r = pairedDifference([0.61, 0.58, 0.64, 0.6, 0.63], [0.6, 0.59, 0.61, 0.57, 0.62]);
    expect(r.mean).toBeCloseTo(0.014, 14);
    expect(r.std).toBeCloseTo(0.016733200530681527, 14);
    expect(r.low).toBeCloseTo(-0.006777012673671357, 12);
    expect(r.high).toBeCloseTo(0.03477701267367138, 12);
    expect([r.wins, r.ties, r.losses]).toEqual([4, 0, 1]);
    const one = pairedDifference([0.5], [0.4]);
    expect(Number.isNaN(one.low)).toBe(true);
    expect(one.wins).toBe(1);
    expect(() => pairedDifference([1], [1, 2])).toThrowError(expect.objectContaining({ code: 'length-mismatch' }) as unknown as Error);
  });

  it('pairedZStatistic: mean difference over its standard error, on the masked rows', () => {
    // differences 1, 2, 3, 4: mean 2.5, sd sqrt(5/3), se sqrt(5/12)
    expect(pairedZStatistic([1, 2, 3, 4], [0, 0, 0, 0])).toBeCloseTo(2.5 / Math.sqrt(5 / 12), 12);
    expect(pairedZStatistic([1, 1], [0, 0])).toBe(Number.POSITIVE_INFINITY);
    expect(pairedZStatistic([0, 0], [1, 1])).toBe(Number.NEGATIVE_INFINITY);
    expect(pairedZStatistic([0, 0], [0, 0])).toBe(0);
    expect(pairedZStatistic([2, 0, 5], [1, 1, 1], [1, 1, 0])).toBe(0);
  });

  it('rowNegativeLogLikelihood averages to negativeLogLikelihood (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const rng = createRng(seed);
        const labels = Int32Array.from({ length: 30 }, () => rng.int(C));
        const m = noisy(2, rng, labels);
        const rows = rowNegativeLogLikelihood(m, labels);
        const mean = rows.reduce((a, b) => a + b, 0) / rows.length;
        expect(mean).toBeCloseTo(negativeLogLikelihood(m, labels), 12);
        expect(rows.every((v) => v >= 0)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

describe('fitEnsembleWeights / calibrateTemperatureWithOffset / combineLogits', () => {
  it('never has a higher NLL than its start, and is a local optimum', () => {
    const rng = createRng(4);
    const f = noisy(3, rng);
    for (let k = 0; k < f.data.length; k++) f.data[k]! *= 2;
    const z = noisy(1, rng);
    const joint = fitEnsembleWeights(f, z, y);
    const at = (a: number, b: number) =>
      negativeLogLikelihood(
        combineLogits([
          [a, f],
          [b, z],
        ]),
        y,
      );
    expect(joint.nll).toBeLessThanOrEqual(at(1, 1) + 1e-12);
    const [a, b] = joint.weights;
    expect(joint.nll).toBeCloseTo(at(a, b), 12);
    expect(joint.gradientNorm).toBeLessThan(1e-6);
    for (const [da, db] of [
      [0.01, 0],
      [-0.01, 0],
      [0, 0.01],
      [0, -0.01],
    ] as const)
      expect(at(a + da, Math.max(0, b + db))).toBeGreaterThanOrEqual(joint.nll - 1e-9);
  });

  it('with a zero offset the bounded NLL temperature equals calibrateTemperature(nll)', () => {
    const rng = createRng(11);
    const m = noisy(2, rng);
    const t = calibrateTemperatureWithOffset(m, y, new Float64Array(C));
    expect(t).toBeCloseTo(calibrateTemperature(m, y, { method: 'nll' }), 5);
    // separable logits: calibrateTemperature has no finite optimum; the bounded search returns a
    // finite T in [0.01, 100] where the NLL is at its infimum (0 to double precision)
    const sep = { data: Float64Array.from({ length: N * C }, (_, k) => (y[Math.floor(k / C)] === k % C ? 5 : 0)), rows: N, cols: C };
    expect(() => calibrateTemperature(sep, y, { method: 'nll' })).toThrowError(
      expect.objectContaining({ code: 'not-identifiable' }) as unknown as Error,
    );
    const tSep = calibrateTemperatureWithOffset(sep, y, new Float64Array(C));
    expect(tSep).toBeGreaterThanOrEqual(0.01);
    expect(tSep).toBeLessThan(1);
    expect(negativeLogLikelihood(sep, y, { temperature: tSep })).toBeLessThan(1e-9);
  });

  it("'match-confidence' with an offset: confidence equals accuracy at the returned T; zero offset agrees with calibrateTemperature", () => {
    const rng = createRng(12);
    const m = noisy(2.5, rng);
    const t0 = calibrateTemperatureWithOffset(m, y, new Float64Array(C), { method: 'match-confidence' });
    const ref = calibrateTemperature(m, y, { method: 'match-confidence' });
    expect(Math.abs(t0 / ref - 1)).toBeLessThan(0.02);
    const offset = Float64Array.from([0.8, 0.2, -0.3, -0.7]);
    const t = calibrateTemperatureWithOffset(m, y, offset, { method: 'match-confidence' });
    const l = combineLogits([[1 / t, m]], offset);
    let conf = 0;
    let hit = 0;
    for (let i = 0; i < N; i++) {
      const row = Array.from(l.data.subarray(i * C, (i + 1) * C));
      const max = Math.max(...row);
      conf += 1 / row.reduce((s, v) => s + Math.exp(v - max), 0);
      if (row.indexOf(max) === y[i]) hit++;
    }
    expect(Math.abs(conf / N - hit / N)).toBeLessThanOrEqual(1e-3);
  });

  it('combineLogits rejects mismatched shapes', () => {
    const a = { data: new Float64Array(6), rows: 2, cols: 3 };
    const b = { data: new Float64Array(6), rows: 3, cols: 2 };
    expect(() =>
      combineLogits([
        [1, a],
        [1, b],
      ]),
    ).toThrowError(expect.objectContaining({ code: 'shape-mismatch' }) as unknown as Error);
  });
});

describe('selectEnsembleWeights (second-level CV and the significance gate)', () => {
  const folds = stratifiedFolds(y, C, 5, 1);
  it('keeps an informative second term and drops pure noise', () => {
    for (const seed of [7, 8, 9]) {
      const rng = createRng(seed);
      const f = noisy(1, rng);
      const good = selectEnsembleWeights(f, noisy(1.5, rng), y, folds, 5);
      expect(good.gated).not.toBe('probe');
      expect(good.z).toBeGreaterThan(ENSEMBLE_SIGNIFICANCE_Z);
      expect(Math.min(good.nllPaper, good.nllJoint)).toBeLessThan(good.nllProbe);
      const noise = { data: Float64Array.from({ length: N * C }, () => 3 * rng.normal()), rows: N, cols: C };
      const bad = selectEnsembleWeights(f, noise, y, folds, 5);
      expect(bad.gated).toBe('probe');
      expect(bad.ensemble).toBe('joint');
      expect(bad.nllPaper).toBeGreaterThan(bad.nllProbe);
    }
  });

  it('the gate: minZ = 0 takes any mean improvement, the default needs z > 1.645', () => {
    let seen = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const rng = createRng(seed);
      const f = noisy(1, rng);
      const d = noisy(0.15, rng);
      const r = selectEnsembleWeights(f, d, y, folds, 5);
      const raw = selectEnsembleWeights(f, d, y, folds, 5, { minZ: 0 });
      expect(raw.z).toBe(r.z);
      expect(r.gated === 'probe').toBe(!(r.z > ENSEMBLE_SIGNIFICANCE_Z));
      expect(raw.gated === 'probe').toBe(!(r.z > 0));
      if (r.z > 0 && r.z < ENSEMBLE_SIGNIFICANCE_Z) seen++;
    }
    expect(seen).toBeGreaterThan(0); // a weak term with a positive but insignificant gain occurs
  });
});

describe('folds, rows and the centred probe', () => {
  it('foldRows partitions the rows', () => {
    const folds = stratifiedFolds(y, C, 3, 5);
    const parts = foldRows(folds, 3);
    const held = parts.flatMap((p) => Array.from(p.held)).sort((a, b) => a - b);
    expect(held).toEqual(Array.from({ length: N }, (_, i) => i));
    for (const p of parts) expect(p.train.length + p.held.length).toBe(N);
    expect(() => foldRows([0, 3], 3)).toThrowError(expect.objectContaining({ code: 'invalid-option' }) as unknown as Error);
    expect(Array.from(takeLabels([5, 6, 7], [2, 0]))).toEqual([7, 5]);
    expect(Array.from(takeRows({ data: new Float64Array([1, 2, 3, 4]), rows: 2, cols: 2 }, [1]).data)).toEqual([3, 4]);
  });

  it('trainCenteredLinearProbe reaches the same optimum as trainLinearProbe on the raw features', () => {
    const rng = createRng(3);
    const D = 6;
    const labels = Int32Array.from({ length: 120 }, (_, i) => i % 3);
    const x = {
      data: Float64Array.from({ length: 120 * D }, (_, k) => 2 + rng.normal() + (k % D === labels[Math.floor(k / D)]! ? 1 : 0)),
      rows: 120,
      cols: D,
    };
    const centred = trainCenteredLinearProbe(x, labels, { classes: 3, l2: 1e-2, tolerance: 1e-9, maxIterations: 2000 });
    const raw = trainLinearProbe(x, labels, { classes: 3, l2: 1e-2, tolerance: 1e-9, maxIterations: 2000 });
    for (let k = 0; k < raw.head.weights.data.length; k++) expect(centred.weights.data[k]).toBeCloseTo(raw.head.weights.data[k]!, 5);
    for (let c = 0; c < 3; c++) expect(centred.bias[c]).toBeCloseTo(raw.head.bias[c]!, 4);
  });
});

describe('classGroups (the one head / medium / tail rule)', () => {
  it('cuts at round(C/3) and round(2C/3), symmetric under reversal', () => {
    const sizes = (C: number) => {
      const g = classGroups(Array.from({ length: C }, (_, c) => C - c));
      return [g.head.length, g.medium.length, g.tail.length];
    };
    expect(sizes(10)).toEqual([3, 4, 3]);
    expect(sizes(22)).toEqual([7, 8, 7]);
    expect(sizes(100)).toEqual([33, 34, 33]);
    expect(sizes(3)).toEqual([1, 1, 1]);
    const scores = [0.1, 0.5, 0.2, 0.9, 0.3, 0.05, 0.7];
    const g = classGroups(scores);
    const r = classGroups(scores.map((s) => -s));
    expect(r.head).toEqual([...g.tail].reverse());
    expect(r.tail).toEqual([...g.head].reverse());
    expect(() => classGroups([1, Number.NaN])).toThrowError(expect.objectContaining({ code: 'non-finite' }) as unknown as Error);
  });
});
