// Solvers on ordinary and nearly separable 50,000 x 1,000 logits, per backend:
// node --conditions=source --import tsx bench/solvers.bench.ts
import { createRng, estimatePrior } from '@gla/core';
import '../src/index';

const N = 50000,
  C = 1000;
for (const margin of [4, 12]) {
  const rng = createRng(7);
  const raw = Float64Array.from({ length: C }, () => 0.7 * rng.normal());
  const z = new Float32Array(N * C);
  const y = new Int32Array(N);
  let hit = 0;
  for (let i = 0; i < N; i++) {
    y[i] = rng.int(C);
    const g = Math.floor(y[i] / 10);
    let best = 0;
    for (let c = 0; c < C; c++) {
      z[i * C + c] = rng.normal() + raw[c]! + (c === y[i] ? margin : 0) + (Math.floor(c / 10) === g ? 4 : 0);
      if (z[i * C + c] > z[i * C + best]) best = c;
    }
    if (best === y[i]) hit++;
  }
  console.log('margin', margin, 'accuracy', hit / N);
  for (const [solver, backend] of [
    ['auto', 'reference'],
    ['auto', 'wasm-simd'],
    ['lbfgs', 'wasm-simd'],
  ] as const) {
    const t0 = performance.now();
    const e = estimatePrior({ data: z, rows: N, cols: C }, y, { tolerance: 1e-9, solver, backend, maxIterations: 500 });
    console.log(
      margin,
      solver,
      backend,
      e.solver,
      (performance.now() - t0).toFixed(0),
      'ms',
      e.passes,
      'passes',
      e.iterations,
      'it',
      e.gradientNorm.toExponential(2),
      e.objective,
      e.converged,
    );
  }
}
