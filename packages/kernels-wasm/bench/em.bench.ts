// Saerens EM (estimatePriorEM) on 25,000 x 1,000 zero-shot-like logits, before / after:
//   node --conditions=source --import tsx bench/em.bench.ts [realistic|chance|zipf|all] [runs] [full|quick]
// 'before' is the historical scalar loop (core/test/em-reference.ts); the others are
// estimatePriorEM with the given acceleration and backend. Prints ms, EM-map evaluations, the
// final plain-step change and max |q - q_before|.
import { createRng, estimatePriorEM, type Matrix } from '@gla/core';
import '../src/index';
import { emReference } from '../../core/test/em-reference';

const N = 25000;
const C = 1000;

/**
 * z_ic = margin * [c = y_i] + sigma * N(0, 1) + 0.3 * N(0, 1)_c (class offsets); labels y drawn
 * from a shifted prior: q_c ~ exp(0.5 N(0, 1)) (mild shift), or Zipf-like q_c ~ rank^-0.6 with many
 * classes near 0 ('zipf': a near-boundary EM solution).
 */
function problem(margin: number, sigma: number, seed: number, zipf: boolean): { logits: Matrix; accuracy: number } {
  const rng = createRng(seed);
  const offset = Float64Array.from({ length: C }, () => 0.3 * rng.normal());
  const weights = Float64Array.from({ length: C }, (_, c) => (zipf ? 1 / (1 + ((c * 7919) % C)) ** 0.6 : Math.exp(0.5 * rng.normal())));
  const cumulative = new Float64Array(C);
  let total = 0;
  for (let c = 0; c < C; c++) cumulative[c] = total += weights[c]!;
  const data = new Float32Array(N * C);
  let hit = 0;
  for (let i = 0; i < N; i++) {
    const u = rng.next() * total;
    let lo = 0;
    let hi = C - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    const y = lo;
    let best = 0;
    const o = i * C;
    for (let c = 0; c < C; c++) {
      data[o + c] = sigma * rng.normal() + offset[c]! + (c === y ? margin : 0);
      if (data[o + c]! > data[o + best]!) best = c;
    }
    if (best === y) hit++;
  }
  return { logits: { data, rows: N, cols: C }, accuracy: hit / N };
}

const which = process.argv[2] ?? 'realistic';
const runs = Number(process.argv[3] ?? 1);
/** 'quick': only the accelerated wasm run (the before loop takes minutes). */
const quick = process.argv[4] === 'quick';
const cases: [string, number, number, number, boolean][] = [];
if (which === 'realistic' || which === 'all') cases.push(['realistic', 5.7, 1.5, 2000, false]);
if (which === 'chance' || which === 'all') cases.push(['near-chance', 2, 1.5, 300, false]);
if (which === 'zipf' || which === 'all') cases.push(['realistic-zipf', 5.7, 1.5, 300, true]);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const [name, margin, sigma, beforeCap, zipf] of cases) {
  const { logits, accuracy } = problem(margin, sigma, 11, zipf);
  console.log(`${name}: margin ${margin}, sigma ${sigma}, top-1 accuracy ${accuracy.toFixed(3)}`);
  const t0 = performance.now();
  const before = emReference(logits, { maxIterations: quick ? 1 : beforeCap });
  const beforeMs = performance.now() - t0;
  console.log(
    `  before (scalar loop)      ${beforeMs.toFixed(0)} ms, ${before.iterations} iterations (${(beforeMs / before.iterations).toFixed(1)} ms each), change ${before.change.toExponential(2)}${before.change > 1e-10 ? ' (capped)' : ''}`,
  );
  for (const [acceleration, backend, cap] of [
    ['none', 'wasm-simd', beforeCap],
    ['squarem', 'wasm-simd', 10000],
    ['squarem', 'reference', 10000],
  ] as const) {
    if (quick && (acceleration === 'none' || backend === 'reference')) continue;
    const times: number[] = [];
    let r = estimatePriorEM(logits, { acceleration, backend, maxIterations: cap });
    for (let run = 0; run < runs; run++) {
      const t = performance.now();
      r = estimatePriorEM(logits, { acceleration, backend, maxIterations: cap });
      times.push(performance.now() - t);
    }
    let diff = 0;
    for (let k = 0; k < C; k++) diff = Math.max(diff, Math.abs(r.prior[k]! - before.prior[k]!));
    console.log(
      `  ${acceleration.padEnd(8)} ${r.backend!.padEnd(16)} ${median(times).toFixed(0)} ms (median of ${runs}), ${r.iterations} passes (${(median(times) / r.passes).toFixed(1)} ms each), change ${r.gradientNorm.toExponential(2)}, converged ${r.converged}, max|q - before| ${diff.toExponential(2)}`,
    );
    if (backend === 'reference' && runs > 1) break;
  }
}
