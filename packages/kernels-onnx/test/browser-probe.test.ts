/// <reference types="node" />
// The linear probe on onnxruntime-web (wasm EP) in headless Chromium: float64 support of the probe
// graphs' ops, backend conformance against the synchronous reference in Node, wasm threads under
// cross-origin isolation. The Node vs Chromium timing is a measurement, not a test:
//   pnpm --filter @gla/kernels-onnx measure:browser   (scripts/browser-probe-measure.mts)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LinearProbe, trainLinearProbe } from '@gla/core';
import { type BrowserSession, CHROMIUM_PATH, openBrowser } from '@gla/tooling/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserProbeArgs, BrowserProbeResult } from './browser-probe-entry';
import { CONFORMANCE_SHAPE, PROBE_OPTIONS, type ProbeShape, probeProblem } from './browser-problem';

const entry = fileURLToPath(new URL('./browser-probe-entry.ts', import.meta.url));

let browser: BrowserSession | undefined;
const inPage = async (args: BrowserProbeArgs, isolated: boolean): Promise<BrowserProbeResult> => {
  browser ??= await openBrowser();
  return (await browser.run({ entry, args, crossOriginIsolated: isolated, timeoutMs: 600_000 })) as BrowserProbeResult;
};
afterAll(async () => {
  await browser?.close();
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/**
 * Predicted classes and accuracy (fraction) of a head (C x D weights, C biases) on rows N .. N + 2000
 * of the generator: the same class means, new noise (the first N rows of the longer draw are the training rows).
 */
function heldOut(shape: ProbeShape, W: ArrayLike<number>, b: ArrayLike<number>): { predicted: Int32Array; accuracy: number } {
  const extra = 2000;
  const { features, labels } = probeProblem({ ...shape, rows: shape.rows + extra });
  const { rows: N, cols: D, classes: C } = shape;
  let hits = 0;
  const predicted = new Int32Array(extra);
  for (let i = N; i < N + extra; i++) {
    let best = 0;
    let bestZ = -Infinity;
    for (let c = 0; c < C; c++) {
      let z = b[c]!;
      for (let d = 0; d < D; d++) z += W[c * D + d]! * features.data[i * D + d]!;
      if (z > bestZ) {
        bestZ = z;
        best = c;
      }
    }
    predicted[i - N] = best;
    if (best === labels[i]) hits++;
  }
  return { predicted, accuracy: hits / extra };
}

describe.skipIf(!existsSync(CHROMIUM_PATH))('linear probe on onnxruntime-web (wasm) in headless Chromium', () => {
  let page: BrowserProbeResult;
  let reference: LinearProbe;
  beforeAll(async () => {
    page = await inPage({ shape: CONFORMANCE_SHAPE, warmup: 0, repeats: 1, threads: 1, probeOps: true, wasmSyncRepeats: 1 }, false);
    const { features, labels } = probeProblem(CONFORMANCE_SHAPE);
    reference = trainLinearProbe(features, labels, { ...PROBE_OPTIONS, backend: 'reference' });
  }, 600_000);

  it('runs every op of the probe and head graphs in float64 on the wasm EP', () => {
    expect(page.ops.map((o) => o.op)).toContain('Gemm(transA)');
    expect(page.ops.filter((o) => !o.ok)).toEqual([]);
    expect(page.ops).toHaveLength(12);
  });

  it('wasm-simd in the page: the synchronous probe and the fused probeSession (caller + a Web Worker) reach the reference optimum (objective to 1e-9)', () => {
    expect(page.wasmSync?.backend).toBe('wasm-simd');
    expect(page.wasmFused?.backend).toBe('wasm-simd(float32+float64)');
    expect(rel(page.wasmSync!.objective, reference.objective)).toBeLessThan(1e-9);
    expect(rel(page.wasmFused!.objective, reference.objective)).toBeLessThan(1e-9);
  });

  it('trains on the Node bytes and reaches the reference optimum (Float32 then Float64 phase; objective to 1e-9, same held-out accuracy)', () => {
    const { features } = probeProblem(CONFORMANCE_SHAPE);
    let h = 0x811c9dc5;
    for (const byte of new Uint8Array(features.data.buffer)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
    expect(page.checksum).toBe(h);
    expect(page.isolated).toBe(false);
    expect(page.threads).toBe(1);
    expect(page.backend).toBe('onnxruntime(float32+float64)');
    expect(page.phases.float32.evaluations).toBeGreaterThan(0);
    expect(page.phases.float64.evaluations).toBeGreaterThan(0);
    expect(page.converged).toBe(true);
    expect(page.gradientNorm).toBeLessThanOrEqual(PROBE_OPTIONS.tolerance);
    expect(reference.converged).toBe(true);
    expect(rel(page.objective, reference.objective)).toBeLessThan(1e-9);
    const W = reference.head.weights.data;
    let dw = 0;
    let sw = 0;
    for (let j = 0; j < W.length; j++) {
      dw = Math.max(dw, Math.abs(page.W[j]! - W[j]!));
      sw = Math.max(sw, Math.abs(W[j]!));
    }
    // Strong convexity (l2 = 1e-4) bounds the weight error by |g| / l2 = 1e-3 (both gradients <= 1e-7).
    expect(dw).toBeLessThan(2e-3);
    expect(dw / sw).toBeLessThan(1e-3);
    const ref = heldOut(CONFORMANCE_SHAPE, W, reference.head.bias);
    expect(ref.accuracy).toBeGreaterThan(0.2);
    expect(ref.accuracy).toBeLessThan(0.95);
    const web = heldOut(CONFORMANCE_SHAPE, page.W, page.b);
    expect(web.accuracy).toBe(ref.accuracy);
    let disagree = 0;
    for (let i = 0; i < ref.predicted.length; i++) if (web.predicted[i] !== ref.predicted[i]) disagree++;
    expect(disagree).toBeLessThanOrEqual(1);
  });

  it('uses 2 wasm threads when the page is cross-origin isolated, with the same optimum', async () => {
    const shape: ProbeShape = { rows: 600, cols: 48, classes: 8, seed: 3 };
    const two = await inPage({ shape, warmup: 0, repeats: 1, threads: 2, probeOps: false }, true);
    expect(two.isolated).toBe(true);
    expect(two.threads).toBe(2);
    const { features, labels } = probeProblem(shape);
    const ref = trainLinearProbe(features, labels, { ...PROBE_OPTIONS, backend: 'reference' });
    expect(two.backend).toBe('onnxruntime(float32+float64)');
    expect(rel(two.objective, ref.objective)).toBeLessThan(1e-9);
  }, 120_000);
});
