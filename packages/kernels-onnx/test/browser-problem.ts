// The deterministic probe problem shared by the Chromium page (browser-probe-entry.ts) and the
// Node side (browser-probe.test.ts), so both train on bit-identical Float32 features.
import { createRng, type Matrix, type ProbePrecision, registerKernels } from '@gla/core';
import type { Runtime } from '@gla/runtime';
import { createOnnxKernels, ONNX_KERNELS_PRIORITY } from '../src/index';

/** Shape of a synthetic probe problem: rows N, feature dimension D, classes C, generator seed. */
export interface ProbeShape {
  readonly rows: number;
  readonly cols: number;
  readonly classes: number;
  readonly seed: number;
}

/** Scale of the class means against the unit noise. */
const SIGNAL = 0.5;
/** Fraction of rows with a uniformly random label. */
const LABEL_NOISE = 0.2;

/**
 * Class-mean signal: row i is drawn from class i mod C, features (SIGNAL mu_c + e) / sqrt(D) with
 * mu_c and e standard normal (Float32 N x D, row-major), and its label is that class except for a
 * LABEL_NOISE fraction of rows relabelled uniformly at random. The training rows are not separable,
 * so the L2-regularised optimum is interior and the held-out accuracy is below 100 %.
 */
export function probeProblem(shape: ProbeShape): { features: Matrix & { data: Float32Array }; labels: Int32Array } {
  const { rows: N, cols: D, classes: C } = shape;
  const rng = createRng(shape.seed);
  const means = Float64Array.from({ length: C * D }, () => rng.normal());
  const data = new Float32Array(N * D);
  const labels = new Int32Array(N);
  const scale = 1 / Math.sqrt(D);
  for (let i = 0; i < N; i++) {
    const y = i % C;
    labels[i] = rng.next() < LABEL_NOISE ? rng.int(C) : y;
    for (let d = 0; d < D; d++) data[i * D + d] = (SIGNAL * means[y * D + d]! + rng.normal()) * scale;
  }
  return { features: { data, rows: N, cols: D }, labels };
}

/** Probe options of every run in this suite: the tolerance is below 1e-4, so the Float64 phase runs. */
export const PROBE_OPTIONS = { l2: 1e-4, tolerance: 1e-7 } as const;

/** The conformance problem of the Chromium test (issue 10's suggested size). */
export const CONFORMANCE_SHAPE: ProbeShape = { rows: 4000, cols: 256, classes: 50, seed: 10 };

/** The fortunes-sized problem (7,045 x 512 x 22), synthetic data of that shape. */
export const FORTUNES_SHAPE: ProbeShape = { rows: 7045, cols: 512, classes: 22, seed: 11 };

/** Milliseconds and count of the probe evaluations of one precision. */
export interface PhaseTime {
  ms: number;
  evaluations: number;
}

/**
 * Registers {@link createOnnxKernels}(runtime) as 'onnxruntime' with every `evaluate` timed per
 * precision (wall time, ms), so a run reports its Float32 and Float64 phases separately. Returns
 * the per-precision totals (reset them between runs).
 */
export function registerTimedOnnxKernels(runtime: Runtime): Record<ProbePrecision, PhaseTime> {
  const times: Record<ProbePrecision, PhaseTime> = { float32: { ms: 0, evaluations: 0 }, float64: { ms: 0, evaluations: 0 } };
  const inner = createOnnxKernels(runtime);
  const open = inner.probeSession!;
  registerKernels(
    {
      ...inner,
      async probeSession(problem) {
        const session = await open(problem);
        return {
          async evaluate(W, bias, precision, G, gb) {
            const start = performance.now();
            const loss = await session.evaluate(W, bias, precision, G, gb);
            times[precision].ms += performance.now() - start;
            times[precision].evaluations++;
            return loss;
          },
          release: () => session.release(),
        };
      },
    },
    { priority: ONNX_KERNELS_PRIORITY },
  );
  return times;
}
