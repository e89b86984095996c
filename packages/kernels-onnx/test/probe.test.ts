import {
  applyHead,
  applyHeadAsync,
  createRng,
  type LinearHead,
  type ProbeSession,
  takeLabels,
  takeRows,
  trainCenteredLinearProbe,
  trainCenteredLinearProbeAsync,
  trainLinearProbe,
  trainLinearProbeAsync,
  unregisterKernels,
} from '@gla/core';
import { createNodeRuntime } from '@gla/onnx-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnnxKernels, probeLayout, registerOnnxKernels } from '../src/index';

process.env.ORT_DISABLE_TELEMETRY = '1';
const runtime = createNodeRuntime({ threads: 2 });
registerOnnxKernels(runtime);
afterAll(() => unregisterKernels('onnxruntime'));

function problem(N: number, D: number, C: number, seed: number, offset = 0) {
  const rng = createRng(seed);
  const means = Float64Array.from({ length: C * D }, () => rng.normal());
  const data = new Float32Array(N * D);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % C;
    for (let d = 0; d < D; d++) data[i * D + d] = offset + (0.3 * means[labels[i]! * D + d]! + rng.normal()) / Math.sqrt(D);
  }
  return { features: { data, rows: N, cols: D }, labels };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('fused probe sessions on onnxruntime', () => {
  it('one evaluation equals the Float64 sums (float64 to 1e-12, float32 to 1e-5), over several chunks and a row subset', async () => {
    const { features, labels } = problem(300, 24, 7, 1);
    const D = 24;
    const C = 7;
    const rowIndex = Int32Array.from({ length: 250 }, (_, t) => (t * 13) % 300);
    const rowWeights = Float64Array.from(rowIndex, (i) => (1 + (labels[i]! % 3)) / 250);
    const rng = createRng(2);
    const W = Float64Array.from({ length: C * D }, () => rng.normal());
    const bias = Float64Array.from({ length: C }, () => rng.normal());
    // Reference in Float64.
    const Gr = new Float64Array(C * D);
    const gbr = new Float64Array(C);
    let lr = 0;
    rowIndex.forEach((i, t) => {
      const z = Array.from({ length: C }, (_, c) => {
        let s = bias[c]!;
        for (let d = 0; d < D; d++) s += W[c * D + d]! * features.data[i * D + d]!;
        return s;
      });
      const m = Math.max(...z);
      const se = z.reduce((a, v) => a + Math.exp(v - m), 0);
      lr += rowWeights[t]! * (m + Math.log(se));
      for (let c = 0; c < C; c++) {
        const r = (rowWeights[t]! * Math.exp(z[c]! - m)) / se;
        gbr[c]! += r;
        for (let d = 0; d < D; d++) Gr[c * D + d]! += r * features.data[i * D + d]!;
      }
    });
    // Initializers: 3 sessions of <= 100 rows (84, 84, 82), runs of <= 40 rows per session (3 runs of 28, 28, ...).
    // Inputs: one session per precision, the same budget per run: Float64 over Float32 rows 5 runs of 50
    // (three C-vectors and a cast row per row), over Float64 rows 3 runs of 84, Float32 2 runs of 125.
    const layout = { partBytes: 100 * D * 4, chunkBytes: 3 * 40 * (3 * C * 8) };
    expect(probeLayout(250, D, C, 4, layout.partBytes, layout.chunkBytes)).toEqual({ partRows: 84, chunkRows: 28 });
    const f64 = Float64Array.from(features.data);
    for (const [mode, X] of [
      ['initializer', features.data],
      ['input', features.data],
      ['input', f64],
    ] as const) {
      const backend = createOnnxKernels(runtime, { ...layout, features: mode });
      const session: ProbeSession = await backend.probeSession!({
        features: X,
        rows: 300,
        cols: D,
        rowIndex,
        rowWeights,
        classes: C,
      });
      try {
        // Float32 graphs on the input path sum over rows in Float64: gb and the loss to Float32 resolution.
        const sums32 = mode === 'input' ? 1e-6 : 1e-5;
        for (const [precision, tol, tolSums] of [
          ['float64', 1e-12, 1e-12],
          ['float32', 1e-5, sums32],
        ] as const) {
          const G = new Float64Array(C * D);
          const gb = new Float64Array(C);
          const loss = await session.evaluate(W, bias, precision, G, gb);
          expect(rel(loss, lr), `${mode} ${X.constructor.name} ${precision}`).toBeLessThan(tolSums);
          let dg = 0;
          let sg = 0;
          for (let j = 0; j < C * D; j++) {
            dg = Math.max(dg, Math.abs(G[j]! - Gr[j]!));
            sg = Math.max(sg, Math.abs(Gr[j]!));
          }
          expect(dg / sg).toBeLessThan(tol);
          if (precision === 'float32') expect(dg).toBeGreaterThan(0); // it really ran in Float32
          for (let c = 0; c < C; c++) expect(Math.abs(gb[c]! - gbr[c]!)).toBeLessThan(tolSums);
          // The same point again (the session keeps no state between evaluations).
          const G2 = new Float64Array(C * D);
          const gb2 = new Float64Array(C);
          expect(await session.evaluate(W, bias, precision, G2, gb2)).toBe(loss);
          expect(G2).toEqual(G);
        }
      } finally {
        await session.release();
      }
    }
  }, 60_000);

  it('trainLinearProbeAsync: Float32 then Float64 phase on ORT reaches the synchronous optimum (1e-9 relative)', async () => {
    const { features, labels } = problem(1200, 64, 12, 3);
    const ref = trainLinearProbe(features, labels, {
      l2: 1e-3,
      backend: 'reference',
      tolerance: 1e-7,
    });
    const ort = await trainLinearProbeAsync(features, labels, {
      l2: 1e-3,
      tolerance: 1e-7,
    });
    expect(ort.backend).toBe('onnxruntime(float32+float64)');
    expect(ort.converged).toBe(true);
    expect(ort.gradientNorm).toBeLessThanOrEqual(1e-7);
    expect(ref.converged).toBe(true);
    expect(rel(ort.objective, ref.objective)).toBeLessThan(1e-9);
    const a = ort.logits(features).data;
    const b = ref.logits(features).data;
    let dz = 0;
    for (let j = 0; j < a.length; j++) dz = Math.max(dz, Math.abs(a[j]! - b[j]!));
    expect(dz).toBeLessThan(1e-3);
  }, 120_000);

  it("relativeDecrease (scikit-learn's ftol rule): fewer iterations in the Float64 phase, the objective within 1e-7 of the optimum", async () => {
    const { features, labels } = problem(1500, 48, 10, 8);
    const exact = trainLinearProbe(features, labels, { l2: 1e-3, tolerance: 1e-10, backend: 'reference' });
    const full = await trainLinearProbeAsync(features, labels, { l2: 1e-3, tolerance: 1e-10 });
    const ftol = await trainLinearProbeAsync(features, labels, { l2: 1e-3, tolerance: 1e-10, relativeDecrease: 2.2e-9 });
    expect(ftol.backend).toBe('onnxruntime(float32+float64)');
    expect(ftol.converged).toBe(true);
    expect(ftol.phases?.[1]?.iterations).toBeLessThan(full.phases![1]!.iterations);
    expect(ftol.gradientNorm).toBeGreaterThan(1e-10);
    expect(rel(ftol.objective, exact.objective)).toBeLessThan(1e-7);
    expect(rel(full.objective, exact.objective)).toBeLessThan(1e-10);
  }, 120_000);

  it('centring, rows and class weights on ORT; the coarse tolerance stops after the Float32 phase', async () => {
    const { features, labels } = problem(600, 32, 5, 4, 2);
    const rows = Array.from({ length: 450 }, (_, t) => (t * 7) % 600);
    const classWeights = [1, 2, 1, 0.5, 1];
    const opts = {
      l2: 1e-3,
      tolerance: 1e-7,
      center: true,
      rows,
      classWeights,
      classes: 5,
    };
    const ref = trainLinearProbe(takeRows(features, rows), takeLabels(labels, rows), { ...opts, rows: undefined, backend: 'reference' });
    const ort = await trainLinearProbeAsync(features, labels, opts);
    expect(ort.gradientNorm).toBeLessThanOrEqual(1e-7);
    expect(rel(ort.objective, ref.objective)).toBeLessThan(1e-9);
    const coarse = await trainLinearProbeAsync(features, labels, {
      ...opts,
      tolerance: 1e-4,
    });
    expect(coarse.backend).toBe('onnxruntime(float32)');
    expect(coarse.gradientNorm).toBeLessThanOrEqual(1e-4);
    const h1 = await trainCenteredLinearProbeAsync(features, labels, {
      classes: 5,
      l2: 1e-3,
      tolerance: 1e-8,
      rows,
    });
    const h2 = trainCenteredLinearProbe(features, labels, {
      classes: 5,
      l2: 1e-3,
      tolerance: 1e-8,
      rows,
    });
    const z1 = applyHead(h1, features).data;
    const z2 = applyHead(h2, features).data;
    let dz = 0;
    for (let j = 0; j < z1.length; j++) dz = Math.max(dz, Math.abs(z1[j]! - z2[j]!));
    expect(dz).toBeLessThan(1e-4);
  }, 120_000);

  it('applyHeadAsync on ORT: Float32 features to Float32 precision, Float64 features exact; rows', async () => {
    const { features } = problem(500, 40, 9, 5);
    const rng = createRng(6);
    const head: LinearHead = {
      weights: {
        data: Float64Array.from({ length: 9 * 40 }, () => rng.normal()),
        rows: 9,
        cols: 40,
      },
      bias: Float64Array.from({ length: 9 }, () => rng.normal()),
    };
    const rows = Array.from({ length: 300 }, (_, t) => (t * 3) % 500);
    const expected = applyHead(head, takeRows(features, rows)).data;
    const z = await applyHeadAsync(head, features, { rows });
    let err = 0;
    for (let j = 0; j < z.data.length; j++) err = Math.max(err, Math.abs(z.data[j]! - expected[j]!));
    expect(err).toBeLessThan(1e-4);
    expect(err).toBeGreaterThan(0); // it really ran in Float32
    const f64 = { data: Float64Array.from(features.data), rows: 500, cols: 40 };
    const z64 = await applyHeadAsync(head, f64);
    const e64 = applyHead(head, f64).data;
    for (let j = 0; j < e64.length; j += 97) expect(Math.abs(z64.data[j]! - e64[j]!)).toBeLessThan(1e-12);
  }, 60_000);

  it('falls back to the synchronous probe for a backend without probeSession', async () => {
    const { features, labels } = problem(200, 16, 4, 4);
    const r = await trainLinearProbeAsync(features, labels, {
      l2: 1e-2,
      backend: 'reference',
    });
    expect(r.backend).toBe('reference');
    expect(r.objective).toBe(trainLinearProbe(features, labels, { l2: 1e-2, backend: 'reference' }).objective);
  });
});
