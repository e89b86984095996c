import { createRng, type Matrix, trainLinearProbe, trainLinearProbeAsync } from '@gla/core';
import { afterAll, describe, expect, it } from 'vitest';
import { probeWorkerSessions, setWasmThreads, wasmKernels } from '../src/index';

// wasm-simd's fused probeSession (logits, softmax residuals and G = R^T X per block of rows, the
// second half of the rows in a worker) against a direct Float64 evaluation in TypeScript, and
// trainLinearProbeAsync on it against the reference probe.

/** sum_t w_t lse(z_t), G = sum_t w_t p_t x_t^T, gb = sum_t w_t p_t in plain Float64. */
function direct(X: Float32Array | Float64Array, rows: Int32Array, w: Float64Array, D: number, C: number, W: Float64Array, b: Float64Array) {
  const G = new Float64Array(C * D);
  const gb = new Float64Array(C);
  const z = new Float64Array(C);
  let loss = 0;
  for (let t = 0; t < rows.length; t++) {
    const o = rows[t]! * D;
    let m = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < C; c++) {
      let s = b[c]!;
      for (let d = 0; d < D; d++) s += W[c * D + d]! * X[o + d]!;
      z[c] = s;
      m = Math.max(m, s);
    }
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(z[c]! - m);
    loss += w[t]! * (m + Math.log(s));
    for (let c = 0; c < C; c++) {
      const r = (w[t]! * Math.exp(z[c]! - m)) / s;
      gb[c]! += r;
      for (let d = 0; d < D; d++) G[c * D + d]! += r * X[o + d]!;
    }
  }
  return { loss, G, gb };
}

describe.runIf(wasmKernels)('wasm-simd probeSession', () => {
  afterAll(() => setWasmThreads(true));
  const maxRel = (got: Float64Array, want: Float64Array) => {
    let scale = 0;
    let err = 0;
    for (let j = 0; j < want.length; j++) {
      scale = Math.max(scale, Math.abs(want[j]!));
      err = Math.max(err, Math.abs(got[j]! - want[j]!));
    }
    return err / scale;
  };

  // Shapes off every vector width and tile (rows % 4, D % 16 / 8 / 4, C odd), one row, one class,
  // and one large enough for the worker (n D C >= 2^22) with rows not a multiple of the block.
  const shapes = [
    { N: 1, n: 1, D: 3, C: 1 },
    { N: 9, n: 7, D: 5, C: 3 },
    { N: 40, n: 37, D: 19, C: 7 },
    { N: 300, n: 257, D: 33, C: 11 },
    { N: 3000, n: 2999, D: 129, C: 17 },
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const { N, n, D, C } of shapes)
      for (const threads of [true, false])
        it(`${dtype} ${n} of ${N} rows x ${D}, ${C} classes, worker ${threads ? 'allowed' : 'off'}: equals the direct Float64 sums`, async () => {
          setWasmThreads(threads);
          const rng = createRng(N + D + C);
          const X = dtype === 'float32' ? new Float32Array(N * D) : new Float64Array(N * D);
          for (let j = 0; j < X.length; j++) X[j] = rng.normal();
          const rows = Int32Array.from({ length: n }, (_, t) => (t * 7 + 3) % N);
          const w = Float64Array.from({ length: n }, () => rng.next() * (rng.next() < 0.1 ? 0 : 1));
          const W = Float64Array.from({ length: C * D }, () => 0.3 * rng.normal());
          const b = Float64Array.from({ length: C }, () => rng.normal());
          const want = direct(X, rows, w, D, C, W, b);
          const before = probeWorkerSessions();
          const session = await wasmKernels!.probeSession!({ features: X, rows: N, cols: D, classes: C, rowIndex: rows, rowWeights: w });
          // Only the largest shape has enough work per evaluation for the worker.
          expect(probeWorkerSessions() - before).toBe(threads && n * D * C >= 1 << 22 ? 1 : 0);
          try {
            for (const precision of ['float64', 'float32'] as const) {
              const G = new Float64Array(C * D).fill(Number.NaN);
              const gb = new Float64Array(C).fill(Number.NaN);
              const loss = await session.evaluate(W, b, precision, G, gb);
              // Float32 products summed in Float32 (only over Float32 rows; Float64 rows run in Float64).
              const tol = precision === 'float32' && dtype === 'float32' ? 2e-5 : 1e-12;
              expect(Math.abs(loss - want.loss)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want.loss)));
              expect(maxRel(G, want.G)).toBeLessThan(tol);
              expect(maxRel(gb, want.gb)).toBeLessThan(tol);
            }
          } finally {
            await session.release();
          }
        });

  it('trainLinearProbeAsync with and without the worker reaches the reference optimum (objective to 1e-9)', async () => {
    const N = 3000;
    const D = 64;
    const C = 40;
    const rng = createRng(4);
    const means = Float64Array.from({ length: C * D }, () => rng.normal());
    const data = new Float32Array(N * D);
    const labels = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      labels[i] = rng.next() < 0.2 ? rng.int(C) : i % C;
      for (let d = 0; d < D; d++) data[i * D + d] = (0.5 * means[(i % C) * D + d]! + rng.normal()) / 8;
    }
    const X: Matrix = { data, rows: N, cols: D };
    const options = { l2: 1e-4, tolerance: 1e-7 };
    setWasmThreads(false);
    const before = probeWorkerSessions();
    const one = await trainLinearProbeAsync(X, labels, { ...options, backend: 'wasm-simd' });
    expect(probeWorkerSessions()).toBe(before);
    setWasmThreads(true);
    const two = await trainLinearProbeAsync(X, labels, { ...options, backend: 'wasm-simd' });
    expect(probeWorkerSessions()).toBe(before + 1);
    const ref = trainLinearProbe(X, labels, { ...options, backend: 'reference' });
    for (const r of [one, two]) {
      expect(r.backend).toBe('wasm-simd(float32+float64)');
      expect(r.converged).toBe(true);
      expect(Math.abs(r.objective - ref.objective) / ref.objective).toBeLessThan(1e-9);
    }
  });
});
