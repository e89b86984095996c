import { createRng, trainLinearProbe, trainLinearProbeAsync, unregisterKernels } from '@gla/core';
import { createNodeRuntime } from '@gla/onnx-node';
import { afterAll, describe, expect, it } from 'vitest';
import { registerOnnxKernels } from '../src/index';

process.env.ORT_DISABLE_TELEMETRY = '1';
const runtime = createNodeRuntime({ threads: 2 });
registerOnnxKernels(runtime);
afterAll(() => unregisterKernels('onnxruntime'));

function problem(N: number, D: number, C: number, seed: number) {
  const rng = createRng(seed);
  const means = Float64Array.from({ length: C * D }, () => rng.normal());
  const data = new Float32Array(N * D);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    labels[i] = i % C;
    for (let d = 0; d < D; d++) data[i * D + d] = (0.3 * means[labels[i]! * D + d]! + rng.normal()) / Math.sqrt(D);
  }
  return { features: { data, rows: N, cols: D }, labels };
}

describe('trainLinearProbeAsync on onnxruntime (MLAS Float32 GEMMs, X kept in the session)', () => {
  it('reaches the Float64 reference optimum: objective within 1e-6 relative, same predictions', async () => {
    const { features, labels } = problem(1200, 64, 12, 3);
    const ref = trainLinearProbe(features, labels, { l2: 1e-3, backend: 'reference' });
    const ort = await trainLinearProbeAsync(features, labels, { l2: 1e-3 });
    expect(ort.backend).toBe('onnxruntime+reference'); // Float32 phase on ORT, Float64 finish on the reference GEMM
    expect(ort.converged).toBe(true);
    expect(ort.gradientNorm).toBeLessThanOrEqual(1e-6);
    expect(ref.converged).toBe(true);
    expect(Math.abs(ort.objective - ref.objective)).toBeLessThanOrEqual(1e-6 * ref.objective);
    const a = ort.logits(features);
    const b = ref.logits(features);
    let agree = 0;
    for (let i = 0; i < features.rows; i++) {
      let ia = 0;
      let ib = 0;
      for (let c = 1; c < 12; c++) {
        if (a.data[i * 12 + c]! > a.data[i * 12 + ia]!) ia = c;
        if (b.data[i * 12 + c]! > b.data[i * 12 + ib]!) ib = c;
      }
      if (ia === ib) agree++;
    }
    expect(agree / features.rows).toBeGreaterThanOrEqual(0.999);
  }, 120_000);
  it('falls back to the synchronous probe for a backend without probeGemmSession', async () => {
    const { features, labels } = problem(200, 16, 4, 4);
    const r = await trainLinearProbeAsync(features, labels, { l2: 1e-2, backend: 'reference' });
    expect(r.backend).toBe('reference');
    expect(r.objective).toBe(trainLinearProbe(features, labels, { l2: 1e-2, backend: 'reference' }).objective);
  });
});
