// The few-shot protocol's ensemble-weight passes at 1,000 classes, before (the former
// combined-matrix implementation, core/test/legacy-ensemble.ts) and after (the ensembleNll kernel:
// wasm-simd, and the TypeScript reference kernel), interleaved in one run, median of the rounds:
// node --conditions=source --import tsx bench/ensemble.bench.ts [N] [C] [rounds]
import {
  calibrateTemperatureWithOffset,
  createRng,
  fitEnsembleWeights,
  type Matrix,
  selectEnsembleWeights,
  selectWiseAlphaFromLogits,
  stratifiedFolds,
} from '@gla/core';
import {
  legacyFitEnsembleWeights,
  legacySelectEnsembleWeights,
  legacySelectWiseAlphaFromLogits,
  legacyTemperatureWithOffset,
} from '../../core/test/legacy-ensemble';
import '../src/index';

const N = Number(process.argv[2] ?? 20_000);
const C = Number(process.argv[3] ?? 1_000);
const rounds = Number(process.argv[4] ?? 3);
const rng = createRng(11);
const y = Int32Array.from({ length: N }, () => rng.int(C));
/** signal * onehot(y) + noise * N(0, 1), Float64 (probe and debiased zero-shot logits) or Float32 (zero-shot). */
function logits(dtype: 'float32' | 'float64', signal: number, noise: number): Matrix {
  const data = dtype === 'float32' ? new Float32Array(N * C) : new Float64Array(N * C);
  for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) data[i * C + c] = (c === y[i] ? signal : 0) + noise * rng.normal();
  return { data, rows: N, cols: C };
}
const f = logits('float64', 3, 1);
const d = logits('float64', 2.5, 1.2);
const z = logits('float32', 25, 12); // zero-shot logits at CLIP's scale
const offset = Float64Array.from({ length: C }, () => 0.3 * rng.normal());
const folds = stratifiedFolds(y, C, 5, 1);
const grid = Array.from({ length: 11 }, (_, k) => k / 10);

type Variant = 'before' | 'wasm-simd' | 'reference';
const tasks: Record<string, (v: Variant) => number> = {
  fitEnsembleWeights: (v) => (v === 'before' ? legacyFitEnsembleWeights(f, d, y).nll : fitEnsembleWeights(f, d, y, { backend: v }).nll),
  'selectEnsembleWeights (5 folds)': (v) =>
    v === 'before'
      ? legacySelectEnsembleWeights(f, d, y, folds, 5).nllJoint
      : selectEnsembleWeights(f, d, y, folds, 5, { backend: v }).nllJoint,
  'selectWiseAlphaFromLogits (11 alphas)': (v) =>
    v === 'before'
      ? legacySelectWiseAlphaFromLogits(z, f, y, grid).scores[5]!.nll
      : selectWiseAlphaFromLogits(z, f, y, grid, { backend: v }).scores[5]!.nll,
  calibrateTemperatureWithOffset: (v) =>
    v === 'before' ? legacyTemperatureWithOffset(f, y, offset) : calibrateTemperatureWithOffset(f, y, offset, { backend: v }),
};
const variants: Variant[] = ['before', 'wasm-simd', 'reference'];
const times: Record<string, number[]> = {};
const values: Record<string, number> = {};
for (let r = 0; r < rounds; r++) {
  for (const [task, run] of Object.entries(tasks)) {
    for (const v of variants) {
      const t0 = performance.now();
      values[`${task} ${v}`] = run(v);
      (times[`${task} ${v}`] ??= []).push(performance.now() - t0);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`N = ${N}, C = ${C}, median of ${rounds} interleaved rounds`);
for (const task of Object.keys(tasks)) {
  const t = Object.fromEntries(variants.map((v) => [v, median(times[`${task} ${v}`]!)]));
  const diff = (v: Variant) => Math.abs(values[`${task} ${v}`]! / values[`${task} before`]! - 1).toExponential(1);
  console.log(
    `${task.padEnd(38)} before ${(t.before! / 1000).toFixed(2)} s | wasm-simd ${(t['wasm-simd']! / 1000).toFixed(2)} s (${(t.before! / t['wasm-simd']!).toFixed(1)}x, rel. diff ${diff('wasm-simd')}) | reference kernel ${(t.reference! / 1000).toFixed(2)} s (${(t.before! / t.reference!).toFixed(1)}x, rel. diff ${diff('reference')})`,
  );
}
