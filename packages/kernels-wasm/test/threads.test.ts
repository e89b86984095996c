import { createRng, referenceKernels } from '@gla/core';
import { afterAll, describe, expect, it } from 'vitest';
import { setWasmThreads, wasmKernels } from '../src/index';
import { threadHelper } from '../src/threads';

// Caches of >= 2^20 entries get a shared memory whose mass passes a helper thread splits with the
// caller (Node): the sums must be those of one thread (the row sums bit for bit, the class masses up
// to the order of two partial sums) and of the TypeScript reference.
describe.runIf(wasmKernels)('mass passes on two threads (shared wasm memory, Node worker_threads)', () => {
  afterAll(() => setWasmThreads(true));

  it('has a helper thread in Node', () => {
    setWasmThreads(true);
    expect(threadHelper()).toBeDefined();
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype} cache of 2,050 x 600 (1.2 M entries, odd split): equal to one thread and to the reference`, () => {
      const rows = 2050;
      const cols = 600;
      const rng = createRng(3);
      const values = Float64Array.from({ length: rows * cols }, () => Math.exp(-4 * rng.next()));
      const w = Float64Array.from({ length: cols }, () => 0.5 + rng.next());
      const run = (threads: boolean) => {
        setWasmThreads(threads);
        const E = wasmKernels!.allocateCache!(dtype, rows, cols)!;
        E.set(values);
        const out = { sum: new Float64Array(rows), mass: new Float64Array(cols), sq: new Float64Array(cols) };
        wasmKernels!.massPass!(E, rows, cols, w, out.sum, out.mass, out.sq);
        wasmKernels!.releaseCache!(E);
        return out;
      };
      const two = run(true);
      const one = run(false);
      const E = dtype === 'float32' ? Float32Array.from(values) : values;
      const ref = { sum: new Float64Array(rows), mass: new Float64Array(cols), sq: new Float64Array(cols) };
      referenceKernels.massPass!(E, rows, cols, w, ref.sum, ref.mass, ref.sq);
      expect(two.sum).toEqual(one.sum);
      for (let c = 0; c < cols; c++) {
        expect(Math.abs(two.mass[c]! - one.mass[c]!)).toBeLessThanOrEqual(1e-13 * one.mass[c]!);
        expect(Math.abs(two.sq[c]! - one.sq[c]!)).toBeLessThanOrEqual(1e-13 * one.sq[c]!);
        expect(Math.abs(two.mass[c]! - ref.mass[c]!)).toBeLessThanOrEqual(1e-12 * ref.mass[c]!);
      }
      for (let r = 0; r < rows; r++) expect(Math.abs(two.sum[r]! - ref.sum[r]!)).toBeLessThanOrEqual(1e-12 * ref.sum[r]!);
    });
  }
});
