// The prior (estimatePrior on the wasm-simd kernels) timed on one seeded problem, shared by Node and
// the Chromium page (browser-prior-entry.ts). A measurement (test/browser-prior-measure.mts), not a test.
import { createRng, estimatePrior } from '@gla/core';

/** Timings of {@link timePrior}: every run (ms, warm-up first) and the last estimate. */
export interface PriorTiming {
  readonly times: number[];
  readonly backend: string;
  readonly objective: number;
  readonly passes: number;
  readonly gradientNorm: number;
}

/**
 * Logits N x C (Float32) of a long-tailed zero-shot-like problem: z_ic = 1.5 e_ic - 1.2 log(1 + c),
 * plus 4 on the true class (seeded), as in test/workload.ts; then `runs` timed estimatePrior calls
 * (Float32 exp cache) on kernel `backend` ('auto' = the fastest registered, 'reference' = TypeScript).
 */
export function timePrior(rows: number, cols: number, runs: number, backend = 'auto'): PriorTiming {
  const rng = createRng(11);
  const z = new Float32Array(rows * cols);
  const y = new Int32Array(rows);
  const offset = Float64Array.from({ length: cols }, (_, c) => -1.2 * Math.log(1 + c));
  for (let i = 0; i < rows; i++) {
    y[i] = rng.int(cols);
    const o = i * cols;
    for (let c = 0; c < cols; c++) z[o + c] = 1.5 * rng.normal() + offset[c]!;
    z[o + y[i]!]! += 4;
  }
  const times: number[] = [];
  let prior: ReturnType<typeof estimatePrior> | undefined;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    prior = estimatePrior({ data: z, rows, cols }, y, { cachePrecision: 'float32', backend });
    times.push(performance.now() - start);
  }
  return { times, backend: prior!.backend ?? '', objective: prior!.objective, passes: prior!.passes, gradientNorm: prior!.gradientNorm };
}
