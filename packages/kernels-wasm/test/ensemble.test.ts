import {
  calibrateTemperatureWithOffset,
  createRng,
  fitEnsembleWeights,
  type Matrix,
  resolveKernel,
  selectEnsembleWeights,
  selectWiseAlphaFromLogits,
  stratifiedFolds,
} from '@gla/core';
import { describe, expect, it } from 'vitest';
import { wasmKernels } from '../src/index';

// The ensemble-weight functions of core on the wasm-simd ensembleNll kernel give the results of
// the TypeScript reference kernel (to ~1e-12 relative) on a 1,000-class problem.
describe.runIf(wasmKernels)('ensemble weights on wasm-simd == on the reference kernels', () => {
  const N = 1203;
  const C = 1000;
  const rng = createRng(5);
  const y = Int32Array.from({ length: N }, () => rng.int(C));
  const make = (dtype: 'float32' | 'float64', signal: number, noise: number): Matrix => {
    const data = dtype === 'float32' ? new Float32Array(N * C) : new Float64Array(N * C);
    for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) data[i * C + c] = (c === y[i] ? signal : 0) + noise * rng.normal();
    return { data, rows: N, cols: C };
  };
  const f = make('float64', 3, 1);
  const d = make('float64', 2.5, 1.2);
  const z = make('float32', 2.5, 1.2);
  const offset = Float64Array.from({ length: C }, () => 0.3 * rng.normal());
  const folds = stratifiedFolds(y, C, 5, 1);
  const rel = (got: number, want: number) => Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);

  it("is the default backend of 'ensembleNll'", () => expect(resolveKernel('ensembleNll').name).toBe('wasm-simd'));

  it('fitEnsembleWeights and calibrateTemperatureWithOffset', () => {
    const got = fitEnsembleWeights(f, d, y, { offset, backend: 'wasm-simd' });
    const want = fitEnsembleWeights(f, d, y, { offset, backend: 'reference' });
    expect(got.iterations).toBe(want.iterations);
    for (const k of [0, 1]) expect(rel(got.weights[k]!, want.weights[k]!)).toBeLessThan(1e-12);
    expect(rel(got.nll, want.nll)).toBeLessThan(1e-12);
    const t = calibrateTemperatureWithOffset(f, y, offset, { backend: 'wasm-simd' });
    expect(rel(t, calibrateTemperatureWithOffset(f, y, offset, { backend: 'reference' }))).toBeLessThan(1e-12);
  });

  it('selectEnsembleWeights (5 folds, with and without an offset)', () => {
    for (const options of [{}, { offset }]) {
      const got = selectEnsembleWeights(f, d, y, folds, 5, { ...options, backend: 'wasm-simd' });
      const want = selectEnsembleWeights(f, d, y, folds, 5, { ...options, backend: 'reference' });
      expect([got.ensemble, got.gated]).toEqual([want.ensemble, want.gated]);
      for (const k of ['nllProbe', 'nllPaper', 'nllJoint'] as const) expect(rel(got[k], want[k])).toBeLessThan(1e-12);
      expect(rel(got.z, want.z)).toBeLessThan(1e-9);
    }
  });

  it('selectWiseAlphaFromLogits (Float32 zero-shot, Float64 probe logits)', () => {
    const grid = Array.from({ length: 11 }, (_, k) => k / 10);
    const got = selectWiseAlphaFromLogits(z, f, y, grid, { backend: 'wasm-simd' });
    const want = selectWiseAlphaFromLogits(z, f, y, grid, { backend: 'reference' });
    expect(got.alpha).toBe(want.alpha);
    got.scores.forEach((s, k) => {
      expect(s.accuracy).toBe(want.scores[k]!.accuracy);
      expect(rel(s.nll, want.scores[k]!.nll)).toBeLessThan(1e-12);
    });
  });
});
