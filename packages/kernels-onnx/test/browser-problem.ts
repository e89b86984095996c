// The deterministic probe problem shared by the Chromium page (browser-probe-entry.ts) and the
// Node side (browser-probe.test.ts), so both train on bit-identical Float32 features.
import {
  createRng,
  type LinearProbe,
  type Matrix,
  type ProbePrecision,
  registerKernels,
  trainLinearProbeAsync,
  unregisterKernels,
} from '@gla/core';
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

/** Timed runs of {@link timedProbeRuns}. */
export interface TimedProbeRuns {
  /** Wall time of each timed run, ms. */
  readonly times: number[];
  /** Wall time of each warm-up run, ms (in Chromium the first ones run before V8 has tiered up ORT's wasm). */
  readonly warmupTimes: number[];
  /** Float32 / Float64 evaluations of the last run (the first of each includes its sessions' creation). */
  readonly phases: Record<ProbePrecision, PhaseTime>;
  /** Session creations (graph building + `runtime.load`) of the last run: ms, count; `ms` is part of the phases' ms. */
  readonly loads: PhaseTime;
  /** Result of the last run. */
  readonly probe: LinearProbe;
}

/**
 * `trainLinearProbeAsync(problem, PROBE_OPTIONS)` on {@link createOnnxKernels}(runtime), registered
 * as 'onnxruntime' for the duration with every `evaluate` timed per precision: `warmup` untimed
 * runs, then `repeats` timed ones (wall time, performance.now()).
 */
export async function timedProbeRuns(runtime: Runtime, shape: ProbeShape, warmup: number, repeats: number): Promise<TimedProbeRuns> {
  if (!(repeats >= 1)) throw new RangeError(`repeats must be >= 1, got ${repeats}`);
  const { features, labels } = probeProblem(shape);
  let phases: Record<ProbePrecision, PhaseTime> = { float32: { ms: 0, evaluations: 0 }, float64: { ms: 0, evaluations: 0 } };
  let loads: PhaseTime = { ms: 0, evaluations: 0 };
  const timedRuntime: Runtime = {
    name: runtime.name,
    async load(source, options) {
      const start = performance.now();
      const session = await runtime.load(source, options);
      loads.ms += performance.now() - start;
      loads.evaluations++;
      return session;
    },
  };
  const inner = createOnnxKernels(timedRuntime);
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
            phases[precision].ms += performance.now() - start;
            phases[precision].evaluations++;
            return loss;
          },
          release: () => session.release(),
        };
      },
    },
    { priority: ONNX_KERNELS_PRIORITY },
  );
  const times: number[] = [];
  const warmupTimes: number[] = [];
  let probe: LinearProbe | undefined;
  try {
    for (let r = 0; r < warmup + repeats; r++) {
      phases = { float32: { ms: 0, evaluations: 0 }, float64: { ms: 0, evaluations: 0 } };
      loads = { ms: 0, evaluations: 0 };
      const start = performance.now();
      probe = await trainLinearProbeAsync(features, labels, PROBE_OPTIONS);
      (r >= warmup ? times : warmupTimes).push(performance.now() - start);
    }
  } finally {
    unregisterKernels('onnxruntime');
  }
  return { times, warmupTimes, phases, loads, probe: probe! };
}
