import { describe, expect, it } from 'vitest';
import {
  calibrateTemperatureWithOffset,
  createRng,
  fitEnsembleWeights,
  type Matrix,
  referenceKernels,
  selectEnsembleWeights,
  selectWiseAlphaFromLogits,
  stratifiedFolds,
} from '../src/index';
import {
  legacyFitEnsembleWeights,
  legacySelectEnsembleWeights,
  legacySelectWiseAlphaFromLogits,
  legacyTemperatureWithOffset,
} from './legacy-ensemble';

// The functions on the ensembleNll kernel against their former implementation (combined N x C
// matrices and the metrics' loops, test/legacy-ensemble.ts) on random problems: the same results
// to ~1e-12 relative.

const N = 700;
const C = 37; // not a multiple of any vector width
const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);

function problem(seed: number, dtype: 'float32' | 'float64' = 'float64') {
  const rng = createRng(seed);
  const y = Int32Array.from({ length: N }, () => rng.int(C));
  const make = (signal: number, noise: number, shift: number): Matrix => {
    const data = dtype === 'float32' ? new Float32Array(N * C) : new Float64Array(N * C);
    for (let i = 0; i < N; i++)
      for (let c = 0; c < C; c++) data[i * C + c] = (c === y[i] ? signal : 0) + noise * rng.normal() + shift * Math.sin(c);
    return { data, rows: N, cols: C };
  };
  const f = make(3, 1.2, 0);
  const d = make(2, 1.5, 0.8);
  const offset = Float64Array.from({ length: C }, () => 0.4 * rng.normal());
  return { f, d, y, offset, folds: stratifiedFolds(y, C, 5, seed) };
}

describe('ensembleNll kernel == the combined-matrix formulas', () => {
  it('the kernel itself: value, accuracy, per-row losses and derivatives of a f + b d + offset', () => {
    const { f, d, y, offset } = problem(3);
    const [a, b] = [0.7, 1.2];
    const l = new Float64Array(N * C);
    for (let k = 0; k < N * C; k++) l[k] = a * f.data[k]! + b * d.data[k]! + offset[k % C]!;
    let value = 0;
    let correct = 0;
    let gA = 0;
    let hAB = 0;
    const rowLoss = new Float64Array(N);
    const r = referenceKernels.ensembleNll!(f.data, d.data, N, C, y, a, b, offset, { derivatives: true, rowLoss });
    for (let i = 0; i < N; i++) {
      const row = Array.from(l.subarray(i * C, (i + 1) * C));
      const m = Math.max(...row);
      const p = row.map((v) => Math.exp(v - m));
      const s = p.reduce((x, v) => x + v, 0);
      const loss = m + Math.log(s) - row[y[i]!]!;
      expect(rel(rowLoss[i]!, loss)).toBeLessThan(1e-13);
      value += loss;
      if (row.indexOf(m) === y[i]) correct++;
      let ef = 0;
      let ed = 0;
      let efd = 0;
      for (let c = 0; c < C; c++) {
        ef += (p[c]! / s) * f.data[i * C + c]!;
        ed += (p[c]! / s) * d.data[i * C + c]!;
        efd += (p[c]! / s) * f.data[i * C + c]! * d.data[i * C + c]!;
      }
      gA += ef - f.data[i * C + y[i]!]!;
      hAB += efd - ef * ed;
    }
    expect(r.correct).toBe(correct);
    expect(rel(r.value, value)).toBeLessThan(1e-13);
    expect(rel(r.gradA, gA)).toBeLessThan(1e-10);
    expect(rel(r.hessAB, hAB)).toBeLessThan(1e-10);
  });

  for (const seed of [1, 2]) {
    it(`fitEnsembleWeights (seed ${seed}): weights, NLL and iterations of the former implementation`, () => {
      const { f, d, y, offset } = problem(seed);
      for (const options of [{}, { offset, start: [0.5, 0.5] as [number, number] }]) {
        const got = fitEnsembleWeights(f, d, y, options);
        const want = legacyFitEnsembleWeights(f, d, y, options);
        expect(got.iterations).toBe(want.iterations);
        expect(rel(got.weights[0], want.weights[0])).toBeLessThan(1e-12);
        expect(rel(got.weights[1], want.weights[1])).toBeLessThan(1e-12);
        expect(rel(got.nll, want.nll)).toBeLessThan(1e-12);
        expect(Math.abs(got.gradientNorm - want.gradientNorm)).toBeLessThan(1e-12);
        expect(got.gradientNorm).toBeLessThan(1e-6);
      }
    });

    it(`calibrateTemperatureWithOffset (seed ${seed}): the golden-section result of the former implementation`, () => {
      const { f, y, offset } = problem(seed);
      const got = calibrateTemperatureWithOffset(f, y, offset);
      expect(rel(got, legacyTemperatureWithOffset(f, y, offset))).toBeLessThan(1e-12);
      expect(calibrateTemperatureWithOffset(f, y, offset, { backend: 'reference' })).toBe(got);
      // Masked logits with a masked offset class: the combined-matrix path, exactly the former one.
      const masked = { ...f, data: f.data.slice() };
      for (let i = 0; i < N; i++) if (y[i] !== 5) masked.data[i * C + 5] = Number.NEGATIVE_INFINITY;
      const off = offset.slice();
      off[11] = Number.NEGATIVE_INFINITY;
      expect(calibrateTemperatureWithOffset(masked, y, off)).toBe(legacyTemperatureWithOffset(masked, y, off));
      // ... and the kernel with a masked offset class on finite logits.
      const yLive = y.map((v) => (v === 11 ? 12 : v));
      expect(rel(calibrateTemperatureWithOffset(f, yLive, off), legacyTemperatureWithOffset(f, yLive, off))).toBeLessThan(1e-12);
    });

    it(`selectEnsembleWeights (seed ${seed}): held-out NLLs, z and the choices of the former implementation`, () => {
      const { f, d, y, offset, folds } = problem(seed);
      for (const options of [{}, { offset }]) {
        const got = selectEnsembleWeights(f, d, y, folds, 5, options);
        const want = legacySelectEnsembleWeights(f, d, y, folds, 5, options);
        expect(got.ensemble).toBe(want.ensemble);
        expect(got.gated).toBe(want.gated);
        for (const k of ['nllProbe', 'nllPaper', 'nllJoint'] as const) expect(rel(got[k], want[k])).toBeLessThan(1e-12);
        expect(rel(got.z, want.z)).toBeLessThan(1e-9);
      }
    });

    it(`selectWiseAlphaFromLogits (seed ${seed}): accuracies, NLLs and alpha of the former implementation`, () => {
      const grid = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
      for (const dtype of ['float32', 'float64'] as const) {
        const { f, d, y } = problem(seed, dtype);
        const z = problem(seed + 10, 'float64').d; // mixed dtypes: Float32 zero-shot, Float64 probe
        const got = selectWiseAlphaFromLogits(d, dtype === 'float32' ? z : f, y, grid);
        const want = legacySelectWiseAlphaFromLogits(d, dtype === 'float32' ? z : f, y, grid);
        expect(got.alpha).toBe(want.alpha);
        got.scores.forEach((s, k) => {
          expect(s.accuracy).toBe(want.scores[k]!.accuracy);
          expect(rel(s.nll, want.scores[k]!.nll)).toBeLessThan(1e-12);
        });
      }
      // Masked zero-shot logits: the combined-matrix path, the former results exactly (and its errors).
      const { f, d, y } = problem(seed);
      const masked = { ...d, data: d.data.slice() };
      for (let i = 0; i < N; i++) if (y[i] !== 3) masked.data[i * C + 3] = Number.NEGATIVE_INFINITY;
      expect(selectWiseAlphaFromLogits(masked, f, y, [0.3, 0.6])).toEqual(legacySelectWiseAlphaFromLogits(masked, f, y, [0.3, 0.6]));
      expect(() => selectWiseAlphaFromLogits(masked, f, y, [1])).toThrowError(
        expect.objectContaining({ code: 'non-finite' }) as unknown as Error,
      );
    });
  }

  it('offsets: NaN / +Infinity and an all-masked offset are rejected, a masked class is kept', () => {
    const { f, d, y, offset } = problem(4);
    const bad = offset.slice();
    bad[2] = Number.NaN;
    expect(() => fitEnsembleWeights(f, d, y, { offset: bad })).toThrowError(
      expect.objectContaining({ code: 'non-finite' }) as unknown as Error,
    );
    bad[2] = Number.POSITIVE_INFINITY;
    expect(() => selectEnsembleWeights(f, d, y, new Int32Array(N), 1, { offset: bad })).toThrowError(
      expect.objectContaining({ code: 'non-finite' }) as unknown as Error,
    );
    expect(() => fitEnsembleWeights(f, d, y, { offset: new Float64Array(C).fill(Number.NEGATIVE_INFINITY) })).toThrowError(
      expect.objectContaining({ code: 'masked-row' }) as unknown as Error,
    );
    const off = offset.slice();
    off[7] = Number.NEGATIVE_INFINITY;
    const yLive = y.map((v) => (v === 7 ? 8 : v));
    const got = fitEnsembleWeights(f, d, yLive, { offset: off });
    const want = legacyFitEnsembleWeights(f, d, yLive, { offset: off });
    expect(rel(got.weights[0], want.weights[0])).toBeLessThan(1e-12);
    expect(rel(got.nll, want.nll)).toBeLessThan(1e-12);
    // A label on the masked class: infinite NLL, as before.
    expect(fitEnsembleWeights(f, d, y, { offset: off }).nll).toBe(Number.POSITIVE_INFINITY);
  });
});
