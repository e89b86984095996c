import { createRng, estimatePriorEM, type Matrix } from '@gla/core';
import { describe, expect, it } from 'vitest';
import { wasmKernels } from '../src/index';

// Saerens EM (with SQUAREM and plain) on the wasm-simd kernels gives the reference kernels' q at
// 1,000 classes, from Float32 and Float64 logits, with masked entries.
describe.runIf(wasmKernels)('estimatePriorEM on wasm-simd == on the reference kernels', () => {
  const N = 1500;
  const C = 1000;
  const rng = createRng(9);
  const offsets = Float64Array.from({ length: C }, () => 1.5 * rng.normal());
  const make = (dtype: 'float32' | 'float64'): Matrix => {
    const data = dtype === 'float32' ? new Float32Array(N * C) : new Float64Array(N * C);
    for (let i = 0; i < N; i++) {
      const y = rng.int(C);
      for (let k = 0; k < C; k++) data[i * C + k] = 2 * rng.normal() + offsets[k]! + (k === y ? 4 : 0);
      data[i * C + ((i * 7) % C)] = Number.NEGATIVE_INFINITY;
    }
    return { data, rows: N, cols: C };
  };

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: same q to 2e-10, pass counts within 2, backend named`, () => {
      const logits = make(dtype);
      for (const acceleration of ['squarem', 'none'] as const) {
        const options = { acceleration, tolerance: 1e-10, temperature: 0.7 };
        const got = estimatePriorEM(logits, { ...options, backend: 'wasm-simd' });
        const want = estimatePriorEM(logits, { ...options, backend: 'reference' });
        expect(got.backend).toBe('wasm-simd');
        expect(want.backend).toBe('reference');
        expect(got.converged && want.converged).toBe(true);
        // Both stop where a plain step changes q by <= 1e-10; rounding of the two kernels' sums moves
        // the stopping point by about that much (absolute: q_k of a vanishing class differ relatively).
        let abs = 0;
        for (let k = 0; k < C; k++) abs = Math.max(abs, Math.abs(got.prior[k]! - want.prior[k]!));
        expect(abs).toBeLessThan(2e-10);
        expect(Math.abs(got.iterations - want.iterations)).toBeLessThanOrEqual(2);
        expect(Math.abs(got.objective - want.objective)).toBeLessThan(1e-12 * Math.abs(want.objective));
      }
    });
  }
});
